#pragma once
// gradcheck: compares the tape's gradients with central finite differences
// in float64. The output is reduced to a scalar with fixed random weights,
// L = Σ w ⊙ f(x), so one backward pass checks every output element.

#include <cmath>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "vgt/autograd/backward.hpp"
#include "vgt/core/random.hpp"
#include "vgt/ops/elementwise.hpp"
#include "vgt/ops/reduce.hpp"

namespace vgt {

struct GradcheckOptions {
    double eps = 1e-6;      // finite-difference step
    double atol = 1e-6;     // |analytic − numeric| ≤ atol + rtol·|numeric|
    double rtol = 1e-4;
    std::uint64_t seed = 1234;  // of the projection weights
};

struct GradcheckResult {
    bool passed = true;
    double max_abs_error = 0;
    std::string report;  // the first mismatches, for the test log
};

using GradcheckFn = std::function<Tensor(const std::vector<Tensor>&)>;

/// Checks d/dx of f at `inputs` for every floating-point input (all must be
/// float64). Integer inputs (indices, labels) pass through unchanged.
inline GradcheckResult gradcheck(const GradcheckFn& f, const std::vector<Tensor>& inputs,
                                 const GradcheckOptions& options = {}) {
    std::vector<Tensor> xs;
    for (const Tensor& x : inputs) {
        Tensor c = clone(detach(x));
        if (is_floating(c.dtype())) {
            VGT_CHECK(c.dtype() == DType::Float64, "gradcheck", "expected float64 inputs, found {}", dtype_name(c.dtype()));
            c.set_requires_grad(true);
        }
        xs.push_back(c);
    }

    Tensor y = f(xs);
    VGT_CHECK(y.dtype() == DType::Float64, "gradcheck", "expected a float64 output, found {}", dtype_name(y.dtype()));
    Generator gen(options.seed);
    const Tensor weights = randn(y.shape(), gen, DType::Float64);
    auto objective = [&](const Tensor& out) {
        NoGradGuard no_grad;
        return sum(mul(out, weights)).item<double>();
    };
    backward(sum(mul(y, weights)));

    GradcheckResult result;
    int reported = 0;
    for (std::size_t k = 0; k < xs.size(); ++k) {
        if (!is_floating(xs[k].dtype())) continue;
        const Tensor analytic_grad = xs[k].grad();
        const std::vector<double> analytic = analytic_grad.defined()
                                                 ? analytic_grad.to_vector<double>()
                                                 : std::vector<double>(static_cast<std::size_t>(xs[k].numel()), 0.0);
        double* data = xs[k].data<double>();
        for (std::int64_t i = 0; i < xs[k].numel(); ++i) {
            const double saved = data[i];
            double plus, minus;
            {
                NoGradGuard no_grad;
                data[i] = saved + options.eps;
                plus = objective(f(xs));
                data[i] = saved - options.eps;
                minus = objective(f(xs));
                data[i] = saved;
            }
            const double numeric = (plus - minus) / (2 * options.eps);
            const double got = analytic[static_cast<std::size_t>(i)];
            const double err = std::abs(got - numeric);
            result.max_abs_error = std::max(result.max_abs_error, err);
            if (!(err <= options.atol + options.rtol * std::abs(numeric))) {
                result.passed = false;
                if (reported++ < 8)
                    result.report += fmt::format("input {} element {}: analytic {:.9g}, numeric {:.9g}\n", k, i, got,
                                                 numeric);
            }
        }
    }
    return result;
}

}  // namespace vgt
