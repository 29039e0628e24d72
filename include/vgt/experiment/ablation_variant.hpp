#pragma once
// One model of an ablation: a VideoUNet type and the name a config picks it
// by. The name defaults to the UNet's conv stage and temporal mixer (with the
// mixer's position policy when it has one):
//
//   Variant<VideoUNet<Conv3D, NoMixer>>                           "Conv3D+NoMixer"
//   Variant<VideoUNet<FrameConv, TemporalAttention<RoPE>>>        "FrameConv+TemporalAttention<RoPE>"
//   Variant<VideoUNet<FrameConv, MyMixer>, "mine">                "mine"

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "vgt/experiment/unet_model.hpp"
#include "vgt/position/position_policy.hpp"

namespace vgt::experiment {

/// A string literal as a template argument.
template <std::size_t N>
struct FixedString {
    char text[N]{};
    constexpr FixedString(const char (&literal)[N]) { std::copy_n(literal, N, text); }
    constexpr std::string_view view() const { return {text, N - 1}; }
};

namespace detail {

template <class Mixer>
struct MixerLabel {
    static std::string get() { return std::string(Mixer::name); }
};

/// An attention mixer: its name and, unless it has none, its position policy.
template <template <class> class Attention, position::PositionPolicy Pos>
struct MixerLabel<Attention<Pos>> {
    static std::string get() {
        std::string label(Attention<Pos>::name);
        if (Pos::name != position::NoPosition::name) label += fmt::format("<{}>", Pos::name);
        return label;
    }
};

}  // namespace detail

/// "Stage+Mixer" or "Stage+Mixer<Position>" of a VideoUNet type.
template <class UNet>
std::string unet_label() {
    return fmt::format("{}+{}", UNet::ConvStage::name, detail::MixerLabel<typename UNet::TemporalMixer>::get());
}

template <class UNet, FixedString Name = "">
struct Variant {
    using unet_type = UNet;
    static std::string name() { return Name.view().empty() ? unet_label<UNet>() : std::string(Name.view()); }
    static UNetFactory factory() { return unet_factory<UNet>(name()); }
};

}  // namespace vgt::experiment
