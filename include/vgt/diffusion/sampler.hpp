#pragma once
// The samplers by name, for configs and the command line:
//
//   "ddpm"            ancestral (ddpm.hpp)                  stochastic
//   "ddim"            DDIM with eta (ddim.hpp)              deterministic at eta = 0
//   "dpm-solver++2m"  DPM-Solver++(2M) (dpm_solver.hpp)     deterministic
//   "euler"           Euler on the flow ODE (euler.hpp)     deterministic, flow grids only
//
// Every sampler walks a SamplingGrid (timestep_grid for DDPM-style
// schedules, flow_grid for rectified flow) with any number of steps, reads
// the model's output as SamplerOptions::prediction, and draws its noise
// from a Philox Generator, so a seed gives the same samples on any device.

#include <string>
#include <string_view>
#include <vector>

#include "vgt/core/error.hpp"
#include "vgt/core/random.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/diffusion/ddim.hpp"
#include "vgt/diffusion/ddpm.hpp"
#include "vgt/diffusion/denoiser.hpp"
#include "vgt/diffusion/dpm_solver.hpp"
#include "vgt/diffusion/euler.hpp"
#include "vgt/diffusion/objective.hpp"
#include "vgt/diffusion/sampling_grid.hpp"

namespace vgt::diffusion {

enum class SamplerKind { ddpm, ddim, dpm_solver_pp_2m, euler };

inline std::string_view sampler_name(SamplerKind kind) {
    switch (kind) {
        case SamplerKind::ddpm: return "ddpm";
        case SamplerKind::ddim: return "ddim";
        case SamplerKind::dpm_solver_pp_2m: return "dpm-solver++2m";
        case SamplerKind::euler: return "euler";
    }
    return "ddim";
}

inline std::vector<SamplerKind> all_sampler_kinds() {
    return {SamplerKind::ddpm, SamplerKind::ddim, SamplerKind::dpm_solver_pp_2m, SamplerKind::euler};
}

/// The sampler called `name`; an unknown name is an error listing the valid ones.
inline SamplerKind parse_sampler_kind(std::string_view name) {
    std::string valid;
    for (SamplerKind k : all_sampler_kinds()) {
        if (sampler_name(k) == name) return k;
        valid += (valid.empty() ? "" : ", ") + std::string(sampler_name(k));
    }
    fail("sampler", "expected one of {}, found '{}'", valid, name);
}

struct SamplerOptions {
    SamplerKind kind = SamplerKind::ddim;
    Objective prediction = Objective::epsilon;  // how to read the model's output
    double eta = 0.0;                           // ddim only: 0 deterministic, 1 DDPM's variance
};

/// Runs the chosen sampler from `noise` (x at grid[0]) to clean data.
inline Tensor sample(const Denoiser& model, const Tensor& noise, const SamplingGrid& grid,
                     const SamplerOptions& options, Generator& gen) {
    VGT_CHECK(options.kind == SamplerKind::ddim || options.eta == 0.0, sampler_name(options.kind),
              "expected eta = 0 (eta applies to ddim only), found {}", options.eta);
    switch (options.kind) {
        case SamplerKind::ddpm: return ddpm_sample(model, noise, grid, options.prediction, gen);
        case SamplerKind::ddim: return ddim_sample(model, noise, grid, options.prediction, options.eta, gen);
        case SamplerKind::dpm_solver_pp_2m: return dpm_solver_pp_2m_sample(model, noise, grid, options.prediction);
        case SamplerKind::euler: return euler_sample(model, noise, grid, options.prediction);
    }
    return noise;
}

/// As above from fresh standard normal noise of `shape`: the first
/// shape.numel() numbers that gen draws, before any the sampler draws.
inline Tensor sample(const Denoiser& model, const Shape& shape, DType dtype, const SamplingGrid& grid,
                     const SamplerOptions& options, Generator& gen) {
    const Tensor noise = randn(shape, gen, dtype);
    return sample(model, noise, grid, options, gen);
}

}  // namespace vgt::diffusion
