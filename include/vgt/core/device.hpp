#pragma once
// Where a tensor's storage lives.

#include <string>

namespace vgt {

enum class DeviceKind { CPU, CUDA };

struct Device {
    DeviceKind kind = DeviceKind::CPU;
    int index = 0;

    static constexpr Device cpu() { return {DeviceKind::CPU, 0}; }
    static constexpr Device cuda(int index = 0) { return {DeviceKind::CUDA, index}; }

    constexpr bool is_cpu() const { return kind == DeviceKind::CPU; }
    constexpr bool is_cuda() const { return kind == DeviceKind::CUDA; }
    std::string str() const { return is_cpu() ? "cpu" : "cuda:" + std::to_string(index); }

    friend constexpr bool operator==(Device a, Device b) = default;
};

}  // namespace vgt
