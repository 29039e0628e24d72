#pragma once
// Named colours for the synthetic data sets. Colours are 8-bit sRGB triples
// (what a PNG stores), and names are single lowercase words, so a caption's
// colour is one token that a parser can match exactly.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "vgt/core/error.hpp"

namespace vgt::data {

struct NamedColour {
    std::string name;                 // one lowercase word: "red"
    std::array<std::uint8_t, 3> rgb;  // 0..255

    /// The colour as floats in [0, 1], as it appears in a video tensor.
    std::array<float, 3> unit_rgb() const {
        return {rgb[0] / 255.0f, rgb[1] / 255.0f, rgb[2] / 255.0f};
    }
};

using Palette = std::vector<NamedColour>;

/// Eight saturated colours, far apart in RGB so that colour segmentation
/// separates them, and all far from the dark grey of the background textures.
inline Palette default_palette() {
    return {{"red", {255, 0, 0}},      {"green", {0, 255, 0}},   {"blue", {0, 0, 255}},
            {"yellow", {255, 255, 0}}, {"cyan", {0, 255, 255}},  {"magenta", {255, 0, 255}},
            {"orange", {255, 128, 0}}, {"white", {255, 255, 255}}};
}

/// Red, green and blue only: the smallest palette, for the easiest task.
inline Palette primary_palette() { return {{"red", {255, 0, 0}}, {"green", {0, 255, 0}}, {"blue", {0, 0, 255}}}; }

/// The palettes by name ("default", "primary"), for the command line and configs.
inline Palette palette_named(std::string_view name) {
    if (name == "default") return default_palette();
    if (name == "primary") return primary_palette();
    fail("palette_named", "expected a palette name (default, primary), found '{}'", name);
}

/// Throws unless every name is a distinct non-empty lowercase word.
inline void validate_palette(const Palette& palette, std::string_view op) {
    VGT_CHECK(!palette.empty(), op, "expected a palette with at least one colour, found none");
    for (std::size_t i = 0; i < palette.size(); ++i) {
        const std::string& name = palette[i].name;
        bool word = !name.empty();
        for (char c : name) word &= (c >= 'a' && c <= 'z');
        VGT_CHECK(word, op, "expected colour names of lowercase letters a-z, found '{}'", name);
        for (std::size_t j = 0; j < i; ++j)
            VGT_CHECK(palette[j].name != name, op, "expected distinct colour names, found '{}' twice", name);
    }
}

/// The colour with this name, or nullptr.
inline const NamedColour* find_colour(const Palette& palette, std::string_view name) {
    for (const auto& c : palette)
        if (c.name == name) return &c;
    return nullptr;
}

}  // namespace vgt::data
