#pragma once
// MovingShapes metrics of any video that claims to show shapes: the shapes
// are found in every frame (shape_detection.hpp) and tracked
// (shape_tracking.hpp), then scored. Without a prompt:
//
//   count consistency     the share of frames whose number of objects is the
//                         clip's most common non-zero number (0 when no
//                         frame shows an object): objects that flicker in
//                         and out, split or merge lower it.
//   identity consistency  the share of consecutive frame pairs (t, t+1) in
//                         which every object continues: the same tracks are
//                         present in both frames, each keeps its shape
//                         class, and there is at least one. Objects that
//                         jump further than the tracker's max_step, change
//                         colour or shape, appear or vanish lower it.
//   trajectory smoothness the mean length of the centroid's second
//                         difference |c(t+1) − 2·c(t) + c(t−1)| over every
//                         track and every three consecutive frames it spans,
//                         in pixels per frame²: 0 for motion at constant
//                         velocity, about 2·speed at a bounce; LOWER is
//                         smoother. NaN when no track spans three frames.
//
// With a prompt (a caption such as "a red circle moving left and a blue
// square going up", read by data::parse_caption with the palette's colour
// names and the allowed shapes' names), each object the prompt names is
// matched to the longest track of its colour not yet matched, if that track
// is present in at least `min_track_share` of the frames (3/4 by default:
// an object that changes colour halfway, or shows up late, is not the
// object asked for), and scored on:
//
//   colour     such a track exists;
//   shape      the track's shape class is the prompt's noun;
//   direction  (only when the prompt states one) the direction of the
//              track's initial velocity, by data::direction_of (the
//              generator's rule, data/caption.hpp), is the prompt's.
//
// caption accuracy is the share of prompt objects whose colour, shape and
// stated direction all match; count accuracy the share of frames showing
// exactly as many objects as the prompt names. "bouncing" is not scored.
//
// The initial velocity. A MovingShapes caption names the direction of the
// velocity at frame 0, and objects bounce off the walls, so the track's
// mean velocity over the whole clip would mislead. It is the mean velocity
// of the track's first straight stretch: the steps (centroid displacements
// between consecutive frames) from its first frame up to the first step
// that differs from the mean of the steps before it by more than
// `bounce_tolerance` pixels on either axis (a bounce, or a detection gone
// astray). When the first step alone breaks from a straight stretch of at
// least two steps after it, the object bounced inside that first step: the
// velocity is the later stretch's, reflected on each axis where the first
// step differs from it. A bounce inside the first step followed at once by
// another one is not recognised; nor, of course, are velocities within
// measurement noise (a few hundredths of a pixel) of the boundary between
// two directions.

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "vgt/core/error.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/data/caption.hpp"
#include "vgt/data/moving_shapes.hpp"
#include "vgt/metrics/shape_detection.hpp"
#include "vgt/metrics/shape_tracking.hpp"

namespace vgt::metrics {

struct ShapeTrackOptions {
    ShapeDetectionOptions detection;
    ShapeTrackingOptions tracking;
    double bounce_tolerance = 0.5;           // px per frame: a step this far from the stretch's mean ends it
    double still_speed = data::kStillSpeed;  // px per frame, below which an object is "still"
    double min_track_share = 0.75;           // of the frames, for a track to stand for a prompt's object

    void validate(std::string_view op) const {
        detection.validate(op);
        tracking.validate(op);
        VGT_CHECK(bounce_tolerance > 0 && std::isfinite(bounce_tolerance), op,
                  "expected a positive bounce_tolerance, found {}", bounce_tolerance);
        VGT_CHECK(still_speed >= 0 && std::isfinite(still_speed), op, "expected still_speed >= 0, found {}",
                  still_speed);
        VGT_CHECK(min_track_share >= 0 && min_track_share <= 1, op, "expected min_track_share in [0, 1], found {}",
                  min_track_share);
    }
};

/// How one object of the prompt was found in the video.
struct PromptObjectScore {
    data::CaptionObject prompt;
    std::optional<std::size_t> track;              // the matched track, if any
    std::optional<data::ShapeKind> shape;          // the track's shape class
    std::optional<data::Direction> direction;      // the track's initial direction
    bool colour_match = false, shape_match = false, direction_match = false;  // direction: true when unstated

    bool matched() const { return colour_match && shape_match && direction_match; }
};

struct ShapeTrackReport {
    std::vector<std::vector<ShapeDetection>> detections;  // per frame
    std::vector<ShapeTrack> tracks;
    std::vector<std::int64_t> counts;  // objects per frame
    double count_consistency = 0;
    double identity_consistency = 0;
    double trajectory_smoothness = 0;  // px/frame², lower is smoother; NaN without a 3-frame track

    // With a prompt:
    bool has_prompt = false;
    std::vector<PromptObjectScore> prompt_objects;
    double caption_accuracy = 0;
    double colour_accuracy = 0;
    double shape_accuracy = 0;
    double direction_accuracy = 0;  // over the objects that state a direction; NaN when none does
    double count_accuracy = 0;
};

namespace detail {

/// Steps of a track in pixels per frame (a gap of g frames divides by g).
inline std::vector<std::array<double, 2>> track_steps(const ShapeTrack& track) {
    std::vector<std::array<double, 2>> steps;
    for (std::size_t i = 0; i + 1 < track.length(); ++i) {
        const double dt = static_cast<double>(track.frames[i + 1] - track.frames[i]);
        steps.push_back({(track.points[i + 1].x - track.points[i].x) / dt, (track.points[i + 1].y - track.points[i].y) / dt});
    }
    return steps;
}

/// The mean and length of the straight stretch of steps starting at `begin`.
inline std::pair<std::array<double, 2>, std::size_t> straight_stretch(const std::vector<std::array<double, 2>>& steps,
                                                                      std::size_t begin, double tolerance) {
    std::array<double, 2> sum{0, 0};
    std::size_t n = 0;
    for (std::size_t i = begin; i < steps.size(); ++i) {
        if (n > 0 && (std::abs(steps[i][0] - sum[0] / static_cast<double>(n)) > tolerance ||
                      std::abs(steps[i][1] - sum[1] / static_cast<double>(n)) > tolerance))
            break;
        sum[0] += steps[i][0], sum[1] += steps[i][1];
        ++n;
    }
    if (n == 0) return {{0, 0}, 0};
    return {{sum[0] / static_cast<double>(n), sum[1] / static_cast<double>(n)}, n};
}

/// A track's initial velocity (see the top of this header).
inline std::array<double, 2> initial_velocity(const ShapeTrack& track, double tolerance) {
    const auto steps = track_steps(track);
    const auto [first, length] = straight_stretch(steps, 0, tolerance);
    if (length == 1 && steps.size() > 2) {
        const auto [next, next_length] = straight_stretch(steps, 1, tolerance);
        if (next_length >= 2) {
            // The first step alone breaks from a straight stretch: a bounce inside it. Before the
            // bounce the object moved as after it, reflected on the axes where the step differs.
            std::array<double, 2> v = next;
            for (std::size_t a = 0; a < 2; ++a)
                if (std::abs(steps[0][a] - next[a]) > tolerance) v[a] = -next[a];
            return v;
        }
    }
    return first;
}

inline double count_consistency(const std::vector<std::int64_t>& counts) {
    std::map<std::int64_t, std::int64_t> histogram;
    for (std::int64_t c : counts)
        if (c > 0) ++histogram[c];
    std::int64_t modal = 0;
    for (const auto& [count, frames] : histogram) modal = std::max(modal, frames);
    return counts.empty() ? 0.0 : static_cast<double>(modal) / static_cast<double>(counts.size());
}

inline double identity_consistency(const std::vector<ShapeTrack>& tracks, const TrackAssignment& assignment) {
    if (assignment.size() < 2) return 0;
    std::size_t consistent = 0;
    for (std::size_t t = 0; t + 1 < assignment.size(); ++t) {
        std::vector<std::size_t> here = assignment[t], next = assignment[t + 1];
        std::sort(here.begin(), here.end());
        std::sort(next.begin(), next.end());
        bool same = !here.empty() && here == next;
        for (std::size_t j = 0; same && j < assignment[t].size(); ++j) {
            const std::size_t k = assignment[t][j];
            const ShapeTrack& track = tracks[k];
            // The track's points at t and t+1 are consecutive (it is present in both).
            const auto at = static_cast<std::size_t>(
                std::find(track.frames.begin(), track.frames.end(), static_cast<std::int64_t>(t)) - track.frames.begin());
            same &= track.points[at].shape == track.points[at + 1].shape;
        }
        consistent += same;
    }
    return static_cast<double>(consistent) / static_cast<double>(assignment.size() - 1);
}

inline double trajectory_smoothness(const std::vector<ShapeTrack>& tracks) {
    double sum = 0;
    std::size_t terms = 0;
    for (const ShapeTrack& track : tracks)
        for (std::size_t i = 1; i + 1 < track.length(); ++i) {
            if (track.frames[i - 1] + 1 != track.frames[i] || track.frames[i] + 1 != track.frames[i + 1]) continue;
            const ShapeDetection &a = track.points[i - 1], &b = track.points[i], &c = track.points[i + 1];
            sum += std::hypot(c.x - 2 * b.x + a.x, c.y - 2 * b.y + a.y);
            ++terms;
        }
    return terms == 0 ? std::nan("") : sum / static_cast<double>(terms);
}

}  // namespace detail

/// Count and identity consistency and trajectory smoothness of an RGB video [T, 3, H, W] in [0, 1].
inline ShapeTrackReport shape_track_metrics(const Tensor& video, const ShapeTrackOptions& options = {}) {
    constexpr std::string_view op = "shape_track_metrics";
    options.validate(op);
    detail::check_rgb_video(video, op);
    ShapeTrackReport r;
    r.detections = detect_shapes(video, options.detection);
    TrackAssignment assignment;
    r.tracks = track_shapes(r.detections, video.size(2), video.size(3), options.tracking, &assignment);
    for (const auto& frame : r.detections) r.counts.push_back(static_cast<std::int64_t>(frame.size()));
    r.count_consistency = detail::count_consistency(r.counts);
    r.identity_consistency = detail::identity_consistency(r.tracks, assignment);
    r.trajectory_smoothness = detail::trajectory_smoothness(r.tracks);
    return r;
}

/// As above, and how well the video shows what `prompt` describes.
inline ShapeTrackReport shape_track_metrics(const Tensor& video, std::string_view prompt,
                                            const ShapeTrackOptions& options = {}) {
    constexpr std::string_view op = "shape_track_metrics";
    ShapeTrackReport r = shape_track_metrics(video, options);
    std::vector<std::string> colours, nouns;
    for (const auto& c : options.detection.palette) colours.push_back(c.name);
    for (data::ShapeKind k : options.detection.shapes) nouns.emplace_back(data::shape_name(k));
    const std::vector<data::CaptionObject> said = data::parse_caption(prompt, colours, nouns);
    VGT_CHECK(!said.empty(), op,
              "expected a prompt naming at least one object as a colour and a shape (colours: {}; shapes: {}), "
              "found '{}'",
              fmt::join(colours, ", "), fmt::join(nouns, ", "), prompt);

    r.has_prompt = true;
    const auto frames = static_cast<std::int64_t>(r.counts.size());
    std::vector<bool> taken(r.tracks.size(), false);
    std::size_t colour_hits = 0, shape_hits = 0, direction_hits = 0, directions_stated = 0, all_hits = 0;
    for (const data::CaptionObject& object : said) {
        PromptObjectScore s;
        s.prompt = object;
        const data::NamedColour* colour = data::find_colour(options.detection.palette, object.colour);
        std::optional<std::size_t> best;
        for (std::size_t k = 0; k < r.tracks.size(); ++k) {
            if (taken[k] || colour == nullptr || options.detection.palette[r.tracks[k].colour].name != colour->name)
                continue;
            if (!best || r.tracks[k].length() > r.tracks[*best].length()) best = k;
        }
        if (best && static_cast<double>(r.tracks[*best].length()) >= options.min_track_share * static_cast<double>(frames)) {
            taken[*best] = true;
            const ShapeTrack& track = r.tracks[*best];
            s.track = best;
            s.shape = track.shape();
            const auto v = detail::initial_velocity(track, options.bounce_tolerance);
            s.direction = data::direction_of(v[0], v[1], options.still_speed);
            s.colour_match = true;
            s.shape_match = data::shape_name(*s.shape) == object.noun;
            s.direction_match = !object.direction || *object.direction == *s.direction;
        }
        colour_hits += s.colour_match;
        shape_hits += s.shape_match;
        if (object.direction) {
            ++directions_stated;
            direction_hits += s.direction_match;
        }
        all_hits += s.matched();
        r.prompt_objects.push_back(std::move(s));
    }
    const auto n = static_cast<double>(said.size());
    r.colour_accuracy = static_cast<double>(colour_hits) / n;
    r.shape_accuracy = static_cast<double>(shape_hits) / n;
    r.direction_accuracy = directions_stated == 0 ? std::nan("")
                                                  : static_cast<double>(direction_hits) /
                                                        static_cast<double>(directions_stated);
    r.caption_accuracy = static_cast<double>(all_hits) / n;
    std::int64_t exact = 0;
    for (std::int64_t c : r.counts) exact += c == static_cast<std::int64_t>(said.size());
    r.count_accuracy = static_cast<double>(exact) / static_cast<double>(frames);
    return r;
}

}  // namespace vgt::metrics
