#pragma once
// The ConvLSTM recurrence (temporal/conv_lstm.hpp) as one CPU operation with
// its own backward through time.
//
// Op by op, every step of the recurrence slices its gates out of the batched
// input convolution and chunks them four ways, and each slice's backward
// writes a zero-filled tensor of the whole source: T steps touch T times the
// gate tensor. Here the gate pre-activations live in one buffer, the gates
// of a step are computed in one pass over it, and the backward walks the
// steps in reverse, writing each step's gate gradients into one buffer. The
// convolutions that do not depend on the previous step run once over all
// frames: the input convolution forward, and every weight gradient and the
// input gradient backward. Only the hidden convolution of each step (its
// forward, and the input gradient that carries the state back a step) is
// sequential.
//
// With h [B·T, C, H, W] (frame b·T + t), gate order i, f, c, o along 4C:
//   pre_t  = W_x ∗ h_t + b + W_h ∗ H_{t−1}              (3×3, padding 1)
//   i = σ(pre_i + w_i ⊙ C_{t−1}),  f = σ(pre_f + w_f ⊙ C_{t−1}),  g = tanh(pre_c)
//   C_t = f ⊙ C_{t−1} + i ⊙ g,     o = σ(pre_o + w_o ⊙ C_t),       H_t = o ⊙ tanh(C_t)
// with H_{−1} = C_{−1} = 0; the result is H [B·T, C, H, W].

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
#include "vgt/ops/pointwise_arrays.hpp"
#include "vgt/ops/view.hpp"

namespace vgt {

namespace detail {

/// Sizes of one recurrence: B videos of T frames of C channels × P pixels.
struct LstmSizes {
    std::int64_t batch = 0, frames = 0, channels = 0, height = 0, width = 0;

    std::int64_t pixels() const { return height * width; }
    /// Offset of frame (b, t) in a [B·T, k·C, P] buffer.
    std::int64_t frame(std::int64_t b, std::int64_t t, std::int64_t k) const {
        return (b * frames + t) * k * channels * pixels();
    }
    /// The geometry of a 3×3, padding 1 convolution C → 4C over n frames.
    ConvGeometry<2> gates_conv(std::int64_t n) const {
        ConvGeometry<2> geo;
        geo.batch = n;
        geo.in_channels = channels;
        geo.out_channels = 4 * channels;
        geo.in = geo.out = {height, width};
        geo.kernel = {3, 3};
        geo.stride = geo.dilation = {1, 1};
        geo.padding = {1, 1};
        geo.in_size = geo.out_size = pixels();
        geo.kernel_size = 9;
        return geo;
    }
};

template <class T>
using LstmRow = Eigen::Array<T, Eigen::Dynamic, 1>;

template <class T>
LstmRow<T> lstm_sigmoid(const LstmRow<T>& x) {
    return T(1) / (T(1) + (-x).exp());
}

/// dst [B, k·C, P] ← frame (b, t) of src [B·T, k·C, P], for every b.
template <class T>
void gather_step(const LstmSizes& s, const T* src, std::int64_t t, std::int64_t k, T* dst) {
    const std::int64_t size = k * s.channels * s.pixels();
    for (std::int64_t b = 0; b < s.batch; ++b) std::copy_n(src + s.frame(b, t, k), size, dst + b * size);
}

/// Step t of the forward: pre holds its pre-activations (hidden convolution
/// added); writes C_t and H_t.
template <class T>
void lstm_step_forward(const LstmSizes& s, std::int64_t t, const T* pre, const T* wi, const T* wf, const T* wo,
                       T* cells, T* states) {
    const std::int64_t c_count = s.channels, p = s.pixels();
    parallel_for(
        s.batch * c_count,
        [&](std::int64_t row) {
            const std::int64_t b = row / c_count, c = row % c_count;
            const T* gates = pre + s.frame(b, t, 4);
            ConstArrayMap<T> pi(gates + c * p, p), pf(gates + (c_count + c) * p, p);
            ConstArrayMap<T> pg(gates + (2 * c_count + c) * p, p), po(gates + (3 * c_count + c) * p, p);
            ArrayMap<T> cell(cells + s.frame(b, t, 1) + c * p, p), hidden(states + s.frame(b, t, 1) + c * p, p);
            if (t > 0) {
                ConstArrayMap<T> prev(cells + s.frame(b, t - 1, 1) + c * p, p);
                const LstmRow<T> i = lstm_sigmoid<T>(pi + wi[c] * prev), f = lstm_sigmoid<T>(pf + wf[c] * prev);
                cell = f * prev + i * pg.tanh();
            } else {
                cell = lstm_sigmoid<T>(pi) * pg.tanh();
            }
            hidden = lstm_sigmoid<T>(po + wo[c] * cell) * cell.tanh();
        },
        1);
}

/// Step t of the backward, for one channel c of every video: from ∂H_t
/// (dstates + carried) and ∂C_t carried from step t + 1 (dcell, replaced by
/// ∂C_{t−1}), writes the gate gradients into dpre and adds to the peephole
/// gradients of channel c.
template <class T>
void lstm_step_backward(const LstmSizes& s, std::int64_t t, std::int64_t c, const T* pre, const T* cells,
                        const T* wi, const T* wf, const T* wo, const T* dstates, const T* dhidden, T* dcell,
                        T* dpre, double* dpeep) {
    const std::int64_t c_count = s.channels, p = s.pixels();
    for (std::int64_t b = 0; b < s.batch; ++b) {
        const T* gates = pre + s.frame(b, t, 4);
        ConstArrayMap<T> pi(gates + c * p, p), pf(gates + (c_count + c) * p, p);
        ConstArrayMap<T> pg(gates + (2 * c_count + c) * p, p), po(gates + (3 * c_count + c) * p, p);
        ConstArrayMap<T> cell(cells + s.frame(b, t, 1) + c * p, p);
        ConstArrayMap<T> dh_out(dstates + s.frame(b, t, 1) + c * p, p), dh_next(dhidden + (b * c_count + c) * p, p);
        ArrayMap<T> dc_carry(dcell + (b * c_count + c) * p, p);
        T* grads = dpre + s.frame(b, t, 4);
        ArrayMap<T> di(grads + c * p, p), df(grads + (c_count + c) * p, p);
        ArrayMap<T> dg(grads + (2 * c_count + c) * p, p), d_o(grads + (3 * c_count + c) * p, p);

        const LstmRow<T> dh = dh_out + dh_next;
        const LstmRow<T> o = lstm_sigmoid<T>(po + wo[c] * cell), tc = cell.tanh(), g = pg.tanh();
        d_o = dh * tc * o * (T(1) - o);
        const LstmRow<T> dc = dc_carry + dh * o * (T(1) - tc * tc) + d_o * wo[c];
        dpeep[2] += static_cast<double>((d_o * cell).sum());
        if (t > 0) {
            ConstArrayMap<T> prev(cells + s.frame(b, t - 1, 1) + c * p, p);
            const LstmRow<T> i = lstm_sigmoid<T>(pi + wi[c] * prev), f = lstm_sigmoid<T>(pf + wf[c] * prev);
            di = dc * g * i * (T(1) - i);
            df = dc * prev * f * (T(1) - f);
            dg = dc * i * (T(1) - g * g);
            dc_carry = dc * f + di * wi[c] + df * wf[c];
            dpeep[0] += static_cast<double>((di * prev).sum());
            dpeep[1] += static_cast<double>((df * prev).sum());
        } else {
            const LstmRow<T> i = lstm_sigmoid<T>(pi);
            di = dc * g * i * (T(1) - i);
            df.setZero();
            dg = dc * i * (T(1) - g * g);
        }
    }
}

}  // namespace detail

/// The hidden states H [B·T, C, H, W] of the ConvLSTM recurrence above over
/// h [B·T, C, H, W] (frame b·T + t, `batch` = B videos); input_weight and
/// hidden_weight [4C, C, 3, 3], input_bias [4C], peepholes [C]. CPU only;
/// gradients flow to every input.
inline Tensor conv_lstm_recurrence(const Tensor& h, std::int64_t batch, const Tensor& input_weight,
                                   const Tensor& input_bias, const Tensor& hidden_weight, const Tensor& peephole_input,
                                   const Tensor& peephole_forget, const Tensor& peephole_output) {
    const char* op = "conv_lstm_recurrence";
    VGT_CHECK(h.defined() && h.rank() == 4, op, "expected frames h [B·T, C, H, W], found {}", h.shape());
    VGT_CHECK(h.device().is_cpu(), op, "expected CPU tensors, found h on {}", h.device().str());
    VGT_CHECK(batch >= 1 && h.size(0) % batch == 0, op, "expected B = {} to divide the {} frames of h {}", batch,
              h.size(0), h.shape());
    detail::LstmSizes s;
    s.batch = batch;
    s.frames = h.size(0) / batch;
    s.channels = h.size(1);
    s.height = h.size(2);
    s.width = h.size(3);
    const std::int64_t c = s.channels;
    const Shape weight_shape{4 * c, c, 3, 3};
    for (const Tensor* w : {&input_weight, &hidden_weight})
        VGT_CHECK(w->shape() == weight_shape && w->dtype() == h.dtype(), op, "expected {} {} gate weights, found {} {}",
                  dtype_name(h.dtype()), weight_shape, dtype_name(w->dtype()), w->shape());
    VGT_CHECK(input_bias.shape() == Shape{4 * c} && input_bias.dtype() == h.dtype(), op,
              "expected a {} bias [{}], found {} {}", dtype_name(h.dtype()), 4 * c, dtype_name(input_bias.dtype()),
              input_bias.shape());
    for (const Tensor* w : {&peephole_input, &peephole_forget, &peephole_output})
        VGT_CHECK(w->shape() == Shape{c} && w->dtype() == h.dtype(), op, "expected {} peepholes [{}], found {} {}",
                  dtype_name(h.dtype()), c, dtype_name(w->dtype()), w->shape());

    // Detached: the backward keeps them without keeping their graphs.
    const Tensor hc = detach(detail::contiguous_data(h)), wx = detach(detail::contiguous_data(input_weight));
    const Tensor wh = detach(detail::contiguous_data(hidden_weight)), bx = detach(detail::contiguous_data(input_bias));
    const Tensor wi = detach(detail::contiguous_data(peephole_input)), wf = detach(detail::contiguous_data(peephole_forget));
    const Tensor wo = detach(detail::contiguous_data(peephole_output));
    const std::int64_t frames = batch * s.frames, p = s.pixels();
    Tensor pre = Tensor::empty(Shape{frames, 4 * c, s.height, s.width}, h.dtype());
    Tensor cells = Tensor::empty(h.shape(), h.dtype()), states = Tensor::empty(h.shape(), h.dtype());
    dispatch_floating(h, op, [&]<class T>() {
        detail::convolve<2, T>(s.gates_conv(frames), hc.data<T>(), wx.data<T>(), bx.data<T>(), pre.data<T>());
        std::vector<T> previous(static_cast<std::size_t>(batch * c * p)), hidden_gates(static_cast<std::size_t>(batch * 4 * c * p));
        for (std::int64_t t = 0; t < s.frames; ++t) {
            if (t > 0) {  // pre_t += W_h ∗ H_{t−1}
                detail::gather_step(s, states.data<T>(), t - 1, 1, previous.data());
                detail::convolve<2, T>(s.gates_conv(batch), previous.data(), wh.data<T>(), nullptr, hidden_gates.data());
                const std::int64_t size = 4 * c * p;
                for (std::int64_t b = 0; b < batch; ++b) {
                    T* dst = pre.data<T>() + s.frame(b, t, 4);
                    const T* src = hidden_gates.data() + b * size;
                    parallel_for_chunks(0, size, 1 << 14, [&](std::int64_t lo, std::int64_t hi) {
                        for (std::int64_t e = lo; e < hi; ++e) dst[e] += src[e];
                    });
                }
            }
            detail::lstm_step_forward<T>(s, t, pre.data<T>(), wi.data<T>(), wf.data<T>(), wo.data<T>(), cells.data<T>(),
                                         states.data<T>());
        }
    });
    const std::vector<Tensor> inputs{h, input_weight, input_bias, hidden_weight, peephole_input, peephole_forget,
                                     peephole_output};
    if (!autograd::any_requires_grad(inputs)) return states;

    std::vector<bool> need;
    for (const Tensor& input : inputs) need.push_back(input.requires_grad());
    const Tensor saved_states = detach(states);
    return autograd::record(states, op, inputs, [=](const Tensor& grad) {
        const Tensor dstates = detail::contiguous_data(grad);
        Tensor dpre = Tensor::empty(pre.shape(), pre.dtype());
        std::vector<Tensor> grads(7);
        dispatch_floating(dstates, op, [&]<class T>() {
            const std::int64_t step = batch * c * p;
            std::vector<T> dhidden(static_cast<std::size_t>(step)), dcell(static_cast<std::size_t>(step));
            std::vector<T> step_grads(static_cast<std::size_t>(4 * step));
            std::vector<double> dpeep(static_cast<std::size_t>(3 * c));  // per channel: w_i, w_f, w_o
            for (std::int64_t t = s.frames - 1; t >= 0; --t) {
                parallel_for(
                    c,
                    [&](std::int64_t ch) {
                        detail::lstm_step_backward<T>(s, t, ch, pre.data<T>(), cells.data<T>(), wi.data<T>(),
                                                      wf.data<T>(), wo.data<T>(), dstates.data<T>(), dhidden.data(),
                                                      dcell.data(), dpre.data<T>(), dpeep.data() + 3 * ch);
                    },
                    1);
                if (t == 0) break;
                // ∂H_{t−1} = W_hᵀ ⋆ ∂pre_t, carried into step t − 1.
                detail::gather_step(s, dpre.data<T>(), t, 4, step_grads.data());
                detail::convolve_grad_input<2, T>(s.gates_conv(batch), wh.data<T>(), step_grads.data(), dhidden.data());
            }
            if (need[0]) {
                grads[0] = Tensor::empty(hc.shape(), hc.dtype());
                detail::convolve_grad_input<2, T>(s.gates_conv(frames), wx.data<T>(), dpre.data<T>(), grads[0].data<T>());
            }
            if (need[1]) {
                grads[1] = Tensor::empty(wx.shape(), wx.dtype());
                detail::convolve_grad_weight<2, T>(s.gates_conv(frames), hc.data<T>(), dpre.data<T>(), grads[1].data<T>());
            }
            if (need[2]) {
                grads[2] = Tensor::empty(bx.shape(), bx.dtype());
                detail::conv_grad_bias<2, T>(s.gates_conv(frames), dpre.data<T>(), grads[2].data<T>());
            }
            if (need[3]) {
                // Σ over steps t ≥ 1 of ∂pre_t ⋆ H_{t−1}, as one convolution over those frames.
                grads[3] = Tensor::zeros(wh.shape(), wh.dtype());
                const std::int64_t later = batch * (s.frames - 1);
                if (later > 0) {
                    std::vector<T> previous(static_cast<std::size_t>(later * c * p)), later_grads(static_cast<std::size_t>(later * 4 * c * p));
                    for (std::int64_t b = 0; b < batch; ++b)
                        for (std::int64_t t = 1; t < s.frames; ++t) {
                            const std::int64_t k = b * (s.frames - 1) + t - 1;
                            std::copy_n(saved_states.data<T>() + s.frame(b, t - 1, 1), c * p, previous.data() + k * c * p);
                            std::copy_n(dpre.data<T>() + s.frame(b, t, 4), 4 * c * p, later_grads.data() + k * 4 * c * p);
                        }
                    detail::convolve_grad_weight<2, T>(s.gates_conv(later), previous.data(), later_grads.data(),
                                                       grads[3].data<T>());
                }
            }
            for (int k = 0; k < 3; ++k) {
                if (!need[static_cast<std::size_t>(4 + k)]) continue;
                Tensor g = Tensor::empty(Shape{c}, hc.dtype());
                for (std::int64_t ch = 0; ch < c; ++ch) g.data<T>()[ch] = static_cast<T>(dpeep[static_cast<std::size_t>(3 * ch + k)]);
                grads[static_cast<std::size_t>(4 + k)] = g;
            }
        });
        return grads;
    });
}

}  // namespace vgt
