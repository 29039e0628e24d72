#pragma once
// layer_norm and group_norm with fused forward and backward passes.
//
// Both normalise independent rows of a contiguous tensor and then apply a
// per-channel affine map; they differ only in what a row is:
//   layer_norm  x [..., D1..Dk] over the trailing k dims: a row is one
//               position's D1·…·Dk values, each its own channel;
//   group_norm  x [N, C, *] with G groups: a row is the C/G channels of one
//               group of one sample times every spatial position, which is
//               a contiguous block, so row r belongs to group r mod G.
// The forward pass saves each row's mean and 1/sqrt(var + eps) (biased
// variance, as PyTorch), in double, for the backward pass.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "vgt/autograd/node.hpp"
#include "vgt/core/dispatch.hpp"
#include "vgt/core/macros.hpp"
#include "vgt/core/parallel.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/cuda/tensor_ops.hpp"
#include "vgt/ops/view.hpp"

namespace vgt {

namespace kernels {

/// x − mean in T, with the mean split into T-sized high and low parts so
/// that a mean far larger than the spread (a float mean of 1000 has an ulp
/// of 6e-5) still cancels exactly.
template <class T>
struct CenteredValue {
    T high, low;
    VGT_HOST_DEVICE explicit CenteredValue(double mean)
        : high(static_cast<T>(mean)), low(static_cast<T>(mean - static_cast<double>(static_cast<T>(mean)))) {}
    VGT_HOST_DEVICE T operator()(T x) const { return (x - high) - low; }
};

/// Σ term(i) for i < n, accumulated in double over kLanes independent
/// partial sums: a single running sum is one chain of dependent additions
/// that neither pipelines nor vectorises.
template <class Term>
VGT_HOST_DEVICE double lane_sum(std::int64_t n, Term term) {
    constexpr int kLanes = 8;
    double lane[kLanes] = {};
    std::int64_t i = 0;
    for (; i + kLanes <= n; i += kLanes)
        for (int u = 0; u < kLanes; ++u) lane[u] += term(i + u);
    double total = 0;
    for (; i < n; ++i) total += term(i);
    for (int u = 0; u < kLanes; ++u) total += lane[u];
    return total;
}

/// Normalises one row of `channels`·`span` values (channel-major: channel cl
/// owns x[cl·span, (cl+1)·span)) and applies y = x̂·w[cl] + b[cl]. Writes
/// the row's mean and 1/sqrt(var + eps).
struct NormalizeRow {
    double eps;
    template <class T>
    VGT_HOST_DEVICE void operator()(const T* x, T* y, std::int64_t channels, std::int64_t span, const T* w,
                                    const T* b, double& mean_out, double& rstd_out) const {
        const std::int64_t n = channels * span;
        // Two passes: the one-pass E[x²] − E[x]² loses everything when the
        // mean is large compared with the spread.
        const double total = lane_sum(n, [x](std::int64_t i) { return static_cast<double>(x[i]); });
        const double mean = total / static_cast<double>(n);
        const double squares = lane_sum(n, [x, mean](std::int64_t i) {
            const double d = static_cast<double>(x[i]) - mean;
            return d * d;
        });
        const double rstd = 1.0 / std::sqrt(squares / static_cast<double>(n) + eps);
        mean_out = mean;
        rstd_out = rstd;
        const CenteredValue<T> centered(mean);
        if (span == 1) {  // layer_norm: one value per channel
            const T r = static_cast<T>(rstd);
            for (std::int64_t i = 0; i < n; ++i) y[i] = centered(x[i]) * r * w[i] + b[i];
            return;
        }
        for (std::int64_t cl = 0; cl < channels; ++cl) {
            const T scale = static_cast<T>(rstd * static_cast<double>(w[cl]));
            const T shift = b[cl];
            const T* xr = x + cl * span;
            T* yr = y + cl * span;
            for (std::int64_t s = 0; s < span; ++s) yr[s] = centered(xr[s]) * scale + shift;
        }
    }
};

/// dL/dx for one row normalised by NormalizeRow, given the upstream g:
///   dx = rstd · (ĝ − mean(ĝ) − x̂ · mean(ĝ ⊙ x̂)),  ĝ = g ⊙ w.
struct NormalizeRowBackward {
    template <class T>
    VGT_HOST_DEVICE void operator()(const T* x, const T* g, T* dx, std::int64_t channels, std::int64_t span,
                                    const T* w, double mean, double rstd) const {
        const CenteredValue<T> centered(mean);
        double sum_g = 0, sum_gx = 0;  // Σ ĝ and Σ ĝ ⊙ (x − mean)
        if (span == 1) {
            sum_g = lane_sum(channels, [g, w](std::int64_t i) { return static_cast<double>(g[i] * w[i]); });
            sum_gx = lane_sum(channels, [g, w, x, centered](std::int64_t i) {
                return static_cast<double>(g[i] * w[i]) * static_cast<double>(centered(x[i]));
            });
        } else {
            for (std::int64_t cl = 0; cl < channels; ++cl) {
                const T* xr = x + cl * span;
                const T* gr = g + cl * span;
                const double wc = w[cl];
                sum_g += wc * lane_sum(span, [gr](std::int64_t s) { return static_cast<double>(gr[s]); });
                sum_gx += wc * lane_sum(span, [gr, xr, centered](std::int64_t s) {
                    return static_cast<double>(gr[s]) * static_cast<double>(centered(xr[s]));
                });
            }
        }
        const double n = static_cast<double>(channels * span);
        const double r = rstd;
        const T shift = static_cast<T>(-r * sum_g / n);
        const T slope = static_cast<T>(-r * r * r * sum_gx / n);
        if (span == 1) {
            const T rt = static_cast<T>(r);
            for (std::int64_t i = 0; i < channels; ++i) dx[i] = rt * w[i] * g[i] + shift + slope * centered(x[i]);
            return;
        }
        for (std::int64_t cl = 0; cl < channels; ++cl) {
            const T scale = static_cast<T>(r * static_cast<double>(w[cl]));
            const T* xr = x + cl * span;
            const T* gr = g + cl * span;
            T* out = dx + cl * span;
            for (std::int64_t s = 0; s < span; ++s) out[s] = scale * gr[s] + shift + slope * centered(xr[s]);
        }
    }
};

}  // namespace kernels

namespace detail {

/// `rows` rows of `channels_per_row`·`span` contiguous values; row r uses
/// the affine channels [(r mod groups)·channels_per_row, +channels_per_row).
struct NormLayout {
    std::int64_t rows = 0;
    std::int64_t channels_per_row = 0;
    std::int64_t span = 1;
    std::int64_t groups = 1;
    std::int64_t row_size() const { return channels_per_row * span; }
    std::int64_t channels() const { return groups * channels_per_row; }
};

/// The layout in the CUDA backend's terms.
inline cuda::NormRows cuda_rows(const NormLayout& layout) {
    return {layout.rows, layout.channels_per_row, layout.span, layout.groups};
}

struct NormResult {
    Tensor out;
    Tensor mean;  // [rows], float64
    Tensor rstd;  // [rows], float64
};

/// Forward pass over contiguous x; w and b are contiguous [channels]. Records nothing.
inline NormResult normalize_rows(const Tensor& x, const NormLayout& layout, const Tensor& w, const Tensor& b,
                                 double eps, std::string_view op) {
    NormResult r;
    r.out = Tensor::empty(x.shape(), x.dtype(), x.device());
    r.mean = Tensor::empty(Shape{layout.rows}, DType::Float64, x.device());
    r.rstd = Tensor::empty(Shape{layout.rows}, DType::Float64, x.device());
    if (layout.row_size() == 0) return r;
    if (!x.device().is_cpu()) {
        cuda::normalize_rows(x, cuda_rows(layout), w, b, eps, r.out, r.mean, r.rstd, op);
        return r;
    }
    dispatch_floating(x, op, [&]<class T>() {
        const T* px = x.data<T>();
        T* py = r.out.data<T>();
        double* pm = r.mean.data<double>();
        double* ps = r.rstd.data<double>();
        const T* pw = w.data<T>();
        const T* pb = b.data<T>();
        const kernels::NormalizeRow body{eps};
        const std::int64_t n = layout.row_size();
        parallel_for(layout.rows, [&](std::int64_t row) {
            const std::int64_t base = (row % layout.groups) * layout.channels_per_row;
            body(px + row * n, py + row * n, layout.channels_per_row, layout.span, pw + base, pb + base, pm[row],
                 ps[row]);
        }, std::max<std::int64_t>(1, 16384 / n));
    });
    return r;
}

/// Gradients {dx, dw, db} of normalize_rows (dw, db flat [channels]); an
/// entry is undefined when not wanted. x, g, w contiguous, w [channels]. Records nothing.
inline std::vector<Tensor> normalize_rows_backward(const Tensor& x, const Tensor& g, const Tensor& w,
                                                   const Tensor& mean, const Tensor& rstd, const NormLayout& layout,
                                                   bool need_x, bool need_w, bool need_b, std::string_view op) {
    Tensor dx, dw, db;
    if (need_x) dx = Tensor::zeros(x.shape(), x.dtype(), x.device());
    if (need_w) dw = Tensor::zeros(Shape{layout.channels()}, x.dtype(), x.device());
    if (need_b) db = Tensor::zeros(Shape{layout.channels()}, x.dtype(), x.device());
    if (layout.row_size() == 0 || layout.rows == 0) return {dx, dw, db};
    if (!x.device().is_cpu()) {
        cuda::normalize_rows_gradients(x, g, w, mean, rstd, cuda_rows(layout), dx, dw, db, op);
        return {dx, dw, db};
    }
    dispatch_floating(x, op, [&]<class T>() {
        const T* px = x.data<T>();
        const T* pg = g.data<T>();
        const double* pm = mean.data<double>();
        const double* ps = rstd.data<double>();
        const T* pw = w.data<T>();
        const std::int64_t n = layout.row_size();
        if (need_x) {
            T* pdx = dx.data<T>();
            const kernels::NormalizeRowBackward body;
            parallel_for(layout.rows, [&](std::int64_t row) {
                const std::int64_t base = (row % layout.groups) * layout.channels_per_row;
                body(px + row * n, pg + row * n, pdx + row * n, layout.channels_per_row, layout.span, pw + base,
                     pm[row], ps[row]);
            }, std::max<std::int64_t>(1, 16384 / n));
        }
        if (need_w || need_b) {
            // dw[c] = Σ g ⊙ x̂ and db[c] = Σ g over every row using channel c.
            // Each task owns a tile of adjacent channels of one group, so no
            // two threads write one channel and the sums are deterministic.
            T* pdw = need_w ? dw.data<T>() : nullptr;
            T* pdb = need_b ? db.data<T>() : nullptr;
            constexpr std::int64_t kTile = 64;
            const std::int64_t per_row = layout.channels_per_row;
            const std::int64_t tile = std::clamp<std::int64_t>(kTile / layout.span, 1, per_row);
            const std::int64_t tiles_per_group = (per_row + tile - 1) / tile;
            const std::int64_t samples = layout.rows / layout.groups;
            parallel_for(layout.groups * tiles_per_group, [&](std::int64_t item) {
                const std::int64_t group = item / tiles_per_group;
                const std::int64_t c0 = (item % tiles_per_group) * tile;
                const std::int64_t width = std::min(tile, per_row - c0);
                double acc_w[kTile] = {};
                double acc_b[kTile] = {};
                for (std::int64_t s = 0; s < samples; ++s) {
                    const std::int64_t row = s * layout.groups + group;
                    const kernels::CenteredValue<T> centered(pm[row]);
                    const double r = ps[row];
                    if (layout.span == 1) {  // layer_norm: vectorises across the tile
                        const T* gr = pg + row * n + c0;
                        const T* xr = px + row * n + c0;
                        for (std::int64_t c = 0; c < width; ++c) {
                            acc_w[c] += static_cast<double>(gr[c]) * static_cast<double>(centered(xr[c])) * r;
                            acc_b[c] += static_cast<double>(gr[c]);
                        }
                        continue;
                    }
                    for (std::int64_t c = 0; c < width; ++c) {
                        const T* gr = pg + row * n + (c0 + c) * layout.span;
                        const T* xr = px + row * n + (c0 + c) * layout.span;
                        if (pdw)
                            acc_w[c] += r * kernels::lane_sum(layout.span, [gr, xr, centered](std::int64_t k) {
                                return static_cast<double>(gr[k]) * static_cast<double>(centered(xr[k]));
                            });
                        if (pdb)
                            acc_b[c] += kernels::lane_sum(
                                layout.span, [gr](std::int64_t k) { return static_cast<double>(gr[k]); });
                    }
                }
                const std::int64_t channel0 = group * per_row + c0;
                for (std::int64_t c = 0; c < width; ++c) {
                    if (pdw) pdw[channel0 + c] = static_cast<T>(acc_w[c]);
                    if (pdb) pdb[channel0 + c] = static_cast<T>(acc_b[c]);
                }
            }, 1);
        }
    });
    return {dx, dw, db};
}

/// Runs normalize_rows on (x, weight, bias) and records the fused backward;
/// weight and bias (if defined) hold `layout.channels()` values in any shape.
inline Tensor normalize_op(const Tensor& x, const Tensor& weight, const Tensor& bias, const NormLayout& layout,
                           double eps, const char* op) {
    const Tensor xc = contiguous_data(x);
    // A missing weight or bias is 1 or 0, so the kernels have one form.
    const Shape channels{layout.channels()};
    const Tensor wc = weight.defined() ? contiguous_data(weight) : Tensor::ones(channels, x.dtype(), x.device());
    const Tensor bc = bias.defined() ? contiguous_data(bias) : Tensor::zeros(channels, x.dtype(), x.device());
    NormResult r = normalize_rows(xc, layout, wc, bc, eps, op);
    if (!autograd::any_requires_grad({x, weight, bias})) return r.out;
    const bool need_x = x.requires_grad();
    const bool need_w = weight.defined() && weight.requires_grad();
    const bool need_b = bias.defined() && bias.requires_grad();
    const Shape w_shape = weight.defined() ? weight.shape() : Shape{};
    const Shape b_shape = bias.defined() ? bias.shape() : Shape{};
    Tensor x_saved = detach(xc);
    Tensor w_saved = detach(wc);
    Tensor mean = r.mean, rstd = r.rstd;
    return autograd::record(r.out, op, {x, weight, bias}, [=](const Tensor& g) {
        std::vector<Tensor> grads = normalize_rows_backward(x_saved, contiguous_data(g), w_saved, mean, rstd, layout,
                                                            need_x, need_w, need_b, op);
        if (grads[1].defined()) grads[1] = reshape(grads[1], w_shape);
        if (grads[2].defined()) grads[2] = reshape(grads[2], b_shape);
        return grads;
    });
}

inline void check_affine(const Tensor& x, const Tensor& p, const Shape& expected, const char* what, const char* op) {
    if (!p.defined()) return;
    VGT_CHECK(p.shape() == expected, op, "expected {} of shape {}, found {}", what, expected, p.shape());
    VGT_CHECK(p.dtype() == x.dtype(), op, "expected {} of dtype {} like the input, found {}", what,
              dtype_name(x.dtype()), dtype_name(p.dtype()));
}

}  // namespace detail

/// Layer normalisation over the trailing dimensions `normalized_shape` of x
/// (as PyTorch's F.layer_norm): each position's values are shifted to mean
/// 0 and scaled to variance 1 (biased), then y = x̂ ⊙ weight + bias.
/// weight and bias have shape `normalized_shape`; either may be undefined
/// (Tensor{}) to leave it out.
inline Tensor layer_norm(const Tensor& x, const Shape& normalized_shape, const Tensor& weight = {},
                         const Tensor& bias = {}, double eps = 1e-5) {
    const char* op = "layer_norm";
    const int k = normalized_shape.rank();
    VGT_CHECK(k >= 1 && k <= x.rank(), op, "expected 1 to {} normalised dimensions for input of shape {}, found {}",
              x.rank(), x.shape(), normalized_shape);
    for (int i = 0; i < k; ++i)
        VGT_CHECK(x.size(x.rank() - k + i) == normalized_shape[i], op,
                  "expected input whose trailing dimensions are {}, found shape {}", normalized_shape, x.shape());
    VGT_CHECK(eps >= 0, op, "expected a non-negative eps, found {}", eps);
    detail::check_affine(x, weight, normalized_shape, "weight", op);
    detail::check_affine(x, bias, normalized_shape, "bias", op);
    detail::NormLayout layout;
    layout.channels_per_row = normalized_shape.numel();
    layout.rows = layout.channels_per_row == 0 ? 0 : x.numel() / layout.channels_per_row;
    return detail::normalize_op(x, weight, bias, layout, eps, op);
}

/// Group normalisation of x [N, C, *] (as PyTorch's F.group_norm): the C
/// channels are split into `groups` groups of C/groups, and each group of
/// each sample is normalised over its channels and all of its spatial
/// positions; then y = x̂ ⊙ weight[c] + bias[c] with weight, bias of shape
/// [C] (either may be undefined).
///
/// Video blocks call it on frames folded into the batch, [B·T, C, H, W], so
/// that statistics are taken per frame and never across time: statistics
/// over T would let later frames leak into a causal block.
inline Tensor group_norm(const Tensor& x, std::int64_t groups, const Tensor& weight = {}, const Tensor& bias = {},
                         double eps = 1e-5) {
    const char* op = "group_norm";
    VGT_CHECK(x.rank() >= 2, op, "expected input of shape [N, C, *], found {}", x.shape());
    const std::int64_t channels = x.size(1);
    VGT_CHECK(groups >= 1 && channels % groups == 0, op,
              "expected a number of groups that divides the {} channels of input {}, found {}", channels, x.shape(),
              groups);
    VGT_CHECK(eps >= 0, op, "expected a non-negative eps, found {}", eps);
    detail::check_affine(x, weight, Shape{channels}, "weight", op);
    detail::check_affine(x, bias, Shape{channels}, "bias", op);
    detail::NormLayout layout;
    layout.groups = groups;
    layout.channels_per_row = channels / groups;
    layout.span = 1;
    for (int i = 2; i < x.rank(); ++i) layout.span *= x.size(i);
    layout.rows = x.size(0) * groups;
    return detail::normalize_op(x, weight, bias, layout, eps, op);
}

}  // namespace vgt
