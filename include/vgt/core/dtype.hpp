#pragma once
// Element types. float32/float64 compute on CPU (float64 for gradient
// checks); bfloat16/float16 are storage types of the CUDA backend; int64 and
// uint8 hold indices, labels and raw image bytes.

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <type_traits>

namespace vgt {

enum class DType : std::uint8_t { Float32, Float64, BFloat16, Float16, Int64, UInt8 };

constexpr std::size_t dtype_size(DType dtype) {
    switch (dtype) {
        case DType::Float32: return 4;
        case DType::Float64: return 8;
        case DType::BFloat16: return 2;
        case DType::Float16: return 2;
        case DType::Int64: return 8;
        case DType::UInt8: return 1;
    }
    return 0;
}

constexpr std::string_view dtype_name(DType dtype) {
    switch (dtype) {
        case DType::Float32: return "float32";
        case DType::Float64: return "float64";
        case DType::BFloat16: return "bfloat16";
        case DType::Float16: return "float16";
        case DType::Int64: return "int64";
        case DType::UInt8: return "uint8";
    }
    return "unknown";
}

constexpr bool is_floating(DType dtype) {
    return dtype == DType::Float32 || dtype == DType::Float64 || dtype == DType::BFloat16 ||
           dtype == DType::Float16;
}

/// The DType of a C++ element type, for the types a CPU tensor can hold.
template <class T>
constexpr DType dtype_of() {
    if constexpr (std::is_same_v<T, float>) return DType::Float32;
    else if constexpr (std::is_same_v<T, double>) return DType::Float64;
    else if constexpr (std::is_same_v<T, std::int64_t>) return DType::Int64;
    else if constexpr (std::is_same_v<T, std::uint8_t>) return DType::UInt8;
    else static_assert(sizeof(T) == 0, "vgt tensors hold float, double, int64_t or uint8_t on the CPU");
}

}  // namespace vgt
