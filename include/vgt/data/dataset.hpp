#pragma once
// What a data set is to the loader: a number of clips and a way to make clip
// i. Every data set returns a type that *is a* Clip (a video and a caption);
// a data set with ground truth of its own derives from Clip and adds members
// (MovingShapes returns `ShapesClip : Clip` with per-object tracks), so the
// loader, batching and anything that only needs pixels and text treat all data
// sets alike, while code that knows the data set reads the extras from the
// batch's clips without casts.
//
// Contract of a Dataset type D (checked by the concept below):
//   std::int64_t D::size()        number of clips in one epoch (> 0 to be loadable)
//   ClipType     D::get(int64 i)  clip i, for 0 <= i < size(); ClipType derives
//                                 from vgt::data::Clip (or is Clip)
// and, documented rather than checked:
//   - clip.video is a float32 tensor [T, C, H, W] with values in [0, 1], and
//     every clip of one data set has the same [T, C, H, W] (so clips stack);
//   - get(i) is deterministic in (the data set's options, i): the same index
//     gives the same clip on every call, so shuffling and prefetching never
//     change what a run sees;
//   - get(i) throws vgt::Error for an index outside [0, size()) and for bad
//     data; the DataLoader calls get() from one background thread at a time
//     and re-throws such errors in the caller's thread;
//   - D is movable: a DataLoader owns its data set.

#include <concepts>
#include <cstdint>
#include <string>
#include <type_traits>

#include "vgt/core/tensor.hpp"

namespace vgt::data {

/// One training example: a video [T, C, H, W] (float32, [0, 1]) and its caption.
struct Clip {
    Tensor video;
    std::string caption;
};

/// A clip type: Clip itself or a type derived from it (which adds ground truth).
template <class C>
concept ClipType = std::derived_from<C, Clip> && std::movable<C>;

/// A data set the DataLoader can read (see the contract at the top of this header).
template <class D>
concept Dataset = std::movable<D> && requires(D& dataset, std::int64_t index) {
    { dataset.size() } -> std::convertible_to<std::int64_t>;
    { dataset.get(index) } -> ClipType;
};

/// The clip type a data set returns.
template <Dataset D>
using clip_type_t = std::remove_cvref_t<decltype(std::declval<D&>().get(std::int64_t{0}))>;

}  // namespace vgt::data
