#pragma once
// The two slots a temporal block can fill, as concepts, and checks that say
// what a user's own block lacks. A model takes its blocks as template
// arguments and asserts
//     static_assert(vgt::temporal::check_temporal_mixer<Mixer>());
// so a block missing a member fails with one readable line instead of a
// template backtrace.
//
// A conv stage maps [B, T, Cin, H, W] → [B, T, Cout, H, W]; a temporal mixer
// maps [B, T, C, H, W] → the same shape as y = x + g(x). Both need:
//   static constexpr std::string_view name;
//   Block(const Options&, Generator&);                  (ConvStageOptions / MixerOptions)
//   Tensor forward(const Tensor& video) const;
//   std::int64_t params() const;                        (number of scalar parameters)
//   double flops(const Shape& video) const;             (forward FLOPs for an input shape)
//   void visit_parameters(const nn::ParameterVisitor&, const std::string& prefix);
// and may have `bool is_causal() const` (false when absent). A mixer that
// can be given an optical flow instead of estimating its own (FlowWarp) has
//   Tensor forward(const Tensor& video, const Tensor& flow) const;
// with flow [B, T, 2, Hf, Wf] as flow/flow_field.hpp lays it out. A mixer
// that can be conditioned on an embedding (FlowWarp built with
// MixerOptions::embedding_dim > 0) has
//   Tensor forward_conditioned(const Tensor& video, const Tensor& embedding) const;
// with embedding [B, D] or [B, T, D].

#include <concepts>
#include <cstdint>
#include <string>
#include <string_view>

#include "vgt/core/random.hpp"
#include "vgt/core/shape.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/nn/parameters.hpp"
#include "vgt/temporal/options.hpp"

namespace vgt::temporal {

namespace detail {

template <class B>
concept HasName = requires {
    { B::name } -> std::convertible_to<std::string_view>;
};

template <class B>
concept HasVideoForward = requires(const B& b, const Tensor& video) {
    { b.forward(video) } -> std::same_as<Tensor>;
};

template <class B>
concept HasCost = requires(const B& b, const Shape& shape) {
    { b.params() } -> std::convertible_to<std::int64_t>;
    { b.flops(shape) } -> std::convertible_to<double>;
};

template <class B>
concept HasCausality = requires(const B& b) {
    { b.is_causal() } -> std::convertible_to<bool>;
};

}  // namespace detail

template <class B>
concept ConvStage = detail::HasName<B> && std::constructible_from<B, const ConvStageOptions&, Generator&> &&
                    detail::HasVideoForward<B> && detail::HasCost<B> && nn::HasParameters<B>;

template <class B>
concept TemporalMixer = detail::HasName<B> && std::constructible_from<B, const MixerOptions&, Generator&> &&
                        detail::HasVideoForward<B> && detail::HasCost<B> && nn::HasParameters<B>;

/// A mixer that takes an external optical flow beside the video.
template <class B>
concept TakesFlow = requires(const B& b, const Tensor& video, const Tensor& flow) {
    { b.forward(video, flow) } -> std::same_as<Tensor>;
};

/// A mixer that takes a conditioning embedding beside the video.
template <class B>
concept TakesEmbedding = requires(const B& b, const Tensor& video, const Tensor& embedding) {
    { b.forward_conditioned(video, embedding) } -> std::same_as<Tensor>;
};

/// Whether frame t of the block's output depends only on frames ≤ t.
template <class B>
bool is_causal(const B& block) {
    if constexpr (detail::HasCausality<B>)
        return block.is_causal();
    else
        return false;
}

template <class B>
constexpr bool check_conv_stage() {
    static_assert(detail::HasName<B>,
                  "vgt conv stage: add `static constexpr std::string_view name = \"MyStage\";`");
    static_assert(std::constructible_from<B, const ConvStageOptions&, Generator&>,
                  "vgt conv stage: add a constructor `MyStage(const vgt::temporal::ConvStageOptions&, "
                  "vgt::Generator&)`");
    static_assert(detail::HasVideoForward<B>,
                  "vgt conv stage: add `vgt::Tensor forward(const vgt::Tensor& video) const` mapping "
                  "[B, T, Cin, H, W] to [B, T, Cout, H, W]");
    static_assert(detail::HasCost<B>,
                  "vgt conv stage: add `std::int64_t params() const` and `double flops(const vgt::Shape& video) "
                  "const` (forward FLOPs, multiply-add = 2)");
    static_assert(nn::HasParameters<B>,
                  "vgt conv stage: add `void visit_parameters(const vgt::nn::ParameterVisitor&, const "
                  "std::string& prefix)` naming every parameter");
    return ConvStage<B>;
}

template <class B>
constexpr bool check_temporal_mixer() {
    static_assert(detail::HasName<B>,
                  "vgt temporal mixer: add `static constexpr std::string_view name = \"MyMixer\";`");
    static_assert(std::constructible_from<B, const MixerOptions&, Generator&>,
                  "vgt temporal mixer: add a constructor `MyMixer(const vgt::temporal::MixerOptions&, "
                  "vgt::Generator&)`");
    static_assert(detail::HasVideoForward<B>,
                  "vgt temporal mixer: add `vgt::Tensor forward(const vgt::Tensor& video) const` returning "
                  "x + g(x) with the shape of x, [B, T, C, H, W]");
    static_assert(detail::HasCost<B>,
                  "vgt temporal mixer: add `std::int64_t params() const` and `double flops(const vgt::Shape& "
                  "video) const` (forward FLOPs, multiply-add = 2)");
    static_assert(nn::HasParameters<B>,
                  "vgt temporal mixer: add `void visit_parameters(const vgt::nn::ParameterVisitor&, const "
                  "std::string& prefix)` naming every parameter");
    return TemporalMixer<B>;
}

}  // namespace vgt::temporal
