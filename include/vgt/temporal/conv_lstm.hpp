#pragma once
// ConvLSTM (Shi et al. 2015): a convolutional LSTM run over the frames of a
// video, t = 0 … T−1, as a residual temporal mixer y = x + g(x).
//
// On h = GroupNorm(x) (per frame), with 3×3 convolutions (pad 1) ∗ and
// per-channel peepholes w:
//   i_t = σ(W_xi∗h_t + W_hi∗H_{t−1} + w_i⊙C_{t−1} + b_i)
//   f_t = σ(W_xf∗h_t + W_hf∗H_{t−1} + w_f⊙C_{t−1} + b_f)
//   C_t = f_t⊙C_{t−1} + i_t⊙tanh(W_xc∗h_t + W_hc∗H_{t−1} + b_c)
//   o_t = σ(W_xo∗h_t + W_ho∗H_{t−1} + w_o⊙C_t + b_o)
//   H_t = o_t⊙tanh(C_t),   H_{−1} = C_{−1} = 0
//   g_t = Conv1x1(H_t)
// The hidden state has C channels, so frame t's output depends on frames
// ≤ t only: the block is causal.
//
// Parameters (PyTorch-style names; gate order i, f, c (cell candidate), o
// along the 4C axis, so one convolution computes all four gates):
//   norm.weight [C], norm.bias [C]            GroupNorm (1 and 0)
//   input_conv.weight [4C, C, 3, 3]           W_x, fan-in uniform
//   input_conv.bias [4C]                      b, fan-in uniform; forget part [C, 2C) set to 1
//   hidden_conv.weight [4C, C, 3, 3]          W_h, fan-in uniform, no bias (b covers it)
//   peephole_input [C], peephole_forget [C], peephole_output [C]   w_i, w_f, w_o, zero
//   out.weight [C, C, 1, 1], out.bias [C]     zero, so that the block starts as the identity
//
// The input convolution of every frame runs as one batched conv before the
// recurrence; only the hidden convolution is sequential. On the CPU the
// recurrence is one operation with its own backward through time
// (ops/conv_lstm_recurrence.hpp); forward_stepwise runs it op by op, as on
// CUDA, and is the definition the fused one is tested against.

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "vgt/autograd/node.hpp"
#include "vgt/core/error.hpp"
#include "vgt/core/random.hpp"
#include "vgt/core/shape.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/nn/conv.hpp"
#include "vgt/nn/group_norm.hpp"
#include "vgt/nn/init.hpp"
#include "vgt/nn/parameters.hpp"
#include "vgt/ops/conv.hpp"
#include "vgt/ops/conv_lstm_recurrence.hpp"
#include "vgt/ops/elementwise.hpp"
#include "vgt/ops/join.hpp"
#include "vgt/ops/view.hpp"
#include "vgt/temporal/block_concepts.hpp"
#include "vgt/temporal/layout.hpp"
#include "vgt/temporal/options.hpp"

namespace vgt::temporal {

class ConvLSTM {
public:
    static constexpr std::string_view name = "ConvLSTM";

    ConvLSTM(const MixerOptions& options, Generator& gen) : channels_(options.channels) {
        const std::int64_t c = options.channels;
        VGT_CHECK(c >= 1, "ConvLSTM", "expected a positive channel count, found {}", c);
        const std::int64_t groups = options.norm_groups == 0 ? nn::default_norm_groups(c) : options.norm_groups;
        VGT_CHECK(groups >= 1 && c % groups == 0, "ConvLSTM", "expected norm groups dividing {} channels, found {}", c,
                  groups);
        norm = nn::GroupNorm(groups, c, options.dtype);
        const ConvOptions same_3x3{.padding = {1}};
        input_conv = nn::Conv(c, 4 * c, {3, 3}, same_3x3, gen, options.dtype);
        hidden_conv = nn::Conv(c, 4 * c, {3, 3}, same_3x3, gen, options.dtype, /*with_bias=*/false);
        {
            // A forget gate that starts open keeps the cell's memory early in training.
            NoGradGuard no_grad;
            slice(detach(input_conv.bias), 0, c, 2 * c).fill_(1.0);
        }
        peephole_input = nn::zeros_parameter(Shape{c}, options.dtype);
        peephole_forget = nn::zeros_parameter(Shape{c}, options.dtype);
        peephole_output = nn::zeros_parameter(Shape{c}, options.dtype);
        out = nn::Conv(c, c, {1, 1}, ConvOptions{}, gen, options.dtype);
        out.zero_();
    }

    Tensor forward(const Tensor& video) const {
        if (!video.device().is_cpu()) return forward_stepwise(video);
        const VideoShape v = check_input(video);
        const Tensor h = norm.forward(fold_frames(video));
        const Tensor states = conv_lstm_recurrence(h, v.batch, input_conv.weight, input_conv.bias, hidden_conv.weight,
                                                   peephole_input, peephole_forget, peephole_output);
        return video + unfold_frames(out.forward(states), v.batch);
    }

    /// The same block with the recurrence written op by op (every device).
    Tensor forward_stepwise(const Tensor& video) const {
        const VideoShape v = check_input(video);
        const Tensor h = norm.forward(fold_frames(video));
        const Tensor input_gates = unfold_frames(input_conv.forward(h), v.batch);  // [B, T, 4C, H, W]
        const Shape per_channel{1, channels_, 1, 1};
        const Tensor w_i = reshape(peephole_input, per_channel);
        const Tensor w_f = reshape(peephole_forget, per_channel);
        const Tensor w_o = reshape(peephole_output, per_channel);

        std::vector<Tensor> hidden_states;
        hidden_states.reserve(static_cast<std::size_t>(v.frames));
        Tensor hidden, cell;
        for (std::int64_t t = 0; t < v.frames; ++t) {
            Tensor gates = select(input_gates, 1, t);  // [B, 4C, H, W]
            // H_{−1} = C_{−1} = 0: the hidden conv, the peepholes on C_{t−1}
            // and the forget term vanish at t = 0 and are skipped there.
            if (t > 0) gates = gates + hidden_conv.forward(hidden);
            const std::vector<Tensor> parts = chunk(gates, 4, 1);
            Tensor input_pre = parts[0], forget_pre = parts[1];
            if (t > 0) {
                input_pre = input_pre + w_i * cell;
                forget_pre = forget_pre + w_f * cell;
            }
            const Tensor input_gate = sigmoid(input_pre);
            const Tensor candidate = tanh(parts[2]);
            cell = t > 0 ? sigmoid(forget_pre) * cell + input_gate * candidate : input_gate * candidate;
            const Tensor output_gate = sigmoid(parts[3] + w_o * cell);
            hidden = output_gate * tanh(cell);
            hidden_states.push_back(hidden);
        }
        const Tensor states = stack(hidden_states, 1);  // [B, T, C, H, W]
        return video + unfold_frames(out.forward(fold_frames(states)), v.batch);
    }

    std::int64_t params() const { return nn::count_parameters(*this); }

    /// Forward FLOPs of the convolutions (multiply-add = 2): the input conv
    /// on all T frames, the hidden conv on the T − 1 frames that have a
    /// previous hidden state (H_{−1} = 0 is not convolved), the 1×1 output
    /// conv on all frames. GroupNorm and the point-wise gate arithmetic are
    /// not counted.
    double flops(const Shape& video) const {
        VGT_CHECK(video.rank() == 5, "ConvLSTM::flops", "expected a video shape [B, T, C, H, W], found {}", video);
        const std::int64_t frame_pixels = video[0] * video[3] * video[4];
        const std::int64_t frames = video[1];
        return input_conv.flops(frame_pixels * frames) +
               hidden_conv.flops(frame_pixels * std::max<std::int64_t>(frames - 1, 0)) +
               out.flops(frame_pixels * frames);
    }

    bool is_causal() const { return true; }

    void visit_parameters(const nn::ParameterVisitor& visit, const std::string& prefix) {
        norm.visit_parameters(visit, nn::join_name(prefix, "norm"));
        input_conv.visit_parameters(visit, nn::join_name(prefix, "input_conv"));
        hidden_conv.visit_parameters(visit, nn::join_name(prefix, "hidden_conv"));
        visit(nn::join_name(prefix, "peephole_input"), peephole_input);
        visit(nn::join_name(prefix, "peephole_forget"), peephole_forget);
        visit(nn::join_name(prefix, "peephole_output"), peephole_output);
        out.visit_parameters(visit, nn::join_name(prefix, "out"));
    }

    nn::GroupNorm norm;
    nn::Conv input_conv;
    nn::Conv hidden_conv;
    Tensor peephole_input;
    Tensor peephole_forget;
    Tensor peephole_output;
    nn::Conv out;

private:
    VideoShape check_input(const Tensor& video) const {
        const VideoShape v = VideoShape::of(video, "ConvLSTM");
        VGT_CHECK(v.channels == channels_, "ConvLSTM", "expected a video [B, T, {}, H, W], found shape {}", channels_,
                  video.shape());
        VGT_CHECK(video.dtype() == norm.weight.dtype(), "ConvLSTM", "expected a video of dtype {}, found {}",
                  dtype_name(norm.weight.dtype()), dtype_name(video.dtype()));
        VGT_CHECK(v.frames >= 1 && v.height >= 1 && v.width >= 1, "ConvLSTM",
                  "expected at least one frame of at least one pixel, found shape {}", video.shape());
        return v;
    }

    std::int64_t channels_;
};

static_assert(check_temporal_mixer<ConvLSTM>());

}  // namespace vgt::temporal
