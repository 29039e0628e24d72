#pragma once
// Sequential<A, B, ...>: temporal mixers applied one after another, itself a
// temporal mixer, so that a model slot takes a combination the same way it
// takes one block (e.g. a FrameDelta followed by a FlowWarp).
//
// Every part is built from the same MixerOptions. Parameters are named by
// position like PyTorch's nn.Sequential: "0.norm.weight", "1.fuse.bias", ….
// The name lists the parts, "Sequential<FrameDelta,FlowWarp>", and is a
// compile-time constant like every block's. params() and flops() are the
// parts' sums; the combination is causal when every part is, and the
// identity at initialisation when every part is. It takes an external flow
// (forward(video, flow)) or an embedding (forward_conditioned) when a part
// does, and gives it to those parts; the others run forward(video).

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>

#include "vgt/core/error.hpp"
#include "vgt/core/random.hpp"
#include "vgt/core/shape.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/nn/parameters.hpp"
#include "vgt/temporal/block_concepts.hpp"
#include "vgt/temporal/layout.hpp"
#include "vgt/temporal/no_mixer.hpp"
#include "vgt/temporal/options.hpp"

namespace vgt::temporal {

namespace detail {

/// "Sequential<" + the parts' names joined by "," + ">", as a
/// null-terminated array built at compile time.
template <class... Parts>
struct SequentialName {
    static constexpr std::string_view prefix = "Sequential<";
    static constexpr std::size_t length = [] {
        std::size_t n = prefix.size() + 1 + (sizeof...(Parts) > 0 ? sizeof...(Parts) - 1 : 0);
        ((n += std::string_view(Parts::name).size()), ...);
        return n;
    }();
    static constexpr std::array<char, length + 1> chars = [] {
        std::array<char, length + 1> out{};
        std::size_t at = 0;
        const auto append = [&](std::string_view s) {
            for (char c : s) out[at++] = c;
        };
        append(prefix);
        bool first = true;
        const auto part = [&](std::string_view s) {
            if (!first) append(",");
            first = false;
            append(s);
        };
        (part(Parts::name), ...);
        append(">");
        return out;
    }();
    static constexpr std::string_view value{chars.data(), length};
};

}  // namespace detail

template <TemporalMixer... Mixers>
class Sequential {
    static_assert(sizeof...(Mixers) >= 1, "vgt Sequential: name at least one temporal mixer");

public:
    static constexpr std::string_view name = detail::SequentialName<Mixers...>::value;
    static constexpr std::size_t size = sizeof...(Mixers);

    // Braced initialisation builds the parts left to right, so each draws its
    // weights from `gen` in order.
    Sequential(const MixerOptions& options, Generator& gen) : parts_{Mixers(options, gen)...} {}

    Tensor forward(const Tensor& video) const {
        VideoShape::of(video, name.data());
        return forward_from<0>(video, Tensor{}, Tensor{});
    }

    /// The parts in order, the embedding given to those that take one.
    Tensor forward_conditioned(const Tensor& video, const Tensor& embedding) const
        requires(TakesEmbedding<Mixers> || ...)
    {
        VideoShape::of(video, name.data());
        return forward_from<0>(video, embedding, Tensor{});
    }

    /// The parts in order, the external flow given to those that take one.
    Tensor forward(const Tensor& video, const Tensor& flow) const
        requires(TakesFlow<Mixers> || ...)
    {
        VideoShape::of(video, name.data());
        return forward_from<0>(video, Tensor{}, flow);
    }

    /// Part I (for tests and for inspecting a trained combination).
    template <std::size_t I>
    const auto& part() const {
        return std::get<I>(parts_);
    }
    template <std::size_t I>
    auto& part() {
        return std::get<I>(parts_);
    }

    std::int64_t params() const { return nn::count_parameters(*this); }

    double flops(const Shape& video) const {
        return std::apply([&](const auto&... p) { return (0.0 + ... + static_cast<double>(p.flops(video))); },
                          parts_);
    }

    bool is_causal() const {
        return std::apply([](const auto&... p) { return (true && ... && temporal::is_causal(p)); }, parts_);
    }

    void visit_parameters(const nn::ParameterVisitor& visit, const std::string& prefix) {
        visit_from(visit, prefix, std::index_sequence_for<Mixers...>{});
    }

private:
    /// Parts I… on x, each given the flow or the embedding when it takes
    /// one and it is defined, else forward(x).
    template <std::size_t I>
    Tensor forward_from(const Tensor& x, const Tensor& embedding, const Tensor& flow) const {
        if constexpr (I == sizeof...(Mixers)) {
            return x;
        } else {
            using Part = std::tuple_element_t<I, std::tuple<Mixers...>>;
            const Part& part = std::get<I>(parts_);
            const auto next = [&](const Tensor& y) { return forward_from<I + 1>(y, embedding, flow); };
            if constexpr (TakesFlow<Part>)
                if (flow.defined()) return next(part.forward(x, flow));
            if constexpr (TakesEmbedding<Part>)
                if (embedding.defined()) return next(part.forward_conditioned(x, embedding));
            return next(part.forward(x));
        }
    }

    template <std::size_t... I>
    void visit_from(const nn::ParameterVisitor& visit, const std::string& prefix, std::index_sequence<I...>) {
        (std::get<I>(parts_).visit_parameters(visit, nn::join_name(prefix, std::to_string(I))), ...);
    }

    std::tuple<Mixers...> parts_;
};

static_assert(check_temporal_mixer<Sequential<NoMixer>>());

}  // namespace vgt::temporal
