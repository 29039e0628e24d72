// Builds a small graph and checks one gradient: exits non-zero on a mismatch.
#include <vgt/vgt.hpp>

#include <cmath>
#include <cstdio>

int main() {
    vgt::Tensor x = vgt::Tensor::full({2, 3}, 2.0).set_requires_grad();
    vgt::Tensor loss = vgt::sum(vgt::mul(x, x));
    vgt::backward(loss);
    const double g = x.grad().to_vector<double>()[0];
    std::printf("d(sum x^2)/dx at 2 = %g\n", g);
    return std::abs(g - 4.0) < 1e-6 ? 0 : 1;
}
