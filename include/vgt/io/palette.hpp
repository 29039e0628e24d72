#pragma once
// Colour palettes for indexed images (animated GIF): a palette chosen for the
// video's own colours by median cut, and the mapping of pixels onto it, with
// or without Floyd–Steinberg error diffusion.
//
// Works on 8-bit RGB pixels, interleaved (r, g, b, r, g, b, ...). A video with
// at most `max_colors` distinct colours gets exactly those colours, so its
// GIF is lossless; otherwise median cut splits the colour cube into boxes
// of similar weight (count times squared extent), each box contributing its
// pixel-weighted mean colour.

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "vgt/core/error.hpp"

namespace vgt::io {

/// Up to 256 RGB colours.
struct Palette {
    std::vector<std::array<std::uint8_t, 3>> colors;
};

namespace detail {

inline std::uint32_t pack_rgb(std::uint8_t r, std::uint8_t g, std::uint8_t b) {
    return std::uint32_t{r} << 16 | std::uint32_t{g} << 8 | std::uint32_t{b};
}
inline std::uint8_t channel_of(std::uint32_t packed, int channel) {
    return static_cast<std::uint8_t>(packed >> (16 - 8 * channel));
}

/// A distinct colour and how many sampled pixels have it.
struct ColorCount {
    std::uint32_t rgb;
    std::uint64_t count;
};

/// A box of the colour cube over entries [begin, end) of the histogram.
struct ColorBox {
    std::size_t begin, end;
    std::uint64_t count;
    int widest;       // channel with the largest extent
    int extent;       // that extent, 0..255
    double priority;  // count * extent^2: roughly the box's squared error
};

inline ColorBox make_box(const std::vector<ColorCount>& hist, std::size_t begin, std::size_t end) {
    std::array<int, 3> lo{255, 255, 255}, hi{0, 0, 0};
    std::uint64_t count = 0;
    for (std::size_t i = begin; i < end; ++i) {
        for (int c = 0; c < 3; ++c) {
            const int v = channel_of(hist[i].rgb, c);
            lo[c] = std::min(lo[c], v);
            hi[c] = std::max(hi[c], v);
        }
        count += hist[i].count;
    }
    ColorBox box{begin, end, count, 0, -1, 0};
    for (int c = 0; c < 3; ++c)
        if (hi[c] - lo[c] > box.extent) {
            box.extent = hi[c] - lo[c];
            box.widest = c;
        }
    box.priority = static_cast<double>(count) * box.extent * box.extent;
    return box;
}

}  // namespace detail

/// A palette of at most `max_colors` (1..256) colours for `rgb`
/// (interleaved 8-bit RGB). At most `max_samples` pixels, spread evenly over
/// the input, are counted; all of them when there are fewer.
inline Palette median_cut_palette(std::span<const std::uint8_t> rgb, int max_colors = 256,
                                  std::int64_t max_samples = std::int64_t{1} << 20) {
    using detail::ColorBox;
    using detail::ColorCount;
    VGT_CHECK(max_colors >= 1 && max_colors <= 256, "median_cut_palette", "expected 1 to 256 colours, found {}",
              max_colors);
    VGT_CHECK(rgb.size() % 3 == 0 && !rgb.empty(), "median_cut_palette",
              "expected a non-empty list of RGB triples, found {} bytes", rgb.size());
    VGT_CHECK(max_samples >= 1, "median_cut_palette", "expected max_samples >= 1, found {}", max_samples);

    // Histogram of the sampled colours: sort packed values, count runs.
    const std::size_t pixels = rgb.size() / 3;
    const std::size_t step = std::max<std::size_t>(
        1, (pixels + static_cast<std::size_t>(max_samples) - 1) / static_cast<std::size_t>(max_samples));
    std::vector<std::uint32_t> packed;
    packed.reserve(pixels / step + 1);
    for (std::size_t p = 0; p < pixels; p += step)
        packed.push_back(detail::pack_rgb(rgb[3 * p], rgb[3 * p + 1], rgb[3 * p + 2]));
    std::sort(packed.begin(), packed.end());
    std::vector<ColorCount> hist;
    for (std::size_t i = 0; i < packed.size();) {
        std::size_t j = i;
        while (j < packed.size() && packed[j] == packed[i]) ++j;
        hist.push_back({packed[i], j - i});
        i = j;
    }

    Palette palette;
    if (hist.size() <= static_cast<std::size_t>(max_colors)) {
        for (const ColorCount& entry : hist)
            palette.colors.push_back(
                {detail::channel_of(entry.rgb, 0), detail::channel_of(entry.rgb, 1), detail::channel_of(entry.rgb, 2)});
        return palette;
    }

    std::vector<ColorBox> boxes{detail::make_box(hist, 0, hist.size())};
    while (boxes.size() < static_cast<std::size_t>(max_colors)) {
        // The splittable box with the largest squared error.
        std::size_t pick = boxes.size();
        for (std::size_t i = 0; i < boxes.size(); ++i)
            if (boxes[i].end - boxes[i].begin > 1 && (pick == boxes.size() || boxes[i].priority > boxes[pick].priority))
                pick = i;
        if (pick == boxes.size()) break;
        const ColorBox box = boxes[pick];
        const int c = box.widest;
        auto first = hist.begin() + static_cast<std::ptrdiff_t>(box.begin);
        auto last = hist.begin() + static_cast<std::ptrdiff_t>(box.end);
        std::sort(first, last, [c](const ColorCount& a, const ColorCount& b) {
            return detail::channel_of(a.rgb, c) < detail::channel_of(b.rgb, c);
        });
        // Split at the weighted median, keeping at least one colour on each side.
        std::uint64_t seen = 0;
        std::size_t cut = box.begin + 1;
        for (std::size_t i = box.begin; i + 1 < box.end; ++i) {
            seen += hist[i].count;
            cut = i + 1;
            if (2 * seen >= box.count) break;
        }
        boxes[pick] = detail::make_box(hist, box.begin, cut);
        boxes.push_back(detail::make_box(hist, cut, box.end));
    }
    for (const ColorBox& box : boxes) {
        std::array<double, 3> sum{};
        for (std::size_t i = box.begin; i < box.end; ++i)
            for (int c = 0; c < 3; ++c)
                sum[c] += static_cast<double>(detail::channel_of(hist[i].rgb, c)) * static_cast<double>(hist[i].count);
        std::array<std::uint8_t, 3> color{};
        for (int c = 0; c < 3; ++c)
            color[c] = static_cast<std::uint8_t>(std::lround(sum[c] / static_cast<double>(box.count)));
        palette.colors.push_back(color);
    }
    return palette;
}

/// Nearest-colour lookups into one palette. Exact palette colours map to
/// themselves; other colours are cached on a 6-bit-per-channel grid (the
/// nearest colour to the cell's centre), which bounds the work per lookup.
class PaletteMapper {
public:
    explicit PaletteMapper(const Palette& palette) : palette_(palette), cache_(std::size_t{1} << 18, -1) {
        VGT_CHECK(!palette.colors.empty() && palette.colors.size() <= 256, "PaletteMapper",
                  "expected 1 to 256 colours, found {}", palette.colors.size());
        exact_.reserve(palette.colors.size());
        for (std::size_t i = 0; i < palette.colors.size(); ++i) {
            const auto& c = palette.colors[i];
            exact_.push_back({detail::pack_rgb(c[0], c[1], c[2]), static_cast<std::uint8_t>(i)});
        }
        std::sort(exact_.begin(), exact_.end());
    }

    std::uint8_t nearest(std::uint8_t r, std::uint8_t g, std::uint8_t b) {
        const std::uint32_t key = detail::pack_rgb(r, g, b);
        const auto hit = std::lower_bound(exact_.begin(), exact_.end(), std::pair<std::uint32_t, std::uint8_t>{key, 0});
        if (hit != exact_.end() && hit->first == key) return hit->second;
        const std::size_t cell = static_cast<std::size_t>((r >> 2) << 12 | (g >> 2) << 6 | (b >> 2));
        if (cache_[cell] < 0) cache_[cell] = search((r & ~3) + 2, (g & ~3) + 2, (b & ~3) + 2);
        return static_cast<std::uint8_t>(cache_[cell]);
    }

    const Palette& palette() const { return palette_; }

private:
    std::int16_t search(int r, int g, int b) const {
        int best = 0, best_distance = 1 << 30;
        for (std::size_t i = 0; i < palette_.colors.size(); ++i) {
            const auto& c = palette_.colors[i];
            const int dr = r - c[0], dg = g - c[1], db = b - c[2];
            const int distance = 2 * dr * dr + 4 * dg * dg + 3 * db * db;  // rough perceptual weights
            if (distance < best_distance) {
                best_distance = distance;
                best = static_cast<int>(i);
            }
        }
        return static_cast<std::int16_t>(best);
    }

    Palette palette_;
    std::vector<std::pair<std::uint32_t, std::uint8_t>> exact_;
    std::vector<std::int16_t> cache_;
};

/// Palette indices of one image (`height` x `width`, interleaved RGB).
/// `dither` diffuses each pixel's error to its unvisited neighbours
/// (Floyd–Steinberg), which keeps the local mean colour of smooth regions.
inline std::vector<std::uint8_t> map_to_palette(std::span<const std::uint8_t> rgb, std::int64_t height,
                                                std::int64_t width, PaletteMapper& mapper, bool dither) {
    VGT_CHECK(height >= 0 && width >= 0 && static_cast<std::int64_t>(rgb.size()) == 3 * height * width,
              "map_to_palette", "expected {} x {} x 3 bytes, found {}", height, width, rgb.size());
    std::vector<std::uint8_t> out(static_cast<std::size_t>(height * width));
    if (!dither) {
        for (std::size_t p = 0; p < out.size(); ++p)
            out[p] = mapper.nearest(rgb[3 * p], rgb[3 * p + 1], rgb[3 * p + 2]);
        return out;
    }
    // Errors carried to this row and the next, with a cell of margin on each side.
    const auto row_len = static_cast<std::size_t>(3 * (width + 2));
    std::vector<float> here(row_len, 0.0f), below(row_len, 0.0f);
    const auto& colors = mapper.palette().colors;
    for (std::int64_t y = 0; y < height; ++y) {
        std::fill(below.begin(), below.end(), 0.0f);
        for (std::int64_t x = 0; x < width; ++x) {
            const auto p = static_cast<std::size_t>(y * width + x);
            const auto e = static_cast<std::size_t>(3 * (x + 1));
            std::array<float, 3> want{};
            std::array<std::uint8_t, 3> clamped{};
            for (int c = 0; c < 3; ++c) {
                // Clamped before the error is taken, so saturated regions cannot pile error up.
                want[c] = std::clamp(static_cast<float>(rgb[3 * p + static_cast<std::size_t>(c)]) +
                                         here[e + static_cast<std::size_t>(c)],
                                     0.0f, 255.0f);
                clamped[c] = static_cast<std::uint8_t>(std::lround(want[c]));
            }
            const std::uint8_t index = mapper.nearest(clamped[0], clamped[1], clamped[2]);
            out[p] = index;
            for (std::size_t c = 0; c < 3; ++c) {
                const float err = want[c] - static_cast<float>(colors[index][c]);
                here[e + 3 + c] += err * (7.0f / 16.0f);
                below[e - 3 + c] += err * (3.0f / 16.0f);
                below[e + c] += err * (5.0f / 16.0f);
                below[e + 3 + c] += err * (1.0f / 16.0f);
            }
        }
        std::swap(here, below);
    }
    return out;
}

}  // namespace vgt::io
