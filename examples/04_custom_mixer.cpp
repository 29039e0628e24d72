// Writing your own temporal mixer. A mixer is any class with the members
// that temporal::check_temporal_mixer asks for; it then drops into every
// place a built-in mixer goes. This one is a causal temporal shift (after
// TSM, Lin et al. 2019): a quarter of the channels of each frame are replaced
// by those of the previous frame, and a 1×1 conv mixes them back in. Like the
// built-in mixers it is the identity when created (zero output conv), and
// frame t sees only frames ≤ t.

#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

#include <vgt/vgt.hpp>

using namespace vgt;

class CausalShift {
public:
    static constexpr std::string_view name = "CausalShift";

    CausalShift(const temporal::MixerOptions& o, Generator& gen)
        : norm_(nn::default_norm_groups(o.channels), o.channels, o.dtype),
          mix_(o.channels, o.channels, {1, 1}, {}, gen, o.dtype) {
        mix_.zero_();  // y = x at initialisation
    }

    Tensor forward(const Tensor& x) const {
        const auto v = temporal::VideoShape::of(x, "CausalShift");
        const Tensor h = temporal::unfold_frames(norm_.forward(temporal::fold_frames(x)), v.batch);
        const std::int64_t shifted = v.channels / 4;
        // Frames 0..T−2 of the first channels move one step later; frame 0 gets zeros.
        const Tensor past = slice(slice(h, 2, 0, shifted), 1, 0, v.frames - 1);
        const Tensor moved = pad(past, {0, 0, 0, 0, 0, 0, 1, 0});
        const Tensor mixed = concat({moved, slice(h, 2, shifted, v.channels)}, 2);
        return x + temporal::unfold_frames(mix_.forward(temporal::fold_frames(mixed)), v.batch);
    }

    std::int64_t params() const { return nn::count_parameters(*this); }
    double flops(const Shape& s) const { return mix_.flops(s[0] * s[1] * s[3] * s[4]); }
    bool is_causal() const { return true; }

    void visit_parameters(const nn::ParameterVisitor& visit, const std::string& prefix) {
        norm_.visit_parameters(visit, nn::join_name(prefix, "norm"));
        mix_.visit_parameters(visit, nn::join_name(prefix, "mix"));
    }

private:
    nn::GroupNorm norm_;
    nn::Conv mix_;
};

// One line tells you what is missing if the class is incomplete.
static_assert(temporal::check_temporal_mixer<CausalShift>());

static double max_abs(const Tensor& t) { return max(abs(t)).item<double>(); }

int main() {
    Generator gen(3);
    temporal::MixerOptions options;
    options.channels = 16;
    CausalShift mixer(options, gen);
    const Shape shape{2, 6, 16, 12, 12};
    const Tensor x = randn(shape, gen);

    std::printf("CausalShift: %lld parameters, %.2f MFLOPs forward for [2, 6, 16, 12, 12]\n",
                static_cast<long long>(mixer.params()), mixer.flops(shape) * 1e-6);
    for (const auto& [pname, p] : nn::named_parameters(mixer, "mixer"))
        std::printf("  %-18s %s\n", pname.c_str(), p.shape().str().c_str());
    std::printf("at init, max |y - x| = %g (the identity)\n", max_abs(mixer.forward(x) - x));

    // Train the 1×1 conv a few steps to copy the previous frame: the shift makes it learnable.
    const Tensor target = concat({slice(x, 1, 0, 1), slice(x, 1, 0, 5)}, 1);
    auto params = nn::named_parameters(mixer);
    for (int step = 0; step <= 30; ++step) {
        nn::zero_grad(mixer);
        const Tensor loss = mse_loss(mixer.forward(x), target);
        backward(loss);
        NoGradGuard no_grad;
        for (auto& [pname, p] : params) {
            const Tensor updated = p - p.grad() * 0.5;
            std::memcpy(p.raw_data(), updated.raw_data(), p.nbytes());
        }
        if (step % 10 == 0) std::printf("step %2d: loss %.4f\n", step, loss.item<double>());
    }

    // Causality, measured: changing the last frame leaves every earlier output frame as it was.
    NoGradGuard no_grad;
    const Tensor changed = concat({slice(x, 1, 0, 5), randn({2, 1, 16, 12, 12}, gen)}, 1);
    const Tensor dy = mixer.forward(changed) - mixer.forward(x);
    std::printf("after changing frame 5: max |dy| on frames 0-4 = %g, on frame 5 = %.3f\n",
                max_abs(slice(dy, 1, 0, 5)), max_abs(slice(dy, 1, 5, 6)));
    return 0;
}
