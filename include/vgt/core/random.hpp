#pragma once
// Random tensors from Philox streams. A Generator is a seed and an offset:
// each draw takes the next `numel` numbers of the stream, so a sequence of
// draws is reproducible and independent of thread count or device.

#include <cstdint>

#include "vgt/core/dispatch.hpp"
#include "vgt/core/parallel.hpp"
#include "vgt/core/philox.hpp"
#include "vgt/core/tensor.hpp"

namespace vgt {

class Generator {
public:
    explicit Generator(std::uint64_t seed = 0, std::uint64_t offset = 0) : seed_(seed), offset_(offset) {}

    std::uint64_t seed() const { return seed_; }
    std::uint64_t offset() const { return offset_; }

    /// Reserves `count` numbers of the stream and returns the first one's index.
    std::uint64_t advance(std::uint64_t count) {
        const std::uint64_t first = offset_;
        offset_ += count;
        return first;
    }

private:
    std::uint64_t seed_;
    std::uint64_t offset_;
};

/// The generator used when none is passed.
inline Generator& default_generator() {
    static Generator generator(0);
    return generator;
}

/// Restarts the default generator at (seed, 0).
inline void manual_seed(std::uint64_t seed) { default_generator() = Generator(seed); }

namespace detail {
/// A tensor whose element i is to_value(number first + i of the stream),
/// where `number(seed, j)` draws from Philox and `first` advances `gen`.
template <class Number, class ToValue>
Tensor philox_tensor(const Shape& shape, Generator& gen, DType dtype, const char* op, Number number,
                     ToValue to_value) {
    Tensor t = Tensor::empty(shape, dtype);
    const std::uint64_t first = gen.advance(static_cast<std::uint64_t>(t.numel()));
    const std::uint64_t seed = gen.seed();
    dispatch_floating(dtype, op, [&]<class T>() {
        T* out = t.data<T>();
        parallel_for(t.numel(), [&](std::int64_t i) {
            out[i] = static_cast<T>(to_value(number(seed, first + static_cast<std::uint64_t>(i))));
        });
    });
    return t;
}
}  // namespace detail

/// Uniform numbers in [low, high).
inline Tensor rand(const Shape& shape, Generator& gen, DType dtype = DType::Float32, double low = 0.0,
                   double high = 1.0) {
    return detail::philox_tensor(shape, gen, dtype, "rand", philox_uniform,
                                 [=](float u) { return low + (high - low) * u; });
}
inline Tensor rand(const Shape& shape, DType dtype = DType::Float32) {
    return rand(shape, default_generator(), dtype);
}

/// Normal numbers with the given mean and standard deviation.
inline Tensor randn(const Shape& shape, Generator& gen, DType dtype = DType::Float32, double mean = 0.0,
                    double stddev = 1.0) {
    return detail::philox_tensor(shape, gen, dtype, "randn", philox_normal,
                                 [=](float z) { return mean + stddev * z; });
}
inline Tensor randn(const Shape& shape, DType dtype = DType::Float32) {
    return randn(shape, default_generator(), dtype);
}

}  // namespace vgt
