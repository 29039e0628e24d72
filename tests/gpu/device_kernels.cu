#include "gpu/device_kernels.hpp"

#include <vgt/core/cuda_launch.cuh>
#include <vgt/core/philox.hpp>
#include <vgt/ops/pointwise_kernels.hpp>

namespace vgt::test::gpu {

namespace {

struct FillUniform {
    std::uint64_t seed, first;
    float* out;
    __device__ void operator()(std::int64_t i) const { out[i] = ::vgt::philox_uniform(seed, first + i); }
};

struct FillNormal {
    std::uint64_t seed, first;
    float* out;
    __device__ void operator()(std::int64_t i) const { out[i] = ::vgt::philox_normal(seed, first + i); }
};

template <class Body>
struct Apply {
    Body body;
    const float* in;
    float* out;
    __device__ void operator()(std::int64_t i) const { out[i] = body(in[i]); }
};

cudaError_t finish(cudaError_t launched) { return launched != cudaSuccess ? launched : cudaDeviceSynchronize(); }

template <class Body>
cudaError_t apply(Body body, const float* in, float* out, std::int64_t n) {
    return finish(cuda_for(n, Apply<Body>{body, in, out}));
}

}  // namespace

cudaError_t philox_uniform(std::uint64_t seed, std::uint64_t first, std::int64_t n, float* out) {
    return finish(cuda_for(n, FillUniform{seed, first, out}));
}

cudaError_t philox_normal(std::uint64_t seed, std::uint64_t first, std::int64_t n, float* out) {
    return finish(cuda_for(n, FillNormal{seed, first, out}));
}

cudaError_t pointwise(Pointwise body, const float* in, float* out, std::int64_t n) {
    switch (body) {
        case Pointwise::Neg: return apply(kernels::Neg{}, in, out, n);
        case Pointwise::Relu: return apply(kernels::Relu{}, in, out, n);
        case Pointwise::Exp: return apply(kernels::Exp{}, in, out, n);
        case Pointwise::Sigmoid: return apply(kernels::Sigmoid{}, in, out, n);
        case Pointwise::Tanh: return apply(kernels::Tanh{}, in, out, n);
        case Pointwise::Silu: return apply(kernels::Silu{}, in, out, n);
        case Pointwise::Gelu: return apply(kernels::Gelu{}, in, out, n);
    }
    return cudaErrorInvalidValue;
}

}  // namespace vgt::test::gpu
