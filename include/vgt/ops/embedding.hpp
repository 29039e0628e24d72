#pragma once
// embedding: rows of a table looked up by integer index, and the
// scatter-add that is its gradient.

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "vgt/autograd/node.hpp"
#include "vgt/core/dispatch.hpp"
#include "vgt/core/parallel.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/cuda/tensor_ops.hpp"
#include "vgt/ops/device_copy.hpp"
#include "vgt/ops/view.hpp"

namespace vgt {

namespace detail {

/// embedding's CUDA path: the lookup and its gradient on the device.
inline Tensor embedding_on_device(const Tensor& table, const Tensor& weight, const Tensor& idx, Tensor out) {
    cuda::embedding(table, idx, out, "embedding");
    if (!autograd::any_requires_grad({weight})) return out;
    const Tensor idx_saved = detach(idx);
    const Shape w_shape = weight.shape();
    const DType dtype = weight.dtype();
    const Device device = weight.device();
    return autograd::record(out, "embedding", {weight, idx}, [=](const Tensor& g) {
        Tensor grad = Tensor::empty(w_shape, dtype, device);
        cuda::embedding_gradient(detail::contiguous_data(g), idx_saved, grad, "embedding");
        return std::vector<Tensor>{grad, Tensor{}};
    });
}

}  // namespace detail

/// Rows weight[indices] of a table weight [V, D]: int64 indices of any
/// shape give a result of shape [..., D]. The gradient flows to weight only;
/// an index used several times receives the sum of its rows' gradients.
inline Tensor embedding(const Tensor& weight, const Tensor& indices) {
    const char* op = "embedding";
    VGT_CHECK(weight.rank() == 2, op, "expected a weight table [V, D], found shape {}", weight.shape());
    VGT_CHECK(indices.dtype() == DType::Int64, op, "expected int64 indices, found {}", dtype_name(indices.dtype()));
    const std::int64_t vocab = weight.size(0);
    const std::int64_t dim = weight.size(1);
    const Tensor idx = detail::contiguous_data(indices);
    // Indices are checked on the CPU: a device copy is read back first.
    const Tensor host_idx = idx.device().is_cpu() ? idx : to(idx, Device::cpu());
    const std::int64_t* pi = host_idx.data<std::int64_t>();
    const std::int64_t count = idx.numel();
    for (std::int64_t i = 0; i < count; ++i)
        VGT_CHECK(pi[i] >= 0 && pi[i] < vocab, op, "expected indices in [0, {}) for a table of {} rows, found index {}",
                  vocab, vocab, pi[i]);

    Shape out_shape = indices.shape();
    out_shape.push_back(dim);
    Tensor out = Tensor::empty(out_shape, weight.dtype(), weight.device());
    const Tensor w = detail::contiguous_data(weight);
    if (!weight.device().is_cpu()) return detail::embedding_on_device(w, weight, idx, out);
    VGT_CHECK(idx.device().is_cpu(), op, "expected indices on the table's device {}, found {}", weight.device().str(),
              idx.device().str());
    dispatch_floating(w, op, [&]<class T>() {
        const T* pw = w.data<T>();
        T* po = out.data<T>();
        parallel_for(count, [&](std::int64_t i) {
            std::memcpy(po + i * dim, pw + pi[i] * dim, static_cast<std::size_t>(dim) * sizeof(T));
        }, std::max<std::int64_t>(1, 16384 / std::max<std::int64_t>(dim, 1)));
    });
    if (!autograd::any_requires_grad({weight})) return out;
    Tensor idx_saved = detach(idx);
    const Shape w_shape = weight.shape();
    const DType dtype = weight.dtype();
    return autograd::record(out, op, {weight, indices}, [=](const Tensor& g) {
        // Group the positions by the row they read (a counting sort), then
        // let each task own whole rows: no two threads add into one row, and
        // every row sums its positions in order, so the result is deterministic.
        const std::int64_t* ids = idx_saved.data<std::int64_t>();
        std::vector<std::int64_t> start(static_cast<std::size_t>(vocab) + 1, 0);
        for (std::int64_t i = 0; i < count; ++i) ++start[static_cast<std::size_t>(ids[i]) + 1];
        for (std::int64_t v = 0; v < vocab; ++v) start[v + 1] += start[v];
        std::vector<std::int64_t> order(static_cast<std::size_t>(count));
        {
            std::vector<std::int64_t> fill(start.begin(), start.end() - 1);
            for (std::int64_t i = 0; i < count; ++i) order[static_cast<std::size_t>(fill[ids[i]]++)] = i;
        }
        Tensor grad = Tensor::zeros(w_shape, dtype);
        const Tensor gc = detail::contiguous_data(g);
        dispatch_floating(dtype, op, [&]<class T>() {
            const T* pg = gc.data<T>();
            T* pw = grad.data<T>();
            parallel_for(vocab, [&](std::int64_t v) {
                T* row = pw + v * dim;
                for (std::int64_t k = start[v]; k < start[v + 1]; ++k) {
                    const T* src = pg + order[static_cast<std::size_t>(k)] * dim;
                    for (std::int64_t d = 0; d < dim; ++d) row[d] += src[d];
                }
            }, std::max<std::int64_t>(1, 4096 / std::max<std::int64_t>(dim, 1)));
        });
        return std::vector<Tensor>{grad, Tensor{}};
    });
}

}  // namespace vgt
