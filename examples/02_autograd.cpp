// Autograd in three steps: mark leaves with set_requires_grad(), compose
// operations, call backward(). Here a two-layer network learns y = sin(3x)
// by gradient descent, and gradcheck confirms its gradients against finite
// differences.

#include <cmath>
#include <cstdio>

#include <vgt/vgt.hpp>

using namespace vgt;

static Tensor network(const Tensor& x, const Tensor& w1, const Tensor& b1, const Tensor& w2, const Tensor& b2) {
    return linear(tanh(linear(x, w1, b1)), w2, b2);
}

int main() {
    Generator gen(7);
    const std::int64_t n = 64, hidden = 32;
    Tensor x = rand({n, 1}, gen, DType::Float32, -1.0, 1.0);
    Tensor y = Tensor::empty({n, 1});
    for (std::int64_t i = 0; i < n; ++i) y.data<float>()[i] = std::sin(3.0f * x.data<float>()[i]);

    Tensor w1 = randn({hidden, 1}, gen, DType::Float32, 0.0, 1.0).set_requires_grad();
    Tensor b1 = Tensor::zeros({hidden}).set_requires_grad();
    Tensor w2 = randn({1, hidden}, gen, DType::Float32, 0.0, 0.2).set_requires_grad();
    Tensor b2 = Tensor::zeros({1}).set_requires_grad();
    std::vector<Tensor> params = {w1, b1, w2, b2};

    const double lr = 0.1;
    for (int step = 0; step <= 2000; ++step) {
        Tensor loss = mean(square(sub(network(x, w1, b1, w2, b2), y)));
        for (Tensor& p : params) p.zero_grad();
        backward(loss);
        {
            NoGradGuard no_grad;
            for (Tensor& p : params) {
                // In-place SGD step on the parameter's own storage.
                Tensor updated = sub(p, mul(p.grad(), lr));
                std::copy_n(updated.data<float>(), p.numel(), p.data<float>());
            }
        }
        if (step % 400 == 0) std::printf("step %4d  mse %.5f\n", step, loss.item());
    }

    // The same network in float64, checked against central differences.
    const auto f = [](const std::vector<Tensor>& in) { return network(in[0], in[1], in[2], in[3], in[4]); };
    const GradcheckResult check = gradcheck(
        f, {to(x, DType::Float64), to(detach(w1), DType::Float64), to(detach(b1), DType::Float64),
            to(detach(w2), DType::Float64), to(detach(b2), DType::Float64)});
    std::printf("gradcheck: %s (max |analytic - numeric| = %.2e)\n", check.passed ? "passed" : "FAILED",
                check.max_abs_error);
    return check.passed ? 0 : 1;
}
