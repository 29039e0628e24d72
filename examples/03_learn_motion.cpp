// A convolution learns motion. Squares drift one pixel right and one pixel
// down per frame; a 5×5 conv2d sees frame t and predicts frame t+1. Trained
// by plain gradient descent on the tape's gradients, its kernel converges to
// a shift: the weight concentrates one tap up-left of the centre, which is
// exactly the displacement (+1, +1) read backwards.

#include <cstdio>

#include <vgt/vgt.hpp>

using namespace vgt;

namespace {

constexpr std::int64_t kSize = 20;

// A batch of (frame t, frame t+1) pairs: a 4×4 square at a random position,
// moved by (+1, +1), with a random brightness.
std::pair<Tensor, Tensor> make_batch(std::int64_t batch, Generator& gen) {
    Tensor u = rand({batch, 3}, gen);
    Tensor now = Tensor::zeros({batch, 1, kSize, kSize});
    Tensor next = Tensor::zeros({batch, 1, kSize, kSize});
    for (std::int64_t b = 0; b < batch; ++b) {
        const auto* r = u.data<float>() + 3 * b;
        const auto y0 = static_cast<std::int64_t>(r[0] * (kSize - 6)), x0 = static_cast<std::int64_t>(r[1] * (kSize - 6));
        const float level = 0.5f + r[2];
        for (std::int64_t y = 0; y < 4; ++y)
            for (std::int64_t x = 0; x < 4; ++x) {
                now.data<float>()[(b * kSize + y0 + y) * kSize + x0 + x] = level;
                next.data<float>()[(b * kSize + y0 + y + 1) * kSize + x0 + x + 1] = level;
            }
    }
    return {now, next};
}

}  // namespace

int main() {
    Generator gen(2024);
    Tensor weight = randn({1, 1, 5, 5}, gen, DType::Float32, 0.0, 0.05).set_requires_grad();
    Tensor bias = Tensor::zeros({1}).set_requires_grad();
    const ConvOptions same{.padding = {2}};

    const auto [test_now, test_next] = make_batch(64, gen);
    const double copy_mse = mse_loss(test_now, test_next).item();

    const double lr = 0.5;
    for (int step = 0; step <= 300; ++step) {
        auto [now, next] = make_batch(16, gen);
        Tensor loss = mse_loss(conv2d(now, weight, bias, same), next);
        weight.zero_grad();
        bias.zero_grad();
        backward(loss);
        {
            NoGradGuard no_grad;
            for (Tensor* p : {&weight, &bias}) {
                Tensor updated = sub(*p, mul(p->grad(), lr));
                std::copy_n(updated.data<float>(), p->numel(), p->data<float>());
            }
        }
        if (step % 50 == 0) {
            NoGradGuard no_grad;
            const double test = mse_loss(conv2d(test_now, weight, bias, same), test_next).item();
            std::printf("step %3d  train mse %.5f  held-out mse %.5f\n", step, loss.item(), test);
        }
    }

    NoGradGuard no_grad;
    const double final_mse = mse_loss(conv2d(test_now, weight, bias, same), test_next).item();
    std::printf("held-out mse: copying frame t %.5f, learned conv %.5f (%.0fx lower)\n", copy_mse, final_mse,
                copy_mse / final_mse);
    std::printf("learned 5x5 kernel (rows top to bottom):\n");
    const auto w = weight.to_vector();
    for (int y = 0; y < 5; ++y) {
        std::printf("  ");
        for (int x = 0; x < 5; ++x) std::printf("%6.2f ", w[y * 5 + x]);
        std::printf("\n");
    }
    const std::int64_t peak = argmax(reshape(detach(weight), {25}), 0).item<std::int64_t>();
    const std::int64_t dy = 2 - peak / 5, dx = 2 - peak % 5;
    std::printf("largest tap at offset (%lld, %lld) from the centre: motion (dx, dy) = (%+lld, %+lld) px/frame\n",
                static_cast<long long>(peak % 5 - 2), static_cast<long long>(peak / 5 - 2),
                static_cast<long long>(dx), static_cast<long long>(dy));
    return dx == 1 && dy == 1 ? 0 : 1;
}
