#pragma once
// Loss functions: mean squared error and cross-entropy, each with a fused
// backward pass.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "vgt/autograd/node.hpp"
#include "vgt/core/dispatch.hpp"
#include "vgt/core/macros.hpp"
#include "vgt/core/parallel.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/ops/elementwise.hpp"
#include "vgt/ops/reduce.hpp"
#include "vgt/ops/softmax.hpp"
#include "vgt/ops/view.hpp"

namespace vgt {

/// How a loss combines its per-element values: kept as they are, averaged, or summed.
enum class Reduction { None, Mean, Sum };

namespace kernels {

/// Squared difference and its gradient with respect to the prediction.
struct SquaredError {
    template <class T> VGT_HOST_DEVICE T operator()(T pred, T target) const {
        return (pred - target) * (pred - target);
    }
    template <class T> VGT_HOST_DEVICE T derivative(T pred, T target) const { return T(2) * (pred - target); }
};

}  // namespace kernels

namespace detail {

/// ∂L/∂(per-element value) for a reduction, as (upstream tensor or null,
/// constant factor): None reads g element-wise, Mean and Sum scale g's one value.
template <class T>
struct ReductionGrad {
    const T* per_element = nullptr;
    T factor = T(1);
    T at(std::int64_t i) const { return per_element ? per_element[i] * factor : factor; }
};

}  // namespace detail

/// Mean squared error between `pred` and `target` (equal shapes), reduced as
/// requested; gradients flow to both.
inline Tensor mse_loss(const Tensor& pred, const Tensor& target, Reduction reduction = Reduction::Mean) {
    const char* op = "mse_loss";
    VGT_CHECK(pred.shape() == target.shape(), op, "expected prediction and target of one shape, found {} and {}",
              pred.shape(), target.shape());
    VGT_CHECK(pred.dtype() == target.dtype(), op, "expected prediction and target of one dtype, found {} and {}",
              dtype_name(pred.dtype()), dtype_name(target.dtype()));
    VGT_CHECK(reduction != Reduction::Mean || pred.numel() > 0, op,
              "expected a non-empty input for a mean, found shape {}", pred.shape());
    if (!pred.device().is_cpu()) {
        // On a GPU the loss is its point-wise and reduction ops, each with
        // its own kernel and backward there.
        const Tensor squared = square(sub(pred, target));
        if (reduction == Reduction::None) return squared;
        return reduction == Reduction::Sum ? sum(squared) : mean(squared);
    }
    const Tensor p = detail::contiguous_data(pred);
    const Tensor t = detail::contiguous_data(target);
    const std::int64_t n = p.numel();
    Tensor out = Tensor::empty(reduction == Reduction::None ? p.shape() : Shape{}, p.dtype(), p.device());
    dispatch_floating(p, op, [&]<class T>() {
        const T* pp = p.data<T>();
        const T* pt = t.data<T>();
        T* po = out.data<T>();
        const kernels::SquaredError body;
        if (reduction == Reduction::None) {
            parallel_for(n, [&](std::int64_t i) { po[i] = body(pp[i], pt[i]); });
            return;
        }
        // Per-chunk partial sums in a fixed chunking keep the total deterministic.
        constexpr std::int64_t kChunk = 16384;
        const std::int64_t chunks = (n + kChunk - 1) / kChunk;
        std::vector<double> partial(static_cast<std::size_t>(chunks), 0.0);
        parallel_for(chunks, [&](std::int64_t c) {
            double acc = 0;
            const std::int64_t hi = std::min(n, (c + 1) * kChunk);
            for (std::int64_t i = c * kChunk; i < hi; ++i) acc += body(pp[i], pt[i]);
            partial[static_cast<std::size_t>(c)] = acc;
        }, 1);
        double total = 0;
        for (double v : partial) total += v;
        po[0] = static_cast<T>(reduction == Reduction::Mean ? total / static_cast<double>(n) : total);
    });
    if (!autograd::any_requires_grad({pred, target})) return out;
    const bool need_pred = pred.requires_grad(), need_target = target.requires_grad();
    Tensor p_saved = detach(p), t_saved = detach(t);
    return autograd::record(out, op, {pred, target}, [=](const Tensor& g) {
        Tensor gp, gt;
        if (need_pred) gp = Tensor::empty(p_saved.shape(), p_saved.dtype(), p_saved.device());
        if (need_target) gt = Tensor::empty(t_saved.shape(), t_saved.dtype(), t_saved.device());
        const Tensor gc = detail::contiguous_data(g);
        dispatch_floating(p_saved, op, [&]<class T>() {
            detail::ReductionGrad<T> rg;
            if (reduction == Reduction::None) rg.per_element = gc.data<T>();
            else if (reduction == Reduction::Sum) rg.factor = gc.data<T>()[0];
            else rg.factor = static_cast<T>(gc.data<T>()[0] / static_cast<double>(n));
            const T* pp = p_saved.data<T>();
            const T* pt = t_saved.data<T>();
            T* dp = need_pred ? gp.data<T>() : nullptr;
            T* dt = need_target ? gt.data<T>() : nullptr;
            const kernels::SquaredError body;
            parallel_for(n, [&](std::int64_t i) {
                const T d = rg.at(i) * body.derivative(pp[i], pt[i]);
                if (dp) dp[i] = d;
                if (dt) dt[i] = -d;
            });
        });
        return std::vector<Tensor>{gp, gt};
    });
}

/// Cross-entropy between class scores and integer labels, as PyTorch's
/// F.cross_entropy: logits [N, C] with labels [N], or logits [N, C, d...]
/// with labels [N, d...] (a class per position), or logits [C] with a
/// rank-0 label. Labels equal to `ignore_index` contribute nothing; Mean
/// divides by the number of labels not ignored (NaN when all are, as
/// PyTorch). The backward pass is fused: softmax − one-hot.
inline Tensor cross_entropy(const Tensor& logits, const Tensor& labels, std::int64_t ignore_index = -100,
                            Reduction reduction = Reduction::Mean) {
    const char* op = "cross_entropy";
    VGT_CHECK(logits.rank() >= 1, op, "expected logits [N, C] or [N, C, d...], found shape {}", logits.shape());
    VGT_CHECK(labels.dtype() == DType::Int64, op, "expected int64 labels, found {}", dtype_name(labels.dtype()));
    const int class_dim = logits.rank() == 1 ? 0 : 1;
    Shape label_shape = logits.shape();
    label_shape.erase(class_dim);
    VGT_CHECK(labels.shape() == label_shape, op, "expected labels of shape {} for logits of shape {}, found {}",
              label_shape, logits.shape(), labels.shape());
    const detail::DimLayout layout = detail::dim_layout(logits.shape(), class_dim, op);
    const std::int64_t classes = layout.extent;
    const Tensor lab = detail::contiguous_data(labels);
    const std::int64_t* pl = lab.data<std::int64_t>();
    const std::int64_t positions = lab.numel();
    std::int64_t counted = 0;
    for (std::int64_t i = 0; i < positions; ++i) {
        if (pl[i] == ignore_index) continue;
        VGT_CHECK(pl[i] >= 0 && pl[i] < classes, op, "expected labels in [0, {}) for {} classes, found label {}",
                  classes, classes, pl[i]);
        ++counted;
    }

    const Tensor log_probs = detail::softmax_forward(detail::contiguous_data(logits), layout, true, op);
    Tensor out = Tensor::empty(reduction == Reduction::None ? label_shape : Shape{}, logits.dtype(), logits.device());
    dispatch_floating(logits, op, [&]<class T>() {
        const T* lp = log_probs.data<T>();
        T* po = out.data<T>();
        if (reduction == Reduction::None) {
            parallel_for(positions,
                         [&](std::int64_t i) { po[i] = pl[i] == ignore_index ? T(0) : -lp[layout.offset(i, pl[i])]; });
            return;
        }
        double total = 0;
        for (std::int64_t i = 0; i < positions; ++i)
            if (pl[i] != ignore_index) total -= lp[layout.offset(i, pl[i])];
        if (reduction == Reduction::Mean)
            total = counted > 0 ? total / static_cast<double>(counted) : std::numeric_limits<double>::quiet_NaN();
        po[0] = static_cast<T>(total);
    });
    if (!autograd::any_requires_grad({logits})) return out;
    Tensor lp_saved = detach(log_probs);
    Tensor labels_saved = detach(lab);
    return autograd::record(out, op, {logits, labels}, [=](const Tensor& g) {
        // d loss_i / d logits = (softmax − one_hot(label_i)) · upstream_i
        Tensor grad = Tensor::empty(lp_saved.shape(), lp_saved.dtype(), lp_saved.device());
        const Tensor gc = detail::contiguous_data(g);
        dispatch_floating(grad, op, [&]<class T>() {
            detail::ReductionGrad<T> rg;
            if (reduction == Reduction::None) rg.per_element = gc.data<T>();
            else if (reduction == Reduction::Sum) rg.factor = gc.data<T>()[0];
            else rg.factor = counted > 0 ? static_cast<T>(gc.data<T>()[0] / static_cast<double>(counted)) : T(0);
            const T* lp = lp_saved.data<T>();
            const std::int64_t* labs = labels_saved.data<std::int64_t>();
            T* pg = grad.data<T>();
            if (layout.inner == 1) {  // contiguous rows of classes: Eigen's vectorised exp
                detail::for_each_contiguous_line(positions, classes, [&](std::int64_t i) {
                    const std::int64_t label = labs[i];
                    const T up = label == ignore_index ? T(0) : rg.at(i);
                    detail::ArrayMap<T> row(pg + i * classes, classes);
                    row = detail::ConstArrayMap<T>(lp + i * classes, classes).exp() * up;
                    if (label != ignore_index) row[label] -= up;
                });
                return;
            }
            parallel_for(positions, [&](std::int64_t i) {
                const std::int64_t label = labs[i];
                const T up = label == ignore_index ? T(0) : rg.at(i);
                for (std::int64_t k = 0; k < classes; ++k) {
                    const std::int64_t j = layout.offset(i, k);
                    pg[j] = up * (std::exp(lp[j]) - (k == label ? T(1) : T(0)));
                }
            }, std::max<std::int64_t>(1, 4096 / std::max<std::int64_t>(classes, 1)));
        });
        return std::vector<Tensor>{grad, Tensor{}};
    });
}

/// cross_entropy with the default ignore_index (−100) and the given reduction.
inline Tensor cross_entropy(const Tensor& logits, const Tensor& labels, Reduction reduction) {
    return cross_entropy(logits, labels, -100, reduction);
}

}  // namespace vgt
