#pragma once
// Captions of synthetic clips, made from the objects' attributes, and the
// parser that reads them back (the metrics compare a prompt's objects with
// what a video shows).
//
// The direction rule. Image coordinates: x grows to the right, y grows down,
// so "up" is -y. A velocity (vx, vy) in pixels per frame is
//   - "still" when vx² + vy² < kStillSpeed²;
//   - otherwise the compass direction of the 45° sector it falls in, sectors
//     centred on the eight directions: with ax = |vx|, ay = |vy|, it is
//     horizontal when ay <= tan(22.5°)·ax, vertical when ax <= tan(22.5°)·ay,
//     diagonal otherwise. tan(22.5°) = √2 - 1, so the test is done exactly as
//     (ax + ay)² <= 2·ax² (and the same with ay), with no trigonometry.
// A synthetic clip's caption names the direction of each object's velocity
// at frame 0 and adds "bouncing" when the object bounces off a wall during
// the clip (its velocity changes sign on either axis).
//
// Phrasings (chosen per clip from its seed; `phrasing` below):
//   0  "a red circle moving left"             "... moving up and to the left and bouncing"
//   1  "a red circle that moves left"         "... that moves toward the upper left, bouncing off the walls"
//   2  "a red circle going left"              "... going up and to the left and bouncing off the walls"
//   3  "a red circle is moving left"          "... is moving toward the upper left, bouncing"
// Still objects: "standing still", "that stands still", "staying still",
// "is standing still". Several objects are joined "A and B", "A, B and C".

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "vgt/core/error.hpp"

namespace vgt::data {

enum class Direction { still, left, right, up, down, up_left, up_right, down_left, down_right };

/// Below this speed (pixels per frame) an object is "still".
inline constexpr double kStillSpeed = 0.5;

/// Number of caption phrasings.
inline constexpr int kCaptionPhrasings = 4;

/// The direction of a velocity by the rule at the top of this header.
inline Direction direction_of(double vx, double vy, double still_speed = kStillSpeed) {
    if (vx * vx + vy * vy < still_speed * still_speed) return Direction::still;
    const double ax = vx < 0 ? -vx : vx;
    const double ay = vy < 0 ? -vy : vy;
    const double sum_squared = (ax + ay) * (ax + ay);
    if (sum_squared <= 2 * ax * ax) return vx < 0 ? Direction::left : Direction::right;
    if (sum_squared <= 2 * ay * ay) return vy < 0 ? Direction::up : Direction::down;
    if (vy < 0) return vx < 0 ? Direction::up_left : Direction::up_right;
    return vx < 0 ? Direction::down_left : Direction::down_right;
}

/// "still", "left", ..., "up-left", "down-right".
inline std::string_view direction_name(Direction d) {
    switch (d) {
        case Direction::still: return "still";
        case Direction::left: return "left";
        case Direction::right: return "right";
        case Direction::up: return "up";
        case Direction::down: return "down";
        case Direction::up_left: return "up-left";
        case Direction::up_right: return "up-right";
        case Direction::down_left: return "down-left";
        case Direction::down_right: return "down-right";
    }
    return "still";
}

/// The sign of a direction on each axis, image coordinates: left = (-1, 0), up-right = (1, -1).
inline std::array<int, 2> direction_signs(Direction d) {
    switch (d) {
        case Direction::still: return {0, 0};
        case Direction::left: return {-1, 0};
        case Direction::right: return {1, 0};
        case Direction::up: return {0, -1};
        case Direction::down: return {0, 1};
        case Direction::up_left: return {-1, -1};
        case Direction::up_right: return {1, -1};
        case Direction::down_left: return {-1, 1};
        case Direction::down_right: return {1, 1};
    }
    return {0, 0};
}

/// What a caption says about one object.
struct CaptionObject {
    std::string colour;  // may be empty (a data set without colours: "a sneaker moving down")
    std::string noun;    // "circle", "ankle boot"
    std::optional<Direction> direction;  // empty when the caption states no motion
    bool bouncing = false;
};

namespace detail {

inline std::string with_article(const std::string& words) {
    const char first = words.empty() ? 'x' : words[0];
    const bool vowel = first == 'a' || first == 'e' || first == 'i' || first == 'o' || first == 'u';
    return (vowel ? "an " : "a ") + words;
}

inline std::string direction_phrase(Direction d, int phrasing) {
    const bool toward = phrasing == 1 || phrasing == 3;
    switch (d) {
        case Direction::up_left: return toward ? "toward the upper left" : "up and to the left";
        case Direction::up_right: return toward ? "toward the upper right" : "up and to the right";
        case Direction::down_left: return toward ? "toward the lower left" : "down and to the left";
        case Direction::down_right: return toward ? "toward the lower right" : "down and to the right";
        default: return std::string(direction_name(d));
    }
}

inline std::string object_phrase(const CaptionObject& object, int phrasing) {
    std::string text = with_article(object.colour.empty() ? object.noun : object.colour + " " + object.noun);
    if (!object.direction) return text;
    static constexpr std::array<std::string_view, kCaptionPhrasings> moving = {"moving", "that moves", "going",
                                                                               "is moving"};
    static constexpr std::array<std::string_view, kCaptionPhrasings> still = {"standing still", "that stands still",
                                                                              "staying still", "is standing still"};
    static constexpr std::array<std::string_view, kCaptionPhrasings> bouncing = {
        " and bouncing", ", bouncing off the walls", " and bouncing off the walls", ", bouncing"};
    if (*object.direction == Direction::still) return text + " " + std::string(still[phrasing]);
    text += fmt::format(" {} {}", moving[phrasing], direction_phrase(*object.direction, phrasing));
    if (object.bouncing) text += bouncing[phrasing];
    return text;
}

/// Lowercase word tokens; anything but letters and digits separates words
/// ("up-left" is "up", "left").
inline std::vector<std::string> caption_tokens(std::string_view text) {
    std::vector<std::string> tokens;
    std::string current;
    for (char c : text) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
            current += c;
        } else if (!current.empty()) {
            tokens.push_back(std::move(current));
            current.clear();
        }
    }
    if (!current.empty()) tokens.push_back(std::move(current));
    return tokens;
}

/// Length of the phrase `words` at tokens[at], or 0 when it is not there.
inline std::size_t match_phrase(const std::vector<std::string>& tokens, std::size_t at,
                                const std::vector<std::string>& words) {
    if (words.empty() || at + words.size() > tokens.size()) return 0;
    for (std::size_t i = 0; i < words.size(); ++i)
        if (tokens[at + i] != words[i]) return 0;
    return words.size();
}

}  // namespace detail

/// The caption of a clip showing `objects`, in phrasing 0..kCaptionPhrasings-1.
inline std::string make_caption(const std::vector<CaptionObject>& objects, int phrasing = 0) {
    VGT_CHECK(phrasing >= 0 && phrasing < kCaptionPhrasings, "make_caption", "expected a phrasing in [0, {}), found {}",
              kCaptionPhrasings, phrasing);
    VGT_CHECK(!objects.empty(), "make_caption", "expected at least one object, found none");
    std::string text;
    for (std::size_t i = 0; i < objects.size(); ++i) {
        if (i > 0) text += (i + 1 == objects.size()) ? " and " : ", ";
        text += detail::object_phrase(objects[i], phrasing);
    }
    return text;
}

/// Reads the objects a caption mentions, in order: each starts where a
/// colour from `colours` (optional when `colour_required` is false) is
/// followed by one of `nouns` (multi-word nouns allowed; the longest match
/// wins); the words up to the next object give its direction (any of up,
/// upper, upward(s), down, lower, downward(s), left, leftward(s), right,
/// rightward(s), combined into a diagonal; "still" for a still object) and
/// whether it is bouncing (a word starting with "bounc"). Matching ignores
/// case and punctuation. Words that name no known object are skipped.
inline std::vector<CaptionObject> parse_caption(std::string_view text, const std::vector<std::string>& colours,
                                                const std::vector<std::string>& nouns, bool colour_required = true) {
    const std::vector<std::string> tokens = detail::caption_tokens(text);
    std::vector<std::vector<std::string>> colour_words, noun_words;
    for (const auto& c : colours) colour_words.push_back(detail::caption_tokens(c));
    for (const auto& n : nouns) noun_words.push_back(detail::caption_tokens(n));

    // An object mention at `at`: its length in tokens, colour and noun indices.
    struct Mention {
        std::size_t length = 0;
        int colour = -1, noun = -1;
    };
    auto mention_at = [&](std::size_t at) {
        Mention best;
        auto try_noun = [&](std::size_t from, int colour) {
            for (std::size_t n = 0; n < noun_words.size(); ++n) {
                const std::size_t len = detail::match_phrase(tokens, from, noun_words[n]);
                if (len > 0 && from - at + len > best.length) best = {from - at + len, colour, static_cast<int>(n)};
            }
        };
        for (std::size_t c = 0; c < colour_words.size(); ++c) {
            const std::size_t len = detail::match_phrase(tokens, at, colour_words[c]);
            if (len > 0) try_noun(at + len, static_cast<int>(c));
        }
        if (!colour_required && best.length == 0) try_noun(at, -1);
        return best;
    };

    std::vector<CaptionObject> objects;
    int vertical = 0, horizontal = 0;
    bool still = false;
    auto finish = [&] {
        if (objects.empty()) return;
        CaptionObject& o = objects.back();
        if (vertical != 0 || horizontal != 0) {
            static constexpr Direction table[3][3] = {{Direction::up_left, Direction::up, Direction::up_right},
                                                      {Direction::left, Direction::still, Direction::right},
                                                      {Direction::down_left, Direction::down, Direction::down_right}};
            o.direction = table[vertical + 1][horizontal + 1];
        } else if (still) {
            o.direction = Direction::still;
        }
        vertical = horizontal = 0;
        still = false;
    };
    for (std::size_t i = 0; i < tokens.size();) {
        const Mention m = mention_at(i);
        if (m.length > 0) {
            finish();
            CaptionObject o;
            if (m.colour >= 0) o.colour = colours[static_cast<std::size_t>(m.colour)];
            o.noun = nouns[static_cast<std::size_t>(m.noun)];
            objects.push_back(std::move(o));
            i += m.length;
            continue;
        }
        const std::string& w = tokens[i];
        if (!objects.empty()) {
            if (w == "up" || w == "upper" || w == "upward" || w == "upwards") vertical = -1;
            if (w == "down" || w == "lower" || w == "downward" || w == "downwards") vertical = 1;
            if (w == "left" || w == "leftward" || w == "leftwards") horizontal = -1;
            if (w == "right" || w == "rightward" || w == "rightwards") horizontal = 1;
            if (w == "still") still = true;
            if (w.rfind("bounc", 0) == 0) objects.back().bouncing = true;
        }
        ++i;
    }
    finish();
    return objects;
}

}  // namespace vgt::data
