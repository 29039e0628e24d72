#pragma once
// A batch of clips: their videos stacked into one tensor [B, T, C, H, W],
// their captions, and the clips themselves with whatever ground truth their
// data set attaches (each clip's video becomes a view of the batch tensor,
// so the pixels are stored once).

#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "vgt/core/error.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/data/dataset.hpp"
#include "vgt/ops/view.hpp"

namespace vgt::data {

template <ClipType C = Clip>
struct Batch {
    Tensor video;                       // [B, T, C, H, W] float32
    std::vector<std::string> captions;  // B captions
    std::vector<C> clips;               // B clips; clips[b].video is a view of video[b]
    std::vector<std::int64_t> indices;  // the data set index of each clip
    std::int64_t epoch = 0;             // which epoch (shuffle order) the batch comes from
    std::int64_t step = 0;              // its position in the loader's stream of batches

    std::int64_t size() const { return static_cast<std::int64_t>(clips.size()); }
};

/// Stacks clips into a batch. Every video must be float32 [T, C, H, W] of
/// the same shape. `indices` (data set indices) may be empty.
template <ClipType C>
Batch<C> collate(std::vector<C> clips, std::vector<std::int64_t> indices = {}) {
    VGT_CHECK(!clips.empty(), "collate", "expected at least one clip, found none");
    VGT_CHECK(indices.empty() || indices.size() == clips.size(), "collate",
              "expected no indices or one per clip ({}), found {}", clips.size(), indices.size());
    const Tensor& first = clips[0].video;
    VGT_CHECK(first.defined() && first.rank() == 4, "collate", "expected clip 0's video [T, C, H, W], found {}",
              first.str());
    const Shape clip_shape = first.shape();
    for (std::size_t b = 0; b < clips.size(); ++b) {
        const Tensor& v = clips[b].video;
        VGT_CHECK(v.defined() && v.dtype() == DType::Float32 && v.device().is_cpu() && v.shape() == clip_shape,
                  "collate", "expected every clip's video to be a CPU float32 tensor {} like clip 0, found {} in clip {}",
                  clip_shape, v.str(), b);
    }
    Batch<C> batch;
    const auto count = static_cast<std::int64_t>(clips.size());
    Shape batch_shape{count};
    for (int d = 0; d < clip_shape.rank(); ++d) batch_shape.push_back(clip_shape[d]);
    Tensor video = Tensor::empty(batch_shape, DType::Float32);
    float* out = video.data<float>();
    const std::int64_t per_clip = clip_shape.numel();
    for (std::int64_t b = 0; b < count; ++b) {
        C& clip = clips[static_cast<std::size_t>(b)];
        const Tensor source = vgt::detail::contiguous_data(clip.video);
        std::memcpy(out + b * per_clip, source.data<float>(),
                    static_cast<std::size_t>(per_clip) * sizeof(float));
        clip.video = video.alias(clip_shape, contiguous_strides(clip_shape), video.offset() + b * per_clip);
        batch.captions.push_back(clip.caption);
    }
    batch.video = std::move(video);
    batch.clips = std::move(clips);
    batch.indices = std::move(indices);
    return batch;
}

}  // namespace vgt::data
