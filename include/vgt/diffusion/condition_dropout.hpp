#pragma once
// Conditioning dropout for classifier-free guidance (Ho & Salimans 2022):
// during training each example's condition is replaced by the empty one
// with probability p, so that one network learns μ(x_t, c) and μ(x_t, ∅).
// Example i is dropped when Philox uniform number i of the draw is below p
// (as dropout's mask), so the choice depends only on (seed, offset).

#include <cstdint>
#include <vector>

#include "vgt/core/error.hpp"
#include "vgt/core/philox.hpp"
#include "vgt/core/random.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/ops/join.hpp"
#include "vgt/ops/view.hpp"

namespace vgt::diffusion {

/// Which of `batch` examples drop their condition: takes `batch` numbers from gen.
inline std::vector<bool> condition_drop_mask(std::int64_t batch, double p, Generator& gen) {
    const char* op = "condition_drop_mask";
    VGT_CHECK(batch >= 0, op, "expected a non-negative batch size, found {}", batch);
    VGT_CHECK(p >= 0.0 && p <= 1.0, op, "expected a probability p in [0, 1], found {}", p);
    const std::uint64_t first = gen.advance(static_cast<std::uint64_t>(batch));
    std::vector<bool> dropped;
    for (std::int64_t i = 0; i < batch; ++i)
        dropped.push_back(static_cast<double>(philox_uniform(gen.seed(), first + static_cast<std::uint64_t>(i))) < p);
    return dropped;
}

/// `condition` [B, ...] with row i replaced by `empty` where dropped[i].
/// `empty` has the shape of one row ([...]) or of a batch of one ([1, ...]).
/// Rows are selected, not blended, so a NaN in one never reaches the other;
/// gradients flow to both (e.g. to a learned empty embedding).
inline Tensor drop_condition(const Tensor& condition, const Tensor& empty, const std::vector<bool>& dropped) {
    const char* op = "drop_condition";
    VGT_CHECK(condition.rank() >= 1, op, "expected a condition [B, ...], found shape {}", condition.shape());
    const std::int64_t batch = condition.size(0);
    VGT_CHECK(static_cast<std::int64_t>(dropped.size()) == batch, op, "expected {} drop flags (one per example), found {}",
              batch, dropped.size());
    Shape row = condition.shape();
    row.erase(0);
    Tensor empty_row = empty;
    if (empty.rank() == condition.rank() && empty.size(0) == 1) empty_row = select(empty, 0, 0);
    Shape one_row = row;
    one_row.insert(0, 1);
    VGT_CHECK(empty_row.shape() == row, op, "expected an empty condition of shape {} or {}, found {}", row, one_row,
              empty.shape());
    VGT_CHECK(empty.dtype() == condition.dtype(), op, "expected an empty condition of dtype {}, found {}",
              dtype_name(condition.dtype()), dtype_name(empty.dtype()));
    bool any = false;
    for (bool d : dropped) any = any || d;
    if (!any) return condition;
    std::vector<Tensor> rows;
    for (std::int64_t i = 0; i < batch; ++i)
        rows.push_back(dropped[static_cast<std::size_t>(i)] ? empty_row : select(condition, 0, i));
    return stack(rows, 0);
}

/// Draws the mask (B numbers from gen) and applies it.
inline Tensor drop_condition(const Tensor& condition, const Tensor& empty, double p, Generator& gen) {
    VGT_CHECK(condition.rank() >= 1, "drop_condition", "expected a condition [B, ...], found shape {}",
              condition.shape());
    return drop_condition(condition, empty, condition_drop_mask(condition.size(0), p, gen));
}

}  // namespace vgt::diffusion
