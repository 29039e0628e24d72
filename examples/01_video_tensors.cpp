// Video-shaped tensors: a clip is [B, T, C, H, W]. Per-frame work folds T
// into the batch; temporal work sees each pixel's sequence. Both are views
// or one copy away, and frame differences are a slice and a subtraction.

#include <cstdio>

#include <vgt/vgt.hpp>

using namespace vgt;

// A bright 3×3 square moving one pixel right per frame on a dark background.
static Tensor moving_square(std::int64_t frames, std::int64_t size) {
    Tensor video = Tensor::zeros({1, frames, 1, size, size});
    float* p = video.data<float>();
    for (std::int64_t t = 0; t < frames; ++t)
        for (std::int64_t y = 6; y < 9; ++y)
            for (std::int64_t x = 2 + t; x < 5 + t; ++x) p[(t * size + y) * size + x] = 1.0f;
    return video;
}

int main() {
    const Tensor video = moving_square(8, 16);
    std::printf("clip %s, strides %s\n", video.str().c_str(), video.strides().str().c_str());

    // [B, T, C, H, W] -> [B·T, C, H, W]: a free reshape for per-frame layers.
    const Tensor frames = reshape(video, {-1, 1, 16, 16});
    std::printf("per-frame view %s shares storage: %s\n", frames.shape().str().c_str(),
                frames.same_storage(video) ? "yes" : "no");

    // [B, T, C, H, W] -> [B, H, W, T, C]: each pixel's sequence, a strided view.
    const Tensor sequences = permute(video, {0, 3, 4, 1, 2});
    std::printf("per-pixel view %s, contiguous: %s\n", sequences.shape().str().c_str(),
                sequences.is_contiguous() ? "yes" : "no");

    // Adjacent frames differ only where the square moved: two columns per step.
    const Tensor delta = sub(slice(video, 1, 1, 8), slice(video, 1, 0, 7));
    const Tensor changed_per_step = sum(abs(delta), {0, 2, 3, 4});
    std::printf("pixels changed between adjacent frames: ");
    for (double v : changed_per_step.to_vector()) std::printf("%g ", v);
    std::printf("\n");

    // Centre of mass along x per frame: the motion, recovered from pixels.
    Tensor xs = Tensor::empty({16});
    for (int i = 0; i < 16; ++i) xs.data<float>()[i] = static_cast<float>(i);
    const Tensor mass = sum(video, {0, 2, 3, 4});
    const Tensor moment = sum(mul(video, xs), {0, 2, 3, 4});
    std::printf("square centre x per frame: ");
    const auto m = mass.to_vector(), c = moment.to_vector();
    for (std::size_t t = 0; t < m.size(); ++t) std::printf("%g ", c[t] / m[t]);
    std::printf("\n");
    return 0;
}
