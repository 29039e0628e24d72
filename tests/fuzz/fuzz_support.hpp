#pragma once
// Shared by the fuzz targets: reporting a broken property, reading every
// byte of a tensor (so ASan sees any bad read), and comparing tensors.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <vgt/core/tensor.hpp>

namespace vgt::fuzz {

/// Where byte sums go, so that the compiler cannot drop the reads.
inline volatile std::uint64_t sink = 0;

/// A property failed: print "TARGET: what" and abort, which libFuzzer reports.
[[noreturn]] inline void report_finding(const char* target, const char* what) {
    std::fprintf(stderr, "%s: %s\n", target, what);
    std::abort();
}

/// The sum of a tensor's bytes: reads every one of them.
inline std::uint64_t byte_sum(const Tensor& t) {
    const auto* p = static_cast<const unsigned char*>(t.raw_data());
    std::uint64_t sum = 0;
    for (std::size_t i = 0; i < t.nbytes(); ++i) sum += p[i];
    return sum;
}

/// Equal dtype, shape and bytes.
inline bool same_bytes(const Tensor& a, const Tensor& b) {
    return a.dtype() == b.dtype() && a.shape() == b.shape() &&
           (a.nbytes() == 0 || std::memcmp(a.raw_data(), b.raw_data(), a.nbytes()) == 0);
}

/// Equal dtype, shape and values, any NaN equal to any NaN (a float32
/// written through double may come back with its signalling NaN quieted).
inline bool same_values(const Tensor& a, const Tensor& b) {
    if (a.dtype() != b.dtype() || a.shape() != b.shape()) return false;
    if (same_bytes(a, b)) return true;
    auto floats_match = [&]<class T>() {
        const T* x = a.data<T>();
        const T* y = b.data<T>();
        for (std::int64_t i = 0; i < a.numel(); ++i)
            if (!(std::isnan(x[i]) && std::isnan(y[i])) && std::memcmp(&x[i], &y[i], sizeof(T)) != 0) return false;
        return true;
    };
    if (a.dtype() == DType::Float32) return floats_match.operator()<float>();
    if (a.dtype() == DType::Float64) return floats_match.operator()<double>();
    return false;
}

}  // namespace vgt::fuzz
