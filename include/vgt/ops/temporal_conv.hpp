#pragma once
// temporal_conv: a 1-d convolution along the frames of a video
// [B, T, C, H, W], with a Conv1d's weight [out, C, k] and bias [out]:
//
//   y[b, t] = bias + Σ_j weight[:, :, j] · x[b, t + j·dilation − pad_before]
//
// (frames outside the video are zero). It equals conv1d on the pixel signals
// [B·H·W, C, T], but works on the video's own layout, where every frame
// x[b, t] already is a contiguous [C, H·W] matrix: each term is one GEMM as
// wide as a frame, with no unfolding and no permuted copies of the video to
// and from the signal layout (which cost more than the arithmetic at T = 8).

#include <algorithm>
#include <cstdint>
#include <vector>

#include <Eigen/Core>

#include "vgt/autograd/node.hpp"
#include "vgt/core/dispatch.hpp"
#include "vgt/core/error.hpp"
#include "vgt/core/parallel.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/ops/conv.hpp"
#include "vgt/ops/gemm.hpp"
#include "vgt/ops/pad.hpp"
#include "vgt/ops/view.hpp"

namespace vgt {

struct TemporalConvOptions {
    std::int64_t dilation = 1;
    std::int64_t pad_before = 0;  // zero frames before frame 0
    std::int64_t pad_after = 0;   // zero frames after the last
};

namespace detail {

struct TemporalConvGeometry {
    std::int64_t batch = 0, frames = 0, in_channels = 0, out_channels = 0, pixels = 0;
    std::int64_t kernel = 0, dilation = 1, pad_before = 0, out_frames = 0;

    /// The input frame that output frame `to` reads through tap j, or −1 in the padding.
    std::int64_t source(std::int64_t to, std::int64_t j) const {
        const std::int64_t t = to + j * dilation - pad_before;
        return t >= 0 && t < frames ? t : -1;
    }
    std::int64_t in_frame_size() const { return in_channels * pixels; }
    std::int64_t out_frame_size() const { return out_channels * pixels; }
};

inline TemporalConvGeometry temporal_conv_geometry(const Tensor& x, const Tensor& weight, const Tensor& bias,
                                                   const TemporalConvOptions& o) {
    constexpr const char* op = "temporal_conv";
    VGT_CHECK(x.rank() == 5, op, "expected a video [B, T, C, H, W], found shape {}", x.shape());
    VGT_CHECK(weight.rank() == 3 && weight.size(1) == x.size(2), op,
              "expected a weight [out, {}, k] for a video with {} channels, found shape {}", x.size(2), x.size(2),
              weight.shape());
    VGT_CHECK(weight.dtype() == x.dtype(), op, "expected the weight in the video's dtype {}, found {}",
              dtype_name(x.dtype()), dtype_name(weight.dtype()));
    if (bias.defined())
        VGT_CHECK(bias.rank() == 1 && bias.size(0) == weight.size(0) && bias.dtype() == x.dtype(), op,
                  "expected a bias [{}] of dtype {}, found {} {}", weight.size(0), dtype_name(x.dtype()),
                  dtype_name(bias.dtype()), bias.shape());
    VGT_CHECK(o.dilation >= 1 && o.pad_before >= 0 && o.pad_after >= 0, op,
              "expected dilation >= 1 and padding >= 0, found dilation {}, padding {} before and {} after",
              o.dilation, o.pad_before, o.pad_after);
    TemporalConvGeometry g;
    g.batch = x.size(0);
    g.frames = x.size(1);
    g.in_channels = x.size(2);
    g.pixels = x.size(3) * x.size(4);
    g.out_channels = weight.size(0);
    g.kernel = weight.size(2);
    g.dilation = o.dilation;
    g.pad_before = o.pad_before;
    g.out_frames = g.frames + o.pad_before + o.pad_after - o.dilation * (g.kernel - 1);
    VGT_CHECK(g.kernel >= 1 && g.out_frames >= 1, op,
              "expected at least one output frame, found {} frames (+{} +{} padding) for a kernel of {} taps "
              "with dilation {}",
              g.frames, o.pad_before, o.pad_after, g.kernel, o.dilation);
    return g;
}

/// The weight [out, in, k] as k contiguous tap matrices [k, out, in].
template <class T>
std::vector<T> tap_matrices(const TemporalConvGeometry& g, const T* weight) {
    std::vector<T> taps(static_cast<std::size_t>(g.kernel * g.out_channels * g.in_channels));
    for (std::int64_t o = 0; o < g.out_channels; ++o)
        for (std::int64_t c = 0; c < g.in_channels; ++c)
            for (std::int64_t j = 0; j < g.kernel; ++j)
                taps[static_cast<std::size_t>((j * g.out_channels + o) * g.in_channels + c)] =
                    weight[(o * g.in_channels + c) * g.kernel + j];
    return taps;
}

template <class T>
void temporal_conv_forward(const TemporalConvGeometry& g, const T* x, const T* weight, const T* bias, T* y) {
    const std::vector<T> taps = tap_matrices(g, weight);
    parallel_for(g.batch * g.out_frames, [&](std::int64_t task) {
        const std::int64_t b = task / g.out_frames, to = task % g.out_frames;
        T* out = y + task * g.out_frame_size();
        for (std::int64_t o = 0; o < g.out_channels; ++o)
            std::fill(out + o * g.pixels, out + (o + 1) * g.pixels, bias ? bias[o] : T(0));
        for (std::int64_t j = 0; j < g.kernel; ++j) {
            const std::int64_t t = g.source(to, j);
            if (t < 0) continue;
            const auto w = MatrixOperand<T>::rows_of(taps.data() + j * g.out_channels * g.in_channels,
                                                     g.out_channels, g.in_channels);
            const auto frame =
                MatrixOperand<T>::rows_of(x + (b * g.frames + t) * g.in_frame_size(), g.in_channels, g.pixels);
            gemm(w, frame, out, g.pixels, true);
        }
    }, 1);
}

/// grad_x[b, t] = Σ over the taps j and output frames `to` that read frame t of weight_jᵀ · grad_y[b, to].
template <class T>
void temporal_conv_grad_input(const TemporalConvGeometry& g, const T* weight, const T* gy, T* gx) {
    const std::vector<T> taps = tap_matrices(g, weight);
    parallel_for(g.batch * g.frames, [&](std::int64_t task) {
        const std::int64_t b = task / g.frames, t = task % g.frames;
        T* out = gx + task * g.in_frame_size();
        std::fill(out, out + g.in_frame_size(), T(0));
        for (std::int64_t j = 0; j < g.kernel; ++j) {
            const std::int64_t to = t + g.pad_before - j * g.dilation;
            if (to < 0 || to >= g.out_frames) continue;
            const auto w = MatrixOperand<T>::rows_of(taps.data() + j * g.out_channels * g.in_channels,
                                                     g.out_channels, g.in_channels);
            const auto grad = MatrixOperand<T>::rows_of(gy + (b * g.out_frames + to) * g.out_frame_size(),
                                                        g.out_channels, g.pixels);
            gemm(w.transposed(), grad, out, g.pixels, true);
        }
    }, 1);
}

/// grad_weight[:, :, j] = Σ over (b, to) of grad_y[b, to] · x[b, source(to, j)]ᵀ. Each thread sums
/// a fixed run of output frames into its own tap matrices; the runs are added in order, so the
/// result does not depend on scheduling.
template <class T>
void temporal_conv_grad_weight(const TemporalConvGeometry& g, const T* x, const T* gy, T* gw) {
    const std::int64_t tasks = g.batch * g.out_frames;
    const std::int64_t runs = std::clamp<std::int64_t>(tasks, 1, num_threads());
    const std::int64_t tap_size = g.out_channels * g.in_channels;
    std::vector<std::vector<T>> partial(static_cast<std::size_t>(runs),
                                        std::vector<T>(static_cast<std::size_t>(g.kernel * tap_size), T(0)));
    parallel_for(runs, [&](std::int64_t run) {
        T* sums = partial[static_cast<std::size_t>(run)].data();
        const std::int64_t lo = run * tasks / runs, hi = (run + 1) * tasks / runs;
        for (std::int64_t task = lo; task < hi; ++task) {
            const std::int64_t b = task / g.out_frames, to = task % g.out_frames;
            const auto grad = MatrixOperand<T>::rows_of(gy + task * g.out_frame_size(), g.out_channels, g.pixels);
            for (std::int64_t j = 0; j < g.kernel; ++j) {
                const std::int64_t t = g.source(to, j);
                if (t < 0) continue;
                const auto frame =
                    MatrixOperand<T>::rows_of(x + (b * g.frames + t) * g.in_frame_size(), g.in_channels, g.pixels);
                gemm(grad, frame.transposed(), sums + j * tap_size, g.in_channels, true);
            }
        }
    }, 1);
    for (std::int64_t o = 0; o < g.out_channels; ++o)
        for (std::int64_t c = 0; c < g.in_channels; ++c)
            for (std::int64_t j = 0; j < g.kernel; ++j) {
                const auto at = static_cast<std::size_t>(j * tap_size + o * g.in_channels + c);
                T sum = T(0);
                for (const std::vector<T>& p : partial) sum += p[at];
                gw[(o * g.in_channels + c) * g.kernel + j] = sum;
            }
}

template <class T>
void temporal_conv_grad_bias(const TemporalConvGeometry& g, const T* gy, T* gb) {
    parallel_for(g.out_channels, [&](std::int64_t o) {
        T sum = T(0);
        for (std::int64_t frame = 0; frame < g.batch * g.out_frames; ++frame)
            sum += Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>(gy + frame * g.out_frame_size() + o * g.pixels,
                                                                        g.pixels)
                       .sum();
        gb[o] = sum;
    }, 1);
}

}  // namespace detail

/// Convolution along the frames of `video` [B, T, C, H, W] with a Conv1d
/// weight [out, C, k] and optional bias [out]; returns [B, T_out, out, H, W]
/// with T_out = T + pad_before + pad_after − dilation·(k − 1).
inline Tensor temporal_conv(const Tensor& video, const Tensor& weight, const Tensor& bias = {},
                            const TemporalConvOptions& options = {}) {
    constexpr const char* op = "temporal_conv";
    const detail::TemporalConvGeometry g = detail::temporal_conv_geometry(video, weight, bias, options);
    if (!video.device().is_cpu()) {
        // Off the CPU: conv1d on the pixel signals [B·H·W, C, T], and back.
        const Tensor signals =
            reshape(permute(video, {0, 3, 4, 2, 1}), Shape{g.batch * g.pixels, g.in_channels, g.frames});
        const Tensor y = conv1d(pad(signals, {options.pad_before, options.pad_after}), weight, bias,
                                ConvOptions{.dilation = {options.dilation}});
        const Tensor frames = reshape(y, Shape{g.batch, video.size(3), video.size(4), g.out_channels, g.out_frames});
        return contiguous(permute(frames, {0, 4, 3, 1, 2}));
    }
    const Tensor xc = detail::contiguous_data(video);
    const Tensor wc = detail::contiguous_data(weight);
    const Tensor bc = bias.defined() ? detail::contiguous_data(bias) : Tensor{};
    Tensor y = Tensor::empty(Shape{g.batch, g.out_frames, g.out_channels, video.size(3), video.size(4)},
                             video.dtype());
    dispatch_floating(video, op, [&]<class T>() {
        detail::temporal_conv_forward<T>(g, xc.data<T>(), wc.data<T>(), bc.defined() ? bc.data<T>() : nullptr,
                                         y.data<T>());
    });
    if (!autograd::any_requires_grad({video, weight, bias})) return y;

    const bool need_x = video.requires_grad();
    const bool need_w = weight.requires_grad();
    const bool need_b = bias.defined() && bias.requires_grad();
    const Tensor x_saved = need_w ? detach(xc) : Tensor{};
    const Tensor w_saved = need_x ? detach(wc) : Tensor{};
    const Shape x_shape = video.shape(), w_shape = weight.shape();
    return autograd::record(y, op, {video, weight, bias}, [=](const Tensor& grad) {
        const Tensor gy = detail::contiguous_data(grad);
        Tensor gx, gw, gb;
        dispatch_floating(gy, op, [&]<class T>() {
            if (need_x) {
                gx = Tensor::empty(x_shape, gy.dtype());
                detail::temporal_conv_grad_input<T>(g, w_saved.data<T>(), gy.data<T>(), gx.data<T>());
            }
            if (need_w) {
                gw = Tensor::empty(w_shape, gy.dtype());
                detail::temporal_conv_grad_weight<T>(g, x_saved.data<T>(), gy.data<T>(), gw.data<T>());
            }
            if (need_b) {
                gb = Tensor::empty(Shape{g.out_channels}, gy.dtype());
                detail::temporal_conv_grad_bias<T>(g, gy.data<T>(), gb.data<T>());
            }
        });
        return std::vector<Tensor>{gx, gw, gb};
    });
}

}  // namespace vgt
