#pragma once
// Gen-1's structure conditioning (Esser et al. 2023, "Structure and
// Content-Guided Video Synthesis with Diffusion Models"): a one-channel map
// per frame that says where the source video's shapes are, coarsened by a
// structure level t_s, at the latent's resolution so that it can be
// concatenated to the noisy latent.
//
// For a source video [B, T, 3, H, W] and a latent of H' × W':
//   1. source map [B, T, 1, H, W], per frame in [0, 1]:
//        a depth map [B, T, 1, H, W] when the caller supplies one,
//          min-max normalised per frame: (d − min) / (max − min);
//        otherwise luminance edges: Y = 0.299 R + 0.587 G + 0.114 B
//          (ITU-R BT.601), the Sobel gradient magnitude √(Gx² + Gy²) with
//          Gx = [[−1, 0, 1], [−2, 0, 2], [−1, 0, 1]] and Gy = Gxᵀ (borders
//          replicated), divided by its largest value in the frame;
//        a constant frame gives 0 either way.
//   2. area resize to H' × W': output pixel (i, j) is the mean of the
//      source rows ⌊iH/H'⌋ … ⌈(i+1)H/H'⌉ − 1 and the columns alike
//      (PyTorch's adaptive_avg_pool2d, F.interpolate mode "area").
//   3. structure level t_s ≥ 0: a Gaussian blur with σ = t_s ·
//      sigma_per_level latent pixels, taps k = −r … r with r = ⌈3σ⌉,
//      weights exp(−k²/2σ²) normalised to sum 1, separable (rows, then
//      columns), borders replicated. t_s = 0 keeps every detail.
// Blurring after the resize measures σ in latent pixels, so a level means
// the same coarseness whatever the source resolution.
//
// No parameters and no gradient: the map is data, computed in float64 and
// returned in the video's dtype.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "vgt/core/error.hpp"
#include "vgt/core/parallel.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/ops/view.hpp"

namespace vgt::models {

struct StructureOptions {
    std::int64_t level = 0;        // t_s: 0 keeps full detail, each level blurs more
    double sigma_per_level = 1.0;  // σ = level · sigma_per_level, in latent pixels

    /// Throws vgt::Error naming the first option out of its range.
    void validate() const {
        constexpr const char* op = "StructureOptions";
        VGT_CHECK(level >= 0, op, "expected a structure level >= 0, found {}", level);
        VGT_CHECK(std::isfinite(sigma_per_level) && sigma_per_level > 0, op,
                  "expected a finite sigma_per_level > 0, found {}", sigma_per_level);
    }
};

template <class Visitor>
void visit_fields(Visitor& v, StructureOptions& o) {
    v("level", o.level);
    v("sigma_per_level", o.sigma_per_level);
}

namespace detail {

/// x as a contiguous float64 tensor cut off from the tape.
inline Tensor float64_values(const Tensor& x) { return contiguous(to(detach(x), DType::Float64)); }

inline void require_finite(const Tensor& values, const char* op, const char* what) {
    const double* p = values.data<double>();
    for (std::int64_t i = 0; i < values.numel(); ++i)
        VGT_CHECK(std::isfinite(p[i]), op, "expected finite {} values, found {} at element {}", what, p[i], i);
}

/// Checks x is [..., H, W] with H, W ≥ 1; returns the number of planes.
inline std::int64_t plane_count(const Tensor& x, const char* op) {
    VGT_CHECK(x.rank() >= 2 && x.size(-1) >= 1 && x.size(-2) >= 1, op,
              "expected maps [..., H, W] with H, W >= 1, found shape {}", x.shape());
    return x.numel() / (x.size(-1) * x.size(-2));
}

/// Scales each plane of `values` (float64, contiguous) so that its largest
/// value is 1 (after subtracting its smallest with `subtract_min`); a
/// constant plane becomes 0.
inline void normalise_planes(Tensor& values, std::int64_t planes, bool subtract_min) {
    const std::int64_t size = values.numel() / std::max<std::int64_t>(planes, 1);
    double* base = values.data<double>();
    parallel_for(planes, [&](std::int64_t p) {
        double* v = base + p * size;
        const auto [lo, hi] = std::minmax_element(v, v + size);
        const double shift = subtract_min ? *lo : 0.0;
        const double range = *hi - shift;
        for (std::int64_t i = 0; i < size; ++i) v[i] = range > 0 ? (v[i] - shift) / range : 0.0;
    }, 1);
}

}  // namespace detail

/// BT.601 luma Y = 0.299 R + 0.587 G + 0.114 B of a video [B, T, 3, H, W],
/// as [B, T, 1, H, W] in the video's dtype.
inline Tensor luma(const Tensor& video) {
    constexpr const char* op = "luma";
    VGT_CHECK(video.rank() == 5 && video.size(2) == 3, op, "expected an RGB video [B, T, 3, H, W], found shape {}",
              video.shape());
    VGT_CHECK(is_floating(video.dtype()), op, "expected a float video, found {}", dtype_name(video.dtype()));
    const Tensor v = detail::float64_values(video);
    const std::int64_t frames = video.size(0) * video.size(1), pixels = video.size(3) * video.size(4);
    Tensor y = Tensor::empty(Shape{video.size(0), video.size(1), 1, video.size(3), video.size(4)}, DType::Float64);
    const double* in = v.data<double>();
    double* out = y.data<double>();
    parallel_for(frames * pixels, [&](std::int64_t i) {
        const double* rgb = in + (i / pixels) * 3 * pixels + i % pixels;
        out[i] = 0.299 * rgb[0] + 0.587 * rgb[pixels] + 0.114 * rgb[2 * pixels];
    });
    return to(y, video.dtype());
}

/// The luminance-edge map of a video [B, T, 3, H, W]: Sobel gradient
/// magnitude of the BT.601 luma, divided per frame by its largest value;
/// [B, T, 1, H, W] in the video's dtype, values in [0, 1].
inline Tensor edge_map(const Tensor& video) {
    constexpr const char* op = "edge_map";
    const Tensor y = detail::float64_values(luma(video));
    detail::require_finite(y, op, "video");
    const std::int64_t planes = video.size(0) * video.size(1), h = video.size(3), w = video.size(4);
    Tensor edges = Tensor::empty(y.shape(), DType::Float64);
    const double* in = y.data<double>();
    double* out = edges.data<double>();
    parallel_for(planes, [&](std::int64_t p) {
        const double* image = in + p * h * w;
        const auto at = [&](std::int64_t r, std::int64_t c) {
            return image[std::clamp<std::int64_t>(r, 0, h - 1) * w + std::clamp<std::int64_t>(c, 0, w - 1)];
        };
        for (std::int64_t r = 0; r < h; ++r)
            for (std::int64_t c = 0; c < w; ++c) {
                const double gx = (at(r - 1, c + 1) - at(r - 1, c - 1)) + 2.0 * (at(r, c + 1) - at(r, c - 1)) +
                                  (at(r + 1, c + 1) - at(r + 1, c - 1));
                const double gy = (at(r + 1, c - 1) - at(r - 1, c - 1)) + 2.0 * (at(r + 1, c) - at(r - 1, c)) +
                                  (at(r + 1, c + 1) - at(r - 1, c + 1));
                out[(p * h + r) * w + c] = std::sqrt(gx * gx + gy * gy);
            }
    }, 1);
    detail::normalise_planes(edges, planes, false);
    return to(edges, video.dtype());
}

/// Depth maps [..., H, W] min-max normalised per plane to [0, 1] (a
/// constant plane becomes 0), in the input's dtype.
inline Tensor normalize_depth(const Tensor& depth) {
    constexpr const char* op = "normalize_depth";
    VGT_CHECK(is_floating(depth.dtype()), op, "expected a float depth map, found {}", dtype_name(depth.dtype()));
    const std::int64_t planes = detail::plane_count(depth, op);
    Tensor values = clone(detail::float64_values(depth));
    detail::require_finite(values, op, "depth");
    detail::normalise_planes(values, planes, true);
    return to(values, depth.dtype());
}

/// Area resize of maps [..., H, W] to [..., height, width]: each output
/// pixel averages its bin of source pixels, as PyTorch's
/// adaptive_avg_pool2d. In the input's dtype.
inline Tensor area_resize(const Tensor& maps, std::int64_t height, std::int64_t width) {
    constexpr const char* op = "area_resize";
    VGT_CHECK(is_floating(maps.dtype()), op, "expected float maps, found {}", dtype_name(maps.dtype()));
    const std::int64_t planes = detail::plane_count(maps, op);
    VGT_CHECK(height >= 1 && width >= 1, op, "expected an output size of at least 1 × 1, found {} × {}", height, width);
    const std::int64_t h = maps.size(-2), w = maps.size(-1);
    const Tensor v = detail::float64_values(maps);
    Shape out_shape = maps.shape();
    out_shape[out_shape.rank() - 2] = height;
    out_shape[out_shape.rank() - 1] = width;
    Tensor out = Tensor::empty(out_shape, DType::Float64);
    const double* in = v.data<double>();
    double* o = out.data<double>();
    parallel_for(planes * height, [&](std::int64_t row) {
        const std::int64_t p = row / height, i = row % height;
        const std::int64_t r0 = i * h / height, r1 = ((i + 1) * h + height - 1) / height;
        for (std::int64_t j = 0; j < width; ++j) {
            const std::int64_t c0 = j * w / width, c1 = ((j + 1) * w + width - 1) / width;
            double total = 0;
            for (std::int64_t r = r0; r < r1; ++r)
                for (std::int64_t c = c0; c < c1; ++c) total += in[(p * h + r) * w + c];
            o[row * width + j] = total / static_cast<double>((r1 - r0) * (c1 - c0));
        }
    });
    return to(out, maps.dtype());
}

/// The taps exp(−k²/2σ²), k = −r … r with r = ⌈3σ⌉, normalised to sum 1;
/// {1} for σ = 0.
inline std::vector<double> gaussian_kernel(double sigma) {
    VGT_CHECK(std::isfinite(sigma) && sigma >= 0, "gaussian_kernel", "expected a finite sigma >= 0, found {}", sigma);
    if (sigma == 0) return {1.0};
    const auto radius = static_cast<std::int64_t>(std::ceil(3.0 * sigma));
    std::vector<double> taps;
    double total = 0;
    for (std::int64_t k = -radius; k <= radius; ++k) {
        taps.push_back(std::exp(-static_cast<double>(k * k) / (2.0 * sigma * sigma)));
        total += taps.back();
    }
    for (double& t : taps) t /= total;
    return taps;
}

/// Separable Gaussian blur of maps [..., H, W] with the taps of
/// gaussian_kernel(sigma), rows then columns, borders replicated. In the
/// input's dtype; σ = 0 returns a copy.
inline Tensor gaussian_blur(const Tensor& maps, double sigma) {
    constexpr const char* op = "gaussian_blur";
    VGT_CHECK(is_floating(maps.dtype()), op, "expected float maps, found {}", dtype_name(maps.dtype()));
    const std::int64_t planes = detail::plane_count(maps, op);
    const std::vector<double> taps = gaussian_kernel(sigma);
    const auto radius = static_cast<std::int64_t>(taps.size() / 2);
    const std::int64_t h = maps.size(-2), w = maps.size(-1);
    Tensor values = clone(detail::float64_values(maps));
    double* base = values.data<double>();
    // One line of n values, `stride` apart, replaced by its blur.
    const auto blur_line = [&](double* first, std::int64_t n, std::int64_t stride, std::vector<double>& line) {
        line.resize(static_cast<std::size_t>(n));
        for (std::int64_t i = 0; i < n; ++i) line[static_cast<std::size_t>(i)] = first[i * stride];
        for (std::int64_t i = 0; i < n; ++i) {
            double total = 0;
            for (std::int64_t k = -radius; k <= radius; ++k)
                total += taps[static_cast<std::size_t>(k + radius)] *
                         line[static_cast<std::size_t>(std::clamp<std::int64_t>(i + k, 0, n - 1))];
            first[i * stride] = total;
        }
    };
    parallel_for(planes, [&](std::int64_t p) {
        double* image = base + p * h * w;
        std::vector<double> line;
        for (std::int64_t r = 0; r < h; ++r) blur_line(image + r * w, w, 1, line);
        for (std::int64_t c = 0; c < w; ++c) blur_line(image + c, h, w, line);
    }, 1);
    return to(values, maps.dtype());
}

/// The structure map [B, T, 1, height, width] of a source video
/// [B, T, 3, H, W] at structure level options.level, from `depth`
/// [B, T, 1, H, W] when given and from luminance edges otherwise (see the
/// top of this header). In the video's dtype.
inline Tensor structure_map(const Tensor& video, std::int64_t height, std::int64_t width,
                            const StructureOptions& options = {}, const Tensor& depth = {}) {
    constexpr const char* op = "structure_map";
    options.validate();
    VGT_CHECK(video.rank() == 5 && video.size(2) == 3, op, "expected an RGB video [B, T, 3, H, W], found shape {}",
              video.shape());
    VGT_CHECK(is_floating(video.dtype()), op, "expected a float video, found {}", dtype_name(video.dtype()));
    VGT_CHECK(video.size(3) >= 1 && video.size(4) >= 1, op, "expected frames of at least 1 × 1, found shape {}",
              video.shape());
    VGT_CHECK(height >= 1 && width >= 1, op, "expected a latent size of at least 1 × 1, found {} × {}", height, width);
    Tensor source;
    if (depth.defined()) {
        const Shape expected{video.size(0), video.size(1), 1, video.size(3), video.size(4)};
        VGT_CHECK(depth.shape() == expected, op, "expected a depth map {} for the video {}, found {}", expected,
                  video.shape(), depth.shape());
        source = normalize_depth(depth);
    } else {
        source = edge_map(video);
    }
    const double sigma = static_cast<double>(options.level) * options.sigma_per_level;
    return to(gaussian_blur(area_resize(to(source, DType::Float64), height, width), sigma), video.dtype());
}

}  // namespace vgt::models
