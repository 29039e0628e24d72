#pragma once
// Which words of its captions a text-to-video model uses. The probe takes
// the denoising loss of training clips with their own captions, then again
// with one kind of word swapped (each direction for its opposite, one
// colour for another, one shape for another) at the same noise and times.
// A swap that costs nothing names something the model ignores: sampling
// will not follow it either. It costs a few forward passes, far less than
// sampling, and answers the question before a long evaluation does.

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "vgt/autograd/node.hpp"
#include "vgt/core/error.hpp"
#include "vgt/core/random.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/data/moving_shapes.hpp"
#include "vgt/experiment/text_to_video.hpp"
#include "vgt/ops/device_copy.hpp"
#include "vgt/ops/join.hpp"

namespace vgt::experiment {

/// Whole words replaced by others; a pair (a, b) also maps b to a.
struct CaptionSwap {
    std::string name;                                       // "directions swapped", "red <-> green"
    std::vector<std::pair<std::string, std::string>> words;
};

/// `caption` with every whole word of `swap` replaced (letters decide word
/// boundaries; spacing and punctuation stay).
inline std::string swap_words(const std::string& caption, const CaptionSwap& swap) {
    std::string out;
    std::size_t i = 0;
    while (i < caption.size()) {
        if (!std::isalpha(static_cast<unsigned char>(caption[i]))) {
            out += caption[i++];
            continue;
        }
        std::size_t end = i;
        while (end < caption.size() && std::isalpha(static_cast<unsigned char>(caption[end]))) ++end;
        std::string word = caption.substr(i, end - i);
        for (const auto& [a, b] : swap.words) {
            if (word == a) {
                word = b;
                break;
            }
            if (word == b) {
                word = a;
                break;
            }
        }
        out += word;
        i = end;
    }
    return out;
}

/// The swaps that probe a MovingShapes model: directions for their
/// opposites, the palette's first two colours, its first two shapes.
inline std::vector<CaptionSwap> moving_shapes_swaps(const data::MovingShapes& clips) {
    std::vector<CaptionSwap> swaps{{"directions swapped", {{"left", "right"}, {"up", "down"}, {"upper", "lower"}}}};
    const auto colours = clips.colour_names();
    const auto shapes = clips.shape_names();
    if (colours.size() >= 2) swaps.push_back({colours[0] + " <-> " + colours[1], {{colours[0], colours[1]}}});
    if (shapes.size() >= 2) swaps.push_back({shapes[0] + " <-> " + shapes[1], {{shapes[0], shapes[1]}}});
    return swaps;
}

struct CaptionProbeRow {
    std::string name;  // "captions" for the unchanged ones
    double loss = 0.0;
    double ratio = 1.0;  // loss / the captions' loss
};

struct CaptionProbeOptions {
    std::int64_t clips = 96;  // clips 0 … clips−1 of the data set
    std::int64_t batch = 8;
    std::uint64_t seed = 0;  // the noise and times, the same for every row
};

/// The mean denoising loss (no condition dropout) of the clips with their
/// captions, then with each swap applied: row 0 is the captions.
inline std::vector<CaptionProbeRow> probe_captions(const TextToVideo& model, const data::MovingShapes& clips,
                                                   const std::vector<CaptionSwap>& swaps,
                                                   const CaptionProbeOptions& options = {}) {
    constexpr const char* op = "probe_captions";
    VGT_CHECK(options.clips >= 1 && options.clips <= clips.size() && options.batch >= 1, op,
              "expected clips in [1, {}] (the data set's size) and batch >= 1, found {} and {}", clips.size(),
              options.clips, options.batch);
    NoGradGuard no_grad;
    std::vector<std::pair<Tensor, std::vector<std::string>>> batches;
    for (std::int64_t first = 0; first < options.clips; first += options.batch) {
        std::vector<Tensor> videos;
        std::vector<std::string> captions;
        for (std::int64_t i = first; i < std::min(options.clips, first + options.batch); ++i) {
            data::ShapesClip clip = clips.get(i);
            videos.push_back(clip.video);
            captions.push_back(clip.caption);
        }
        batches.emplace_back(stack(videos, 0), std::move(captions));
    }
    const auto mean_loss = [&](const CaptionSwap* swap) {
        double total = 0.0;
        std::int64_t count = 0;
        for (std::size_t b = 0; b < batches.size(); ++b) {
            std::vector<std::string> captions = batches[b].second;
            if (swap)
                for (std::string& c : captions) c = swap_words(c, *swap);
            Generator gen(options.seed + b);
            const auto loss = model.training_loss(batches[b].first, captions, 0.0, gen);
            const auto n = static_cast<std::int64_t>(captions.size());
            total += to(loss.loss, Device::cpu()).item() * static_cast<double>(n);
            count += n;
        }
        return total / static_cast<double>(count);
    };
    std::vector<CaptionProbeRow> rows{{"captions", mean_loss(nullptr), 1.0}};
    for (const CaptionSwap& swap : swaps) {
        const double loss = mean_loss(&swap);
        rows.push_back({swap.name, loss, loss / rows[0].loss});
    }
    return rows;
}

}  // namespace vgt::experiment
