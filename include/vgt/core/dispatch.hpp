#pragma once
// Turning a runtime DType into a compile-time element type.

#include <string_view>
#include <utility>

#include "vgt/core/dtype.hpp"
#include "vgt/core/error.hpp"
#include "vgt/core/tensor.hpp"

namespace vgt {

/// Calls f.template operator()<T>() with T = float or double for the tensor's
/// dtype; any other dtype is an error naming `op`.
template <class F>
decltype(auto) dispatch_floating(DType dtype, std::string_view op, F&& f) {
    switch (dtype) {
        case DType::Float32: return f.template operator()<float>();
        case DType::Float64: return f.template operator()<double>();
        default: fail(op, "expected a float32 or float64 CPU tensor, found {}", dtype_name(dtype));
    }
}

/// dispatch_floating on a tensor's dtype, after checking that the tensor is
/// on the CPU: the CPU kernels would otherwise read device memory.
template <class F>
decltype(auto) dispatch_floating(const Tensor& t, std::string_view op, F&& f) {
    VGT_CHECK(t.device().is_cpu(), op,
              "expected a CPU tensor, found one on {} (this operation has no CUDA kernel yet; copy with "
              "to(x, Device::cpu()))",
              t.device().str());
    return dispatch_floating(t.dtype(), op, std::forward<F>(f));
}

/// As dispatch_floating, for the integer index types (int64, uint8).
template <class F>
decltype(auto) dispatch_index(DType dtype, std::string_view op, F&& f) {
    switch (dtype) {
        case DType::Int64: return f.template operator()<std::int64_t>();
        case DType::UInt8: return f.template operator()<std::uint8_t>();
        default: fail(op, "expected an int64 or uint8 tensor of indices, found {}", dtype_name(dtype));
    }
}

}  // namespace vgt
