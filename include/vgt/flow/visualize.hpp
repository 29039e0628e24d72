#pragma once
// Flow fields as colour images, by the colour wheel of the Middlebury
// optical-flow benchmark (Baker et al., IJCV 2011): the hue gives the
// direction of motion, the saturation its magnitude, and zero motion is
// white.
//
// The wheel has 55 colours in six ramps around the circle: red → yellow
// (15 steps), yellow → green (6), green → cyan (4), cyan → blue (11),
// blue → magenta (13), magenta → red (6). A vector (u, v), divided by the
// scale, has angle a = atan2(−v, −u)/π ∈ [−1, 1] and magnitude ρ; its
// colour c interpolates the wheel linearly at (a + 1)/2 · 54, and the
// pixel is 1 − ρ·(1 − c) for ρ ≤ 1 (white fading into the wheel colour),
// 0.75·c beyond (flows larger than the scale are drawn darker). With y
// pointing down the image, motion to the right is red, down yellow, left
// cyan-blue, up violet.
//
// Output: [3, H, W] for a field [2, H, W], [N, 3, H, W] for [N, 2, H, W],
// RGB in [0, 1] in the flow's dtype, ready for the image and video writers.
// A NaN or infinite vector (unknown flow) is black. No gradient.

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "vgt/core/dispatch.hpp"
#include "vgt/core/dtype.hpp"
#include "vgt/core/error.hpp"
#include "vgt/core/macros.hpp"
#include "vgt/core/parallel.hpp"
#include "vgt/core/shape.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/flow/flow_field.hpp"
#include "vgt/ops/view.hpp"

namespace vgt::flow {

struct FlowColorOptions {
    // The magnitude drawn fully saturated, in pixels; 0 takes the largest
    // finite magnitude in the whole tensor (one scale for every item of a
    // batch, so a video's frames are comparable).
    double max_magnitude = 0.0;
};

/// The number of colours on the wheel.
inline constexpr int kColorWheelSize = 55;

namespace kernels {

/// Colour k of the wheel (0 ≤ k < 55), RGB in [0, 1].
template <class T>
VGT_HOST_DEVICE void color_wheel_entry(int k, T* rgb) {
    // Ramp lengths red→yellow, yellow→green, green→cyan, cyan→blue, blue→magenta, magenta→red.
    constexpr int ramps[6] = {15, 6, 4, 11, 13, 6};
    int ramp = 0;
    while (k >= ramps[ramp]) k -= ramps[ramp++];
    // The wheel's ramps step in whole units of 1/255, as the original 8-bit table.
    const T step = T(static_cast<int>(255 * k / ramps[ramp])) / T(255);
    switch (ramp) {
        case 0: rgb[0] = T(1); rgb[1] = step; rgb[2] = T(0); break;
        case 1: rgb[0] = T(1) - step; rgb[1] = T(1); rgb[2] = T(0); break;
        case 2: rgb[0] = T(0); rgb[1] = T(1); rgb[2] = step; break;
        case 3: rgb[0] = T(0); rgb[1] = T(1) - step; rgb[2] = T(1); break;
        case 4: rgb[0] = step; rgb[1] = T(0); rgb[2] = T(1); break;
        default: rgb[0] = T(1); rgb[1] = T(0); rgb[2] = T(1) - step; break;
    }
}

/// One call per pixel of [N, H, W]: the colour of its flow vector divided by
/// the scale.
template <class T>
struct FlowColor {
    const T* flow;  // [N, 2, H, W]
    T* rgb;         // [N, 3, H, W]
    T inverse_scale;
    std::int64_t pixels;
    VGT_HOST_DEVICE void operator()(std::int64_t i) const {
        const std::int64_t n = i / pixels, q = i % pixels;
        T* out = rgb + 3 * n * pixels + q;
        const T u = flow[2 * n * pixels + q] * inverse_scale, v = flow[(2 * n + 1) * pixels + q] * inverse_scale;
        if (!(std::isfinite(u) && std::isfinite(v))) {
            out[0] = out[pixels] = out[2 * pixels] = T(0);
            return;
        }
        const T radius = std::sqrt(u * u + v * v);
        const T angle = std::atan2(-v, -u) / T(3.14159265358979323846);
        T position = (angle + T(1)) / T(2) * T(kColorWheelSize - 1);
        // Motion straight right has angle −1 or +1 by the sign of a zero v:
        // both are the wheel's first colour, pure red.
        if (!(position < T(kColorWheelSize - 1))) position = T(0);
        int k0 = static_cast<int>(position);
        k0 = k0 < 0 ? 0 : (k0 > kColorWheelSize - 1 ? kColorWheelSize - 1 : k0);
        const int k1 = k0 + 1 == kColorWheelSize ? 0 : k0 + 1;
        const T f = position - T(k0);
        T c0[3], c1[3];
        color_wheel_entry(k0, c0);
        color_wheel_entry(k1, c1);
        for (int c = 0; c < 3; ++c) {
            const T col = (T(1) - f) * c0[c] + f * c1[c];
            out[c * pixels] = radius <= T(1) ? T(1) - radius * (T(1) - col) : T(0.75) * col;
        }
    }
};

}  // namespace kernels

/// The largest finite |flow| over every pixel of a field (0 for none).
inline double max_flow_magnitude(const Tensor& flow) {
    const detail::FlowLayout l = detail::flow_layout(flow, "max_flow_magnitude");
    const Tensor f = vgt::detail::contiguous_data(flow);
    return dispatch_floating(f, "max_flow_magnitude", [&]<class T>() {
        const T* p = f.data<T>();
        double largest = 0;
        for (std::int64_t n = 0; n < l.n; ++n)
            for (std::int64_t q = 0; q < l.pixels(); ++q) {
                const double u = p[2 * n * l.pixels() + q], v = p[(2 * n + 1) * l.pixels() + q];
                const double m = std::sqrt(u * u + v * v);
                if (std::isfinite(m)) largest = std::max(largest, m);
            }
        return largest;
    });
}

/// A flow field [2, H, W] or [N, 2, H, W] drawn with the colour wheel:
/// RGB [3, H, W] or [N, 3, H, W] in [0, 1].
inline Tensor flow_to_rgb(const Tensor& flow, const FlowColorOptions& options = {}) {
    VGT_CHECK(std::isfinite(options.max_magnitude) && options.max_magnitude >= 0.0, "flow_to_rgb",
              "expected a finite max_magnitude ≥ 0 (0: the field's largest), found {}", options.max_magnitude);
    const detail::FlowLayout l = detail::flow_layout(flow, "flow_to_rgb");
    double scale = options.max_magnitude > 0.0 ? options.max_magnitude : max_flow_magnitude(flow);
    if (scale <= 0.0) scale = 1.0;  // an all-zero field: every pixel white
    const Tensor f = vgt::detail::contiguous_data(flow);
    Tensor rgb = Tensor::empty(l.batched ? Shape{l.n, 3, l.h, l.w} : Shape{3, l.h, l.w}, flow.dtype());
    dispatch_floating(f, "flow_to_rgb", [&]<class T>() {
        parallel_for(l.n * l.pixels(),
                     kernels::FlowColor<T>{f.data<T>(), rgb.data<T>(), T(1.0 / scale), l.pixels()}, 2048);
    });
    return rgb;
}

/// The key to the colours: a size × size image [3, size, size] of the flow
/// (x − c, y − c) about the centre c, at the scale of the inscribed circle's
/// radius (the disc shows every direction and magnitude up to the scale;
/// its corners, beyond it, are darker).
inline Tensor color_wheel_legend(std::int64_t size, DType dtype = DType::Float32) {
    VGT_CHECK(size >= 2, "color_wheel_legend", "expected a size of at least 2, found {}", size);
    Tensor field = Tensor::empty(Shape{2, size, size}, DType::Float64);
    double* p = field.data<double>();
    const double centre = 0.5 * static_cast<double>(size - 1);
    for (std::int64_t y = 0; y < size; ++y)
        for (std::int64_t x = 0; x < size; ++x) {
            p[y * size + x] = static_cast<double>(x) - centre;
            p[size * size + y * size + x] = static_cast<double>(y) - centre;
        }
    return to(flow_to_rgb(field, FlowColorOptions{centre}), dtype);
}

}  // namespace vgt::flow
