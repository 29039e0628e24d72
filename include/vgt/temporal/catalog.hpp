#pragma once
// The blocks compiled into vgt's programs, looked up by name. A model type is
// a compile-time choice; a config or command line names one of these, and
// the visitor is instantiated for the matching type. Unknown names are an
// error that lists the valid ones.
//
//   visit_conv_stage("Conv3D", [&]<class Stage>() { ... });
//   visit_mixer("DirectedAttention", "RoPE", [&]<class Mixer>() { ... });

#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <vector>

#include <fmt/format.h>

#include "vgt/core/error.hpp"
#include "vgt/position/all.hpp"
#include "vgt/temporal/adapter_conv2d.hpp"
#include "vgt/temporal/conv2plus1d.hpp"
#include "vgt/temporal/conv3d_stage.hpp"
#include "vgt/temporal/conv_lstm.hpp"
#include "vgt/temporal/directed_attention.hpp"
#include "vgt/temporal/flow_warp.hpp"
#include "vgt/temporal/frame_conv.hpp"
#include "vgt/temporal/frame_delta.hpp"
#include "vgt/temporal/no_mixer.hpp"
#include "vgt/temporal/spatiotemporal_attention.hpp"
#include "vgt/temporal/tcn.hpp"
#include "vgt/temporal/temporal_attention.hpp"

namespace vgt::temporal {

using AllConvStages = std::tuple<FrameConv, Conv3D, Conv2Plus1D, AdapterConv2D>;

/// Mixers without a position policy.
using PlainMixers = std::tuple<NoMixer, ConvLSTM, FlowWarp, TCN, FrameDelta>;

/// Attention mixers, each instantiated with every position policy.
template <class Pos>
using AttentionMixers = std::tuple<TemporalAttention<Pos>, DirectedAttention<Pos>, SpatioTemporalAttention<Pos>>;

namespace detail {

template <class Tuple, class F>
void for_each_type(F&& f) {
    [&]<std::size_t... I>(std::index_sequence<I...>) {
        (f.template operator()<std::tuple_element_t<I, Tuple>>(), ...);
    }(std::make_index_sequence<std::tuple_size_v<Tuple>>{});
}

template <class Tuple>
std::vector<std::string> type_names() {
    std::vector<std::string> names;
    for_each_type<Tuple>([&]<class T>() { names.emplace_back(T::name); });
    return names;
}

inline std::string joined(const std::vector<std::string>& names) {
    std::string out;
    for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
    return out;
}

/// Finds `name` in the type list and calls f.template operator()<T>().
template <class Tuple, class F>
bool visit_named(std::string_view name, F&& f) {
    bool found = false;
    for_each_type<Tuple>([&]<class T>() {
        if (!found && T::name == name) {
            found = true;
            f.template operator()<T>();
        }
    });
    return found;
}

}  // namespace detail

inline std::vector<std::string> conv_stage_names() { return detail::type_names<AllConvStages>(); }
inline std::vector<std::string> position_names() { return detail::type_names<position::AllPositions>(); }
inline std::vector<std::string> attention_mixer_names() {
    return detail::type_names<AttentionMixers<position::NoPosition>>();
}
inline std::vector<std::string> mixer_names() {
    std::vector<std::string> names = detail::type_names<PlainMixers>();
    for (const auto& n : attention_mixer_names()) names.push_back(n);
    return names;
}

inline bool takes_position(std::string_view mixer) {
    for (const auto& n : attention_mixer_names())
        if (n == mixer) return true;
    return false;
}

template <class F>
void visit_conv_stage(std::string_view name, F&& f) {
    if (!detail::visit_named<AllConvStages>(name, f))
        throw Error(fmt::format("conv stage: expected one of {}, found '{}'", detail::joined(conv_stage_names()), name));
}

template <class F>
void visit_position(std::string_view name, F&& f) {
    if (!detail::visit_named<position::AllPositions>(name, f))
        throw Error(
            fmt::format("position policy: expected one of {}, found '{}'", detail::joined(position_names()), name));
}

/// `position` is required to be empty or "NoPosition" for mixers without attention.
template <class F>
void visit_mixer(std::string_view name, std::string_view position, F&& f) {
    if (takes_position(name)) {
        visit_position(position.empty() ? std::string_view("NoPosition") : position, [&]<class Pos>() {
            detail::visit_named<AttentionMixers<Pos>>(name, f);
        });
        return;
    }
    if (!position.empty() && position != position::NoPosition::name)
        throw Error(fmt::format("mixer {}: expected no position policy (only {} take one), found '{}'", name,
                                detail::joined(attention_mixer_names()), position));
    if (!detail::visit_named<PlainMixers>(name, f))
        throw Error(fmt::format("mixer: expected one of {}, found '{}'", detail::joined(mixer_names()), name));
}

}  // namespace vgt::temporal
