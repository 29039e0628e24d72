#pragma once
// Joining and splitting along a dimension: concat, stack, split, chunk.
// Split pieces are views of their input.

#include <cstdint>
#include <vector>

#include "vgt/autograd/node.hpp"
#include "vgt/ops/view.hpp"

namespace vgt {

/// Tensors of one shape except along `dim`, joined along it.
inline Tensor concat(const std::vector<Tensor>& tensors, int dim) {
    VGT_CHECK(!tensors.empty(), "concat", "expected at least one tensor, found none");
    const Tensor& first = tensors.front();
    const int d = first.shape().normalize_dim(dim, "concat");
    Shape out_shape = first.shape();
    out_shape[d] = 0;
    for (std::size_t i = 0; i < tensors.size(); ++i) {
        const Tensor& t = tensors[i];
        VGT_CHECK(t.dtype() == first.dtype(), "concat", "expected dtype {} for every tensor, found {} at position {}",
                  dtype_name(first.dtype()), dtype_name(t.dtype()), i);
        bool match = t.rank() == first.rank();
        for (int k = 0; match && k < t.rank(); ++k) match = k == d || t.size(k) == first.size(k);
        VGT_CHECK(match, "concat", "expected shapes equal to {} except in dimension {}, found {} at position {}",
                  first.shape(), d, t.shape(), i);
        out_shape[d] += t.size(d);
    }
    Tensor out = Tensor::empty(out_shape, first.dtype(), first.device());
    std::vector<std::int64_t> starts;
    std::int64_t start = 0;
    for (const Tensor& t : tensors) {
        starts.push_back(start);
        NoGradGuard no_grad;
        detail::copy_strided(slice(out, d, start, start + t.size(d)), t);
        start += t.size(d);
    }
    starts.push_back(start);
    return autograd::record(out, "concat", tensors, [d, starts](const Tensor& g) {
        std::vector<Tensor> grads;
        for (std::size_t i = 0; i + 1 < starts.size(); ++i) grads.push_back(slice(g, d, starts[i], starts[i + 1]));
        return grads;
    });
}

/// Tensors of one shape, joined along a new dimension `dim`.
inline Tensor stack(const std::vector<Tensor>& tensors, int dim) {
    VGT_CHECK(!tensors.empty(), "stack", "expected at least one tensor, found none");
    std::vector<Tensor> expanded;
    for (std::size_t i = 0; i < tensors.size(); ++i) {
        VGT_CHECK(tensors[i].shape() == tensors[0].shape(), "stack",
                  "expected every tensor to have shape {}, found {} at position {}", tensors[0].shape(),
                  tensors[i].shape(), i);
        expanded.push_back(unsqueeze(tensors[i], dim));
    }
    return concat(expanded, dim);
}

/// Pieces of the given sizes along `dim`; the sizes must add up to its extent.
inline std::vector<Tensor> split(const Tensor& x, const std::vector<std::int64_t>& sizes, int dim) {
    const int d = x.shape().normalize_dim(dim, "split");
    std::int64_t total = 0;
    for (std::int64_t s : sizes) {
        VGT_CHECK(s >= 0, "split", "expected non-negative sizes, found {}", s);
        total += s;
    }
    VGT_CHECK(total == x.size(d), "split", "expected sizes adding up to {} (dimension {} of {}), found {}", x.size(d), d,
              x.shape(), total);
    std::vector<Tensor> pieces;
    std::int64_t start = 0;
    for (std::int64_t s : sizes) {
        pieces.push_back(slice(x, d, start, start + s));
        start += s;
    }
    return pieces;
}

/// `count` pieces of equal extent along `dim`, which must divide evenly.
inline std::vector<Tensor> chunk(const Tensor& x, std::int64_t count, int dim) {
    const int d = x.shape().normalize_dim(dim, "chunk");
    VGT_CHECK(count > 0 && x.size(d) % count == 0, "chunk", "expected a count dividing {} (dimension {} of {}), found {}",
              x.size(d), d, x.shape(), count);
    return split(x, std::vector<std::int64_t>(static_cast<std::size_t>(count), x.size(d) / count), d);
}

}  // namespace vgt
