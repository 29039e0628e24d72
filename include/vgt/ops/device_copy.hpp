#pragma once
// Moving tensors between the CPU and CUDA devices. The copy is contiguous
// and records on the tape: the gradient travels back to the source device.

#include <vector>

#include "vgt/autograd/node.hpp"
#include "vgt/core/cuda_error.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/ops/view.hpp"

namespace vgt {

namespace detail {
inline Tensor copy_to_device(const Tensor& x, Device device) {
    const Tensor src = contiguous_data(x);
    Tensor out = Tensor::empty(x.shape(), x.dtype(), device);
    if (src.device().is_cpu() && device.is_cpu()) {
        copy_strided(out, src);
        return out;
    }
#if defined(VGT_WITH_CUDA)
    VGT_CUDA_CHECK(cudaMemcpy(out.raw_data(), src.raw_data(), src.nbytes(), cudaMemcpyDefault));
#else
    fail("to", "expected CPU devices (this build has no CUDA backend), found {} to {}", x.device().str(), device.str());
#endif
    return out;
}
}  // namespace detail

/// x on `device` (x itself when it is already there).
inline Tensor to(const Tensor& x, Device device) {
    if (x.device() == device) return x;
    Tensor out = detail::copy_to_device(x, device);
    const Device source = x.device();
    return autograd::record(out, "to_device", {x}, [source](const Tensor& g) {
        return std::vector<Tensor>{detail::copy_to_device(g, source)};
    });
}

}  // namespace vgt
