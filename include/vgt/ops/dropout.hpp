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
#include "vgt/core/philox.hpp"
#include "vgt/core/random.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/ops/view.hpp"

namespace vgt {

namespace kernels {

/// Whether element i survives: its uniform number is at least p.
struct DropoutKeep {
    std::uint64_t seed;
    std::uint64_t first;
    double p;
    VGT_HOST_DEVICE bool operator()(std::int64_t i) const {
        return static_cast<double>(philox_uniform(seed, first + static_cast<std::uint64_t>(i))) >= p;
    }
};

}  // namespace kernels

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
    dispatch_floating(x, op, [&]<class T>() {
        const T* px = xc.data<T>();
        T* po = out.data<T>();
        std::uint8_t* pm = mask.data<std::uint8_t>();
        const T s = static_cast<T>(scale);
        parallel_for(n, [&](std::int64_t i) {
            const bool kept = keep(i);
            pm[i] = kept ? 1 : 0;
            po[i] = kept ? px[i] * s : T(0);
        });
    });
    if (!autograd::any_requires_grad({x})) return out;
    return autograd::record(out, op, {x}, [mask, scale](const Tensor& g) {
        const Tensor gc = detail::contiguous_data(g);
        Tensor grad = Tensor::empty(gc.shape(), gc.dtype(), gc.device());
        dispatch_floating(gc, "dropout", [&]<class T>() {
            const T* pg = gc.data<T>();
            const std::uint8_t* pm = mask.data<std::uint8_t>();
            T* po = grad.data<T>();
            const T s = static_cast<T>(scale);
            parallel_for(gc.numel(), [&](std::int64_t i) { po[i] = pm[i] ? pg[i] * s : T(0); });
        });
        return std::vector<Tensor>{grad};
    });
}

/// dropout drawing from the default generator.
inline Tensor dropout(const Tensor& x, double p, bool training = true) {
    return dropout(x, p, default_generator(), training);
}

}  // namespace vgt
