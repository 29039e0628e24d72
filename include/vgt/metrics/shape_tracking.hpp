#pragma once
// Linking the shapes found in each frame (shape_detection.hpp) into tracks.
//
// Frame by frame, a detection continues a track of its own colour when its
// centroid lies within `max_step` pixels per elapsed frame of the track's
// last centroid, and the track was last seen at most `max_gap` frames
// before; among several candidates the closest pairs are linked first
// (greedy by distance, each track and detection used once). A detection
// left over starts a new track. Colour is the identity cue: MovingShapes
// gives the objects of a clip distinct colours, so a track is one object
// unless two objects share a colour, where the nearest centroid decides.
//
// A track's shape is the class most of its detections have (ties: the
// earliest in data::all_shape_kinds()), so that a frame or two classified
// wrongly do not change it.

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "vgt/core/error.hpp"
#include "vgt/data/moving_shapes.hpp"
#include "vgt/metrics/shape_detection.hpp"

namespace vgt::metrics {

struct ShapeTrackingOptions {
    double max_step = 0;        // pixels per frame a centroid may move; 0: a quarter of max(H, W)
    std::int64_t max_gap = 1;   // frames a track may be missing and still continue

    void validate(std::string_view op) const {
        VGT_CHECK(max_step >= 0 && std::isfinite(max_step), op, "expected max_step >= 0 pixels, found {}", max_step);
        VGT_CHECK(max_gap >= 0, op, "expected max_gap >= 0 frames, found {}", max_gap);
    }
};

/// One object followed through the frames where it was found.
struct ShapeTrack {
    std::size_t colour = 0;                // palette index
    std::vector<std::int64_t> frames;      // increasing
    std::vector<ShapeDetection> points;    // points[i] is the detection in frames[i]

    std::size_t length() const { return frames.size(); }

    /// The class most of its detections have.
    data::ShapeKind shape() const {
        data::ShapeKind best = data::ShapeKind::circle;
        std::size_t best_votes = 0;
        for (data::ShapeKind kind : data::all_shape_kinds()) {
            const auto votes = static_cast<std::size_t>(
                std::count_if(points.begin(), points.end(), [kind](const ShapeDetection& p) { return p.shape == kind; }));
            if (votes > best_votes) best_votes = votes, best = kind;
        }
        return best;
    }
};

/// For each frame, the index in `tracks` of each of its detections.
using TrackAssignment = std::vector<std::vector<std::size_t>>;

/// Links per-frame detections of an H×W video into tracks; fills `assignment` when given.
inline std::vector<ShapeTrack> track_shapes(const std::vector<std::vector<ShapeDetection>>& frames,
                                            std::int64_t height, std::int64_t width,
                                            const ShapeTrackingOptions& options = {},
                                            TrackAssignment* assignment = nullptr) {
    constexpr std::string_view op = "track_shapes";
    options.validate(op);
    VGT_CHECK(height > 0 && width > 0, op, "expected a positive frame size, found {}×{}", height, width);
    const double max_step =
        options.max_step > 0 ? options.max_step : 0.25 * static_cast<double>(std::max(height, width));
    std::vector<ShapeTrack> tracks;
    if (assignment) assignment->assign(frames.size(), {});

    struct Link {
        double distance;
        std::size_t track, detection;
    };
    std::vector<Link> links;
    for (std::size_t t = 0; t < frames.size(); ++t) {
        const auto& found = frames[t];
        const auto now = static_cast<std::int64_t>(t);
        links.clear();
        for (std::size_t k = 0; k < tracks.size(); ++k) {
            const ShapeTrack& track = tracks[k];
            const std::int64_t elapsed = now - track.frames.back();
            if (elapsed > options.max_gap + 1) continue;
            const ShapeDetection& last = track.points.back();
            for (std::size_t j = 0; j < found.size(); ++j) {
                if (found[j].colour != track.colour) continue;
                const double d = std::hypot(found[j].x - last.x, found[j].y - last.y);
                if (d <= max_step * static_cast<double>(elapsed)) links.push_back({d, k, j});
            }
        }
        std::sort(links.begin(), links.end(), [](const Link& a, const Link& b) {
            return a.distance != b.distance ? a.distance < b.distance
                                            : (a.track != b.track ? a.track < b.track : a.detection < b.detection);
        });
        std::vector<std::size_t> owner(found.size(), tracks.size());  // tracks.size(): none yet
        std::vector<bool> extended(tracks.size(), false);
        for (const Link& l : links) {
            if (extended[l.track] || owner[l.detection] != tracks.size()) continue;
            extended[l.track] = true;
            owner[l.detection] = l.track;
        }
        const std::size_t existing = tracks.size();
        for (std::size_t j = 0; j < found.size(); ++j) {
            if (owner[j] == existing) {
                owner[j] = tracks.size();
                tracks.push_back(ShapeTrack{found[j].colour, {}, {}});
            }
            tracks[owner[j]].frames.push_back(now);
            tracks[owner[j]].points.push_back(found[j]);
        }
        if (assignment) (*assignment)[t] = owner;
    }
    return tracks;
}

}  // namespace vgt::metrics
