#pragma once
// Gen-1's content conditioning (Esser et al. 2023): a reference frame
// [B, C, H, W] becomes K tokens [B, K, d] that the denoiser's cross-attention
// reads as it reads text tokens. Gen-1 uses a frozen CLIP image embedding;
// this encoder is small and trained with the model instead:
//
//   h_0 = SiLU(conv_0(frame))                 3×3, stride 1, padding 1
//   h_i = SiLU(conv_i(h_{i−1}))               3×3, stride 2, padding 1 (i ≥ 1)
//   g   = mean of h_last over H, W           [B, channels.back()]
//   out = reshape(to_tokens(g), [B, K, d])    one linear map to K·d values
//
// Each stride-2 conv halves H and W (rounding up), so any frame size works.
//
// Parameters (c_i = channels[i]): convs.<i>.weight [c_i, c_{i−1}, 3, 3]
// (c_{−1} = in_channels), convs.<i>.bias [c_i], to_tokens.weight
// [K·d, c_last], to_tokens.bias [K·d]; initialised as PyTorch's Conv2d and
// Linear.

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "vgt/core/dispatch.hpp"
#include "vgt/core/error.hpp"
#include "vgt/core/random.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/nn/conv.hpp"
#include "vgt/nn/linear.hpp"
#include "vgt/nn/parameters.hpp"
#include "vgt/ops/elementwise.hpp"
#include "vgt/ops/reduce.hpp"
#include "vgt/ops/view.hpp"

namespace vgt::models {

struct ContentEncoderOptions {
    std::int64_t in_channels = 3;
    std::vector<std::int64_t> channels = {32, 64, 128};  // one 3×3 conv each; all but the first halve H and W
    std::int64_t tokens = 4;                             // K
    std::int64_t width = 256;                            // d, the cross-attention's context width

    /// Throws vgt::Error naming the first option out of its range.
    void validate() const {
        constexpr const char* op = "ContentEncoderOptions";
        VGT_CHECK(in_channels >= 1, op, "expected a positive in_channels, found {}", in_channels);
        VGT_CHECK(!channels.empty(), op, "expected at least one conv (channels not empty), found none");
        for (std::size_t i = 0; i < channels.size(); ++i)
            VGT_CHECK(channels[i] >= 1, op, "expected positive channels, found {} at position {}", channels[i], i);
        VGT_CHECK(tokens >= 1, op, "expected a positive number of tokens, found {}", tokens);
        VGT_CHECK(width >= 1, op, "expected a positive width, found {}", width);
    }
};

template <class Visitor>
void visit_fields(Visitor& v, ContentEncoderOptions& o) {
    v("in_channels", o.in_channels);
    v("channels", o.channels);
    v("tokens", o.tokens);
    v("width", o.width);
}

class ContentEncoder {
public:
    ContentEncoder(const ContentEncoderOptions& options, Generator& gen, DType dtype = DType::Float32)
        : options_((options.validate(), options)), dtype_(dtype) {
        std::int64_t in = options_.in_channels;
        for (std::size_t i = 0; i < options_.channels.size(); ++i) {
            ConvOptions conv;
            conv.padding = {1};
            conv.stride = {i == 0 ? 1 : 2};
            convs.emplace_back(in, options_.channels[i], std::vector<std::int64_t>{3, 3}, conv, gen, dtype);
            in = options_.channels[i];
        }
        to_tokens = nn::Linear(in, options_.tokens * options_.width, gen, dtype);
    }

    /// frame [B, in_channels, H, W] (finite) → tokens [B, K, d].
    Tensor forward(const Tensor& frame) const {
        constexpr const char* op = "ContentEncoder";
        VGT_CHECK(frame.rank() == 4 && frame.size(1) == options_.in_channels, op,
                  "expected a reference frame [B, {}, H, W], found shape {}", options_.in_channels, frame.shape());
        VGT_CHECK(frame.size(2) >= 1 && frame.size(3) >= 1, op, "expected a frame of at least 1 × 1, found shape {}",
                  frame.shape());
        VGT_CHECK(frame.dtype() == dtype_, op, "expected a {} frame, found {}", dtype_name(dtype_),
                  dtype_name(frame.dtype()));
        require_finite(frame);
        Tensor h = frame;
        for (const nn::Conv& conv : convs) h = silu(conv.forward(h));
        const Tensor pooled = mean(h, {2, 3});  // [B, c_last]
        return reshape(to_tokens.forward(pooled), Shape{frame.size(0), options_.tokens, options_.width});
    }

    const ContentEncoderOptions& options() const { return options_; }
    DType dtype() const { return dtype_; }

    void visit_parameters(const nn::ParameterVisitor& visit, const std::string& prefix) {
        for (std::size_t i = 0; i < convs.size(); ++i)
            convs[i].visit_parameters(visit, nn::join_name(prefix, "convs." + std::to_string(i)));
        to_tokens.visit_parameters(visit, nn::join_name(prefix, "to_tokens"));
    }

    std::vector<nn::Conv> convs;
    nn::Linear to_tokens;

private:
    /// A NaN or Inf pixel would reach every token through the pooling.
    static void require_finite(const Tensor& frame) {
        const Tensor values = vgt::detail::contiguous_data(frame);
        dispatch_floating(values, "ContentEncoder", [&]<class T>() {
            const T* p = values.data<T>();
            for (std::int64_t i = 0; i < values.numel(); ++i)
                VGT_CHECK(std::isfinite(p[i]), "ContentEncoder", "expected finite pixel values, found {} at element {}",
                          p[i], i);
        });
    }

    ContentEncoderOptions options_;
    DType dtype_;
};

}  // namespace vgt::models
