#pragma once
// What every sampler loop does at a step, in one place so that all of them
// check the same things and name the step in their errors: call the model,
// read its output under the objective, draw the step's noise.

#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "vgt/core/dispatch.hpp"
#include "vgt/core/error.hpp"
#include "vgt/core/random.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/diffusion/denoiser.hpp"
#include "vgt/diffusion/objective.hpp"
#include "vgt/diffusion/sampling_grid.hpp"
#include "vgt/ops/device_copy.hpp"
#include "vgt/ops/view.hpp"

namespace vgt::diffusion::detail {

/// The index of the first NaN or infinity in x (row-major), or −1.
inline std::int64_t first_non_finite(const Tensor& x) {
    const Tensor c = vgt::detail::contiguous_data(x.device().is_cpu() ? x : to(x, Device::cpu()));
    return dispatch_floating(c, "first_non_finite", [&]<class T>() -> std::int64_t {
        const T* p = c.data<T>();
        for (std::int64_t i = 0; i < c.numel(); ++i)
            if (!std::isfinite(p[i])) return i;
        return -1;
    });
}

/// Checks a model output at a sampler step (`where`, e.g. "step 2 of 20
/// (time 0.9)"): x's shape and dtype, and finite.
inline void check_step_output(std::string_view sampler, const std::string& where, const Tensor& x, const Tensor& out) {
    VGT_CHECK(out.defined() && out.shape() == x.shape() && out.dtype() == x.dtype(), sampler,
              "{}: expected a model output {}, found {}", where, x.str(), out.str());
    const std::int64_t bad = first_non_finite(out);
    VGT_CHECK(bad < 0, sampler, "{}: expected a finite model output, found NaN or infinity at element {}", where, bad);
}

/// One step of a sampler's loop: which sampler, which step (1-based) of
/// how many, from which grid point. Errors start "<sampler>: step i of S (time t): ".
struct SamplerStep {
    std::string_view sampler;
    int step = 1;
    int steps = 1;
    const GridPoint* from = nullptr;

    std::string where() const { return fmt::format("step {} of {} (time {})", step, steps, from->time); }

    /// The model at (x, from.time); its output must have x's shape and dtype and be finite.
    Tensor evaluate(const Denoiser& model, const Tensor& x) const {
        VGT_CHECK(static_cast<bool>(model), sampler, "expected a model (a callable), found an empty function");
        const Tensor out = model(x, time_column(x, from->time));
        check_step_output(sampler, where(), x, out);
        return out;
    }

    /// The output read as x0 and ε predictions at this step's level.
    Prediction predict(Objective objective, const Tensor& output, const Tensor& x) const {
        try {
            return diffusion::predict(objective, output, x, from->level);
        } catch (const Error& e) {
            throw Error(fmt::format("{}: {}: {}", sampler, where(), e.what()));
        }
    }
};

/// Standard normal noise of x's shape, dtype and device: the next x.numel()
/// numbers of gen's stream (row-major), so a seed gives the same on any device.
inline Tensor step_noise(const Tensor& x, Generator& gen) {
    return to(randn(x.shape(), gen, x.dtype()), x.device());
}

/// The initial point of a sampler: `noise` must be a floating batch [B, ...].
inline void check_start(const Tensor& noise, std::string_view sampler) {
    VGT_CHECK(noise.defined() && noise.rank() >= 1 && noise.size(0) >= 1, sampler,
              "expected initial noise of shape [B, ...] with B >= 1, found {}", noise.str());
    VGT_CHECK(noise.dtype() == DType::Float32 || noise.dtype() == DType::Float64, sampler,
              "expected float32 or float64 noise, found {}", dtype_name(noise.dtype()));
}

}  // namespace vgt::diffusion::detail
