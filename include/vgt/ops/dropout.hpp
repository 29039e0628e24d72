#pragma once
// dropout: zeroes each element with probability p and scales the rest by
// 1/(1−p), so the expected value is unchanged. The mask is Philox number
// first+i of the generator's stream for element i (row-major), so it depends
// only on (seed, offset): the same on any thread count or device.

#include <algorithm>
#include <cstdint>
#include <vector>

#include "vgt/autograd/node.hpp"
#include "vgt/core/dispatch.hpp"
#include "vgt/core/macros.hpp"
#include "vgt/core/parallel.hpp"
#include "vgt/core/random.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/cuda/tensor_ops.hpp"
#include "vgt/ops/dropout_kernels.hpp"
#include "vgt/ops/view.hpp"

namespace vgt {

/// Inverted dropout with probability p in [0, 1), drawing x.numel() numbers
/// from `gen`. Returns x itself (and draws nothing) when !training or p == 0.
/// The backward pass multiplies by the same stored mask and scale.
inline Tensor dropout(const Tensor& x, double p, Generator& gen, bool training = true) {
    const char* op = "dropout";
    VGT_CHECK(p >= 0.0 && p < 1.0, op, "expected a probability p in [0, 1), found {}", p);
    if (!training || p == 0.0) return x;
    const Tensor xc = detail::contiguous_data(x);
    const std::int64_t n = xc.numel();
    const kernels::DropoutKeep keep{gen.seed(), gen.advance(static_cast<std::uint64_t>(n)), p};
    const double scale = 1.0 / (1.0 - p);
    Tensor mask = Tensor::empty(x.shape(), DType::UInt8, x.device());
    Tensor out = Tensor::empty(x.shape(), x.dtype(), x.device());
    if (!x.device().is_cpu()) {
        cuda::dropout(xc, out, mask, keep, scale, op);
    } else {
        dispatch_floating(x, op, [&]<class T>() {
            const kernels::DropoutForward<T> body{xc.data<T>(), out.data<T>(), mask.data<std::uint8_t>(), keep,
                                                  static_cast<T>(scale)};
            parallel_for(n, body);
        });
    }
    if (!autograd::any_requires_grad({x})) return out;
    return autograd::record(out, op, {x}, [mask, scale](const Tensor& g) {
        const Tensor gc = detail::contiguous_data(g);
        Tensor grad = Tensor::empty(gc.shape(), gc.dtype(), gc.device());
        if (!gc.device().is_cpu()) {
            cuda::dropout_gradient(gc, mask, grad, scale, "dropout");
            return std::vector<Tensor>{grad};
        }
        dispatch_floating(gc, "dropout", [&]<class T>() {
            const kernels::DropoutBackward<T> body{gc.data<T>(), mask.data<std::uint8_t>(), grad.data<T>(),
                                                   static_cast<T>(scale)};
            parallel_for(gc.numel(), body);
        });
        return std::vector<Tensor>{grad};
    });
}

/// dropout drawing from the default generator.
inline Tensor dropout(const Tensor& x, double p, bool training = true) {
    return dropout(x, p, default_generator(), training);
}

}  // namespace vgt
