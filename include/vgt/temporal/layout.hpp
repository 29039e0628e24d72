#pragma once
// The views of a video [B, T, C, H, W] that blocks work in, and the
// way back. Per-frame layers see frames [B·T, C, H, W]; attention sees one
// sequence per pixel [B·H·W, T, C]; temporal convs see one signal per pixel
// [B·H·W, C, T]; joint attention sees tokens [B, T·H·W, C]; a Conv3d sees the
// channels-first volume [B, C, T, H, W]. Block code calls these instead of
// spelling out permutes.

#include <cstdint>

#include "vgt/core/error.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/ops/view.hpp"

namespace vgt::temporal {

/// Extents of a video tensor, read once with a check.
struct VideoShape {
    std::int64_t batch, frames, channels, height, width;

    static VideoShape of(const Tensor& video, const char* op) {
        VGT_CHECK(video.rank() == 5, op, "expected a video [B, T, C, H, W], found shape {}", video.shape());
        return {video.size(0), video.size(1), video.size(2), video.size(3), video.size(4)};
    }
    std::int64_t pixels() const { return height * width; }
    Shape shape() const { return Shape{batch, frames, channels, height, width}; }
};

/// [B, T, C, H, W] → [B·T, C, H, W] (free for contiguous input).
inline Tensor fold_frames(const Tensor& video) {
    const auto v = VideoShape::of(video, "fold_frames");
    return reshape(video, Shape{v.batch * v.frames, v.channels, v.height, v.width});
}

/// [B·T, C, H, W] → [B, T, C, H, W].
inline Tensor unfold_frames(const Tensor& frames, std::int64_t batch) {
    VGT_CHECK(frames.rank() == 4 && batch > 0 && frames.size(0) % batch == 0, "unfold_frames",
              "expected frames [B·T, C, H, W] with B = {}, found shape {}", batch, frames.shape());
    return reshape(frames, Shape{batch, frames.size(0) / batch, frames.size(1), frames.size(2), frames.size(3)});
}

/// [B, T, C, H, W] → [B·H·W, T, C]: one sequence over time per pixel.
inline Tensor to_pixel_sequences(const Tensor& video) {
    const auto v = VideoShape::of(video, "to_pixel_sequences");
    return reshape(permute(video, {0, 3, 4, 1, 2}), Shape{v.batch * v.pixels(), v.frames, v.channels});
}

/// [B·H·W, T, C] → [B, T, C, H, W].
inline Tensor from_pixel_sequences(const Tensor& sequences, const VideoShape& v) {
    VGT_CHECK(sequences.rank() == 3 && sequences.size(0) == v.batch * v.pixels(), "from_pixel_sequences",
              "expected sequences [{}, T, C], found shape {}", v.batch * v.pixels(), sequences.shape());
    const Tensor s = reshape(sequences, Shape{v.batch, v.height, v.width, sequences.size(1), sequences.size(2)});
    return contiguous(permute(s, {0, 3, 4, 1, 2}));
}

/// [B, T, C, H, W] → [B·H·W, C, T]: one multi-channel signal over time per
/// pixel, the input of a Conv1d over T.
inline Tensor to_pixel_signals(const Tensor& video) {
    const auto v = VideoShape::of(video, "to_pixel_signals");
    return reshape(permute(video, {0, 3, 4, 2, 1}), Shape{v.batch * v.pixels(), v.channels, v.frames});
}

/// [B·H·W, C, T] → [B, T, C, H, W].
inline Tensor from_pixel_signals(const Tensor& signals, const VideoShape& v) {
    VGT_CHECK(signals.rank() == 3 && signals.size(0) == v.batch * v.pixels(), "from_pixel_signals",
              "expected signals [{}, C, T], found shape {}", v.batch * v.pixels(), signals.shape());
    const Tensor s = reshape(signals, Shape{v.batch, v.height, v.width, signals.size(1), signals.size(2)});
    return contiguous(permute(s, {0, 4, 3, 1, 2}));
}

/// [B, T, C, H, W] → [B, T·H·W, C]: every position of the video one token,
/// time-major (token i is frame i / (H·W)).
inline Tensor to_video_tokens(const Tensor& video) {
    const auto v = VideoShape::of(video, "to_video_tokens");
    return reshape(permute(video, {0, 1, 3, 4, 2}), Shape{v.batch, v.frames * v.pixels(), v.channels});
}

/// [B, T·H·W, C] → [B, T, C, H, W].
inline Tensor from_video_tokens(const Tensor& tokens, const VideoShape& v) {
    VGT_CHECK(tokens.rank() == 3 && tokens.size(0) == v.batch && tokens.size(1) == v.frames * v.pixels(),
              "from_video_tokens", "expected tokens [{}, {}, C], found shape {}", v.batch, v.frames * v.pixels(),
              tokens.shape());
    const Tensor s = reshape(tokens, Shape{v.batch, v.frames, v.height, v.width, tokens.size(2)});
    return contiguous(permute(s, {0, 1, 4, 2, 3}));
}

/// [B, T, C, H, W] → [B, C, T, H, W], a strided view (the convolution that
/// reads it gathers the data once anyway).
inline Tensor to_channels_first_volume(const Tensor& video) {
    VideoShape::of(video, "to_channels_first_volume");
    return permute(video, {0, 2, 1, 3, 4});
}

/// [B, C, T, H, W] → [B, T, C, H, W], contiguous.
inline Tensor from_channels_first_volume(const Tensor& volume) {
    VGT_CHECK(volume.rank() == 5, "from_channels_first_volume", "expected a volume [B, C, T, H, W], found shape {}",
              volume.shape());
    return contiguous(permute(volume, {0, 2, 1, 3, 4}));
}

}  // namespace vgt::temporal
