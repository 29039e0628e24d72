#pragma once
// Convolutions over one, two or three spatial dimensions, laid out as in
// PyTorch: input [N, C, spatial...], weight [out, C/groups, k...], bias [out].
//
// One implementation serves conv1d, conv2d and conv3d. For each (batch item,
// group) the input is unfolded into a column matrix (im2col / vol2col) with
// one row per (input channel, kernel tap) and one column per output position;
// the output is then weight · columns, the weight gradient grad · columnsᵀ,
// and the input gradient folds weightᵀ · grad back (col2im). All products
// are detail::gemm's (Eigen's GEMM). The column matrix is built one tile of
// output positions at a time so that it stays in cache, and tiles give every
// thread work even for a batch of one. A 1x1 kernel with stride 1 and no
// padding needs no columns: the input already is that matrix.
//
// In float32, 3×3 (and kt×3×3) convolutions with stride 1 and enough
// channels take the Winograd transforms of ops/conv_winograd.hpp instead,
// forward and backward: 4× fewer multiplications, results within a few
// float32 roundings of these (winograd_applies says which).

#include <algorithm>
#include <array>
#include <cstdint>
#include <string_view>
#include <type_traits>
#include <vector>

#include <Eigen/Core>
#include <fmt/format.h>

#include "vgt/autograd/node.hpp"
#include "vgt/core/dispatch.hpp"
#include "vgt/core/error.hpp"
#include "vgt/core/parallel.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/cuda/tensor_ops.hpp"
#include "vgt/ops/conv_winograd.hpp"
#include "vgt/ops/gemm.hpp"
#include "vgt/ops/reduce.hpp"
#include "vgt/ops/view.hpp"

namespace vgt {

/// Options of conv1d/conv2d/conv3d. Each list holds one value per spatial
/// dimension, or a single value for all of them; an empty list means the
/// default (stride 1, padding 0, dilation 1), as PyTorch's int-or-tuple.
struct ConvOptions {
    std::vector<std::int64_t> stride = {};
    std::vector<std::int64_t> padding = {};   // zeros added at both ends of each spatial dimension
    std::vector<std::int64_t> dilation = {};  // spacing between kernel taps
    std::int64_t groups = 1;                  // independent channel groups; groups = C is a depthwise conv
};

namespace detail {

/// Sizes of one convolution, resolved and validated.
template <int D>
struct ConvGeometry {
    std::int64_t batch = 0, in_channels = 0, out_channels = 0, groups = 1;
    std::array<std::int64_t, D> in{}, out{}, kernel{}, stride{}, padding{}, dilation{};
    std::int64_t in_size = 1, out_size = 1, kernel_size = 1;  // products over the spatial dimensions

    std::int64_t in_per_group() const { return in_channels / groups; }
    std::int64_t out_per_group() const { return out_channels / groups; }
    /// Rows of a group's column matrix (input channels × kernel taps).
    std::int64_t col_rows() const { return in_per_group() * kernel_size; }
    /// 1x1 kernel, stride 1, no padding: the input is its own column matrix.
    bool pointwise() const {
        for (int d = 0; d < D; ++d)
            if (kernel[d] != 1 || stride[d] != 1 || padding[d] != 0) return false;
        return true;
    }
};

inline constexpr const char* kConvLayouts[] = {"[N, C, L]", "[N, C, H, W]", "[N, C, D, H, W]"};

/// One value per spatial dimension from an option list of 0, 1 or D values.
template <int D>
std::array<std::int64_t, D> conv_option(const std::vector<std::int64_t>& values, std::int64_t fallback,
                                        std::string_view op, std::string_view name) {
    std::array<std::int64_t, D> out;
    const std::size_t n = values.size();
    VGT_CHECK(n == 0 || n == 1 || n == static_cast<std::size_t>(D), op,
              "expected {} with 1 or {} values, found {} values [{}]", name, D, n, fmt::join(values, ", "));
    for (int d = 0; d < D; ++d) out[d] = n == 0 ? fallback : values[n == 1 ? 0 : d];
    return out;
}

template <int D>
ConvGeometry<D> conv_geometry(const Tensor& x, const Tensor& weight, const Tensor& bias, const ConvOptions& options,
                              std::string_view op) {
    const char* layout = kConvLayouts[D - 1];
    VGT_CHECK(x.defined() && weight.defined(), op, "expected a defined input and weight, found an empty handle");
    VGT_CHECK(x.rank() == D + 2, op, "expected an input of rank {} ({}), found shape {}", D + 2, layout, x.shape());
    VGT_CHECK(weight.rank() == D + 2, op, "expected a weight of rank {} ([out, in/groups, kernel...]), found shape {}",
              D + 2, weight.shape());
    VGT_CHECK(x.dtype() == weight.dtype(), op,
              "expected input and weight of the same dtype, found input {} {} and weight {} {}", dtype_name(x.dtype()),
              x.shape(), dtype_name(weight.dtype()), weight.shape());
    VGT_CHECK(x.device() == weight.device(), op, "expected input and weight on one device, found {} and {}",
              x.device().str(), weight.device().str());

    ConvGeometry<D> geo;
    geo.groups = options.groups;
    VGT_CHECK(geo.groups >= 1, op, "expected groups >= 1, found {}", geo.groups);
    geo.batch = x.size(0);
    geo.in_channels = x.size(1);
    geo.out_channels = weight.size(0);
    VGT_CHECK(geo.out_channels % geo.groups == 0, op,
              "expected weight out channels divisible by groups = {}, found weight {}", geo.groups, weight.shape());
    VGT_CHECK(geo.in_channels == weight.size(1) * geo.groups, op,
              "expected input channels = weight.size(1) * groups = {} * {} = {}, found input {} and weight {}",
              weight.size(1), geo.groups, weight.size(1) * geo.groups, x.shape(), weight.shape());
    if (bias.defined()) {
        VGT_CHECK(bias.rank() == 1 && bias.size(0) == geo.out_channels, op,
                  "expected a bias of shape [{}] for weight {}, found {}", geo.out_channels, weight.shape(),
                  bias.shape());
        VGT_CHECK(bias.dtype() == x.dtype(), op, "expected a {} bias like the input, found {}", dtype_name(x.dtype()),
                  dtype_name(bias.dtype()));
        VGT_CHECK(bias.device() == x.device(), op, "expected the bias on the input's device {}, found {}",
                  x.device().str(), bias.device().str());
    }

    geo.stride = conv_option<D>(options.stride, 1, op, "stride");
    geo.padding = conv_option<D>(options.padding, 0, op, "padding");
    geo.dilation = conv_option<D>(options.dilation, 1, op, "dilation");
    for (int d = 0; d < D; ++d) {
        VGT_CHECK(geo.stride[d] >= 1, op, "expected positive strides, found [{}]", fmt::join(geo.stride, ", "));
        VGT_CHECK(geo.dilation[d] >= 1, op, "expected positive dilations, found [{}]", fmt::join(geo.dilation, ", "));
        VGT_CHECK(geo.padding[d] >= 0, op, "expected non-negative padding, found [{}]", fmt::join(geo.padding, ", "));
        geo.in[d] = x.size(2 + d);
        geo.kernel[d] = weight.size(2 + d);
        VGT_CHECK(geo.kernel[d] >= 1, op, "expected positive kernel extents, found weight {}", weight.shape());
        const std::int64_t padded = geo.in[d] + 2 * geo.padding[d];
        const std::int64_t extent = geo.dilation[d] * (geo.kernel[d] - 1) + 1;
        VGT_CHECK(padded >= extent, op,
                  "expected the padded input to be at least as large as the dilated kernel, found input {} with "
                  "padding [{}], weight {} with dilation [{}] (spatial dimension {}: {} < {})",
                  x.shape(), fmt::join(geo.padding, ", "), weight.shape(), fmt::join(geo.dilation, ", "), d, padded,
                  extent);
        geo.out[d] = (padded - extent) / geo.stride[d] + 1;
        geo.in_size *= geo.in[d];
        geo.out_size *= geo.out[d];
        geo.kernel_size *= geo.kernel[d];
    }
    return geo;
}

/// Positions [tile * cols, (tile + 1) * cols) of a group's output form one tile.
struct ConvTiling {
    std::int64_t cols = 1;   // output positions per tile
    std::int64_t count = 1;  // tiles per (batch item, group)
};

/// Elements of one column buffer (2 MiB of float32). Eigen repacks the weight
/// matrix on every product, so tiles must be wide enough to amortise that,
/// yet small enough that the columns are still in cache when GEMM packs
/// them (measured best on 3x3 and 3x3x3 convs with 64 channels).
inline constexpr std::int64_t kConvColumnElements = std::int64_t{1} << 19;
/// Tiles narrower than this make GEMM calls too small to be worth splitting for.
inline constexpr std::int64_t kConvMinTileCols = 64;

/// Tiles of `positions` output columns for a column matrix with `rows` rows
/// (0: no buffer needed), with at least a few tasks per thread in all when
/// `outer` (batch items × groups × ...) alone is too few.
inline ConvTiling conv_tiling(std::int64_t positions, std::int64_t rows, std::int64_t outer) {
    std::int64_t count = 1;
    if (rows > 0) count = (positions * rows + kConvColumnElements - 1) / kConvColumnElements;
    const std::int64_t wanted_tasks = 4 * static_cast<std::int64_t>(num_threads());
    if (outer * count < wanted_tasks) {
        const std::int64_t max_count = std::max<std::int64_t>(1, positions / kConvMinTileCols);
        count = std::max(count, std::min(max_count, (wanted_tasks + outer - 1) / std::max<std::int64_t>(outer, 1)));
    }
    count = std::clamp<std::int64_t>(count, 1, std::max<std::int64_t>(positions, 1));
    ConvTiling tiling;
    tiling.cols = (positions + count - 1) / count;
    tiling.count = (positions + tiling.cols - 1) / tiling.cols;
    return tiling;
}

/// One slot per thread, or fewer when there are fewer tasks.
inline std::int64_t conv_slots(std::int64_t tasks) {
    return std::clamp<std::int64_t>(tasks, 1, num_threads());
}

/// Splits tasks [0, n) into `slots` contiguous runs and calls f(slot, lo, hi)
/// for each on the thread pool. Slot numbers are fixed, so per-slot scratch
/// and partial sums are combined in the same order on every run.
template <class F>
void run_conv_slots(std::int64_t tasks, std::int64_t slots, F&& f) {
    if (tasks <= 0) return;
    parallel_for_chunks(0, slots, 1, [&](std::int64_t lo, std::int64_t hi) {
        for (std::int64_t s = lo; s < hi; ++s) f(s, tasks * s / slots, tasks * (s + 1) / slots);
    });
}

/// The output rows (all spatial dimensions but the last) that a tile of
/// output positions crosses, with the part of each row inside the tile.
template <int D>
struct ConvTileRows {
    struct Row {
        std::array<std::int64_t, D> origin;  // output index × stride, per spatial dimension (last unused)
        std::int64_t begin, end;             // output columns of the last dimension inside the tile
        std::int64_t col;                    // column of `begin` within the tile
    };
    std::vector<Row> rows;

    void plan(const ConvGeometry<D>& geo, std::int64_t p0, std::int64_t p1) {
        rows.clear();
        const std::int64_t width = geo.out[D - 1];
        for (std::int64_t r = p0 / width; r * width < p1; ++r) {
            Row row{};
            std::int64_t rest = r;
            for (int d = D - 2; d >= 0; --d) {
                row.origin[d] = (rest % geo.out[d]) * geo.stride[d];
                rest /= geo.out[d];
            }
            row.begin = std::max(p0 - r * width, std::int64_t{0});
            row.end = std::min(p1 - r * width, width);
            row.col = r * width + row.begin - p0;
            rows.push_back(row);
        }
    }
};

/// Each kernel tap's offset into the padded input and, along the last
/// dimension, the output columns whose input falls inside the unpadded input.
template <int D>
struct ConvTaps {
    std::vector<std::array<std::int64_t, D>> offset;  // k·dilation − padding per dimension
    std::vector<std::int64_t> first, last;             // valid output columns [first, last)

    explicit ConvTaps(const ConvGeometry<D>& geo) {
        std::array<std::int64_t, D> k{};
        for (std::int64_t t = 0; t < geo.kernel_size; ++t) {
            std::array<std::int64_t, D> off;
            for (int d = 0; d < D; ++d) off[d] = k[d] * geo.dilation[d] - geo.padding[d];
            offset.push_back(off);
            // in = o·stride + off must lie in [0, width).
            const std::int64_t s = geo.stride[D - 1], o = off[D - 1], width = geo.in[D - 1];
            const std::int64_t lo = o >= 0 ? 0 : (-o + s - 1) / s;
            const std::int64_t hi = width - 1 - o < 0 ? 0 : (width - 1 - o) / s + 1;
            first.push_back(std::min(lo, geo.out[D - 1]));
            last.push_back(std::max(std::min(hi, geo.out[D - 1]), first.back()));
            for (int d = D - 1; d >= 0; --d) {
                if (++k[d] < geo.kernel[d]) break;
                k[d] = 0;
            }
        }
    }
};

/// Start of the input row that output row `row` reads for tap `tap` in one
/// channel, or -1 when that row lies in the padding.
template <int D>
std::int64_t conv_source_row(const ConvGeometry<D>& geo, const typename ConvTileRows<D>::Row& row,
                             const std::array<std::int64_t, D>& offset) {
    std::int64_t start = 0;
    for (int d = 0; d < D - 1; ++d) {
        const std::int64_t i = row.origin[d] + offset[d];
        if (i < 0 || i >= geo.in[d]) return -1;
        start = start * geo.in[d] + i;
    }
    return start * geo.in[D - 1];
}

/// Column matrix [channels × taps, p1 − p0] of channels [c0, c1) of one
/// group's input `x` (contiguous [channels, in_size]) for output positions
/// [p0, p1); row stride p1 − p0.
template <int D, class T>
void im2col(const ConvGeometry<D>& geo, const ConvTaps<D>& taps, const ConvTileRows<D>& tile, const T* x,
            std::int64_t c0, std::int64_t c1, std::int64_t tile_cols, T* col) {
    const std::int64_t s = geo.stride[D - 1];
    for (std::int64_t c = c0; c < c1; ++c) {
        const T* channel = x + c * geo.in_size;
        for (std::int64_t t = 0; t < geo.kernel_size; ++t) {
            T* dst_row = col + ((c - c0) * geo.kernel_size + t) * tile_cols;
            const std::int64_t shift = taps.offset[t][D - 1];
            for (const auto& row : tile.rows) {
                T* dst = dst_row + row.col;  // dst[o - row.begin] holds output column o
                const std::int64_t start = conv_source_row<D>(geo, row, taps.offset[t]);
                if (start < 0) {
                    std::fill(dst, dst + (row.end - row.begin), T(0));
                    continue;
                }
                // Output columns [lo, hi) read inside the input; the rest read padding.
                const std::int64_t lo = std::clamp(taps.first[t], row.begin, row.end);
                const std::int64_t hi = std::clamp(taps.last[t], lo, row.end);
                std::fill(dst, dst + (lo - row.begin), T(0));
                T* inside = dst + (lo - row.begin);
                const T* src = channel + start + shift + lo * s;
                if (s == 1) {
                    std::copy(src, src + (hi - lo), inside);
                } else {
                    for (std::int64_t j = 0; j < hi - lo; ++j) inside[j] = src[j * s];
                }
                std::fill(dst + (hi - row.begin), dst + (row.end - row.begin), T(0));
            }
        }
    }
}

/// The adjoint of im2col: adds each entry of the column matrix back onto the
/// input element it was read from (padding entries are dropped).
template <int D, class T>
void col2im_add(const ConvGeometry<D>& geo, const ConvTaps<D>& taps, const ConvTileRows<D>& tile, const T* col,
                std::int64_t c0, std::int64_t c1, std::int64_t tile_cols, T* x) {
    const std::int64_t s = geo.stride[D - 1];
    for (std::int64_t c = c0; c < c1; ++c) {
        T* channel = x + c * geo.in_size;
        for (std::int64_t t = 0; t < geo.kernel_size; ++t) {
            const T* src_row = col + ((c - c0) * geo.kernel_size + t) * tile_cols;
            const std::int64_t shift = taps.offset[t][D - 1];
            for (const auto& row : tile.rows) {
                const std::int64_t start = conv_source_row<D>(geo, row, taps.offset[t]);
                if (start < 0) continue;
                const std::int64_t lo = std::clamp(taps.first[t], row.begin, row.end);
                const std::int64_t hi = std::clamp(taps.last[t], lo, row.end);
                const T* src = src_row + row.col + (lo - row.begin);
                T* dst = channel + start + shift + lo * s;
                if (s == 1) {
                    for (std::int64_t j = 0; j < hi - lo; ++j) dst[j] += src[j];
                } else {
                    for (std::int64_t j = 0; j < hi - lo; ++j) dst[j * s] += src[j];
                }
            }
        }
    }
}

/// The column matrix of one task — a (batch item, group, tile of output
/// positions) triple — for the GEMMs of the forward pass and of the weight
/// gradient: the input itself for a pointwise conv, else its im2col in a
/// buffer owned by this object (one per thread).
template <int D, class T>
class ConvTaskColumns {
public:
    struct Task {
        std::int64_t n, g, p0, cols;
        const T* columns;  // [rows, cols] with row stride `column_stride`
        std::int64_t column_stride;
    };

    ConvTaskColumns(const ConvGeometry<D>& geo, const ConvTiling& tiling, const ConvTaps<D>& taps)
        : geo_(geo), tiling_(tiling), taps_(taps), pointwise_(geo.pointwise()),
          col_(pointwise_ ? 0 : static_cast<std::size_t>(geo.col_rows() * tiling.cols)) {}

    Task unfold(const T* x, std::int64_t task) {
        const std::int64_t ng = task / tiling_.count, n = ng / geo_.groups, g = ng % geo_.groups;
        const std::int64_t p0 = (task % tiling_.count) * tiling_.cols;
        const std::int64_t p1 = std::min(geo_.out_size, p0 + tiling_.cols), cols = p1 - p0;
        const T* xg = x + (n * geo_.in_channels + g * geo_.in_per_group()) * geo_.in_size;
        if (pointwise_) return {n, g, p0, cols, xg + p0, geo_.in_size};
        tile_.plan(geo_, p0, p1);
        im2col(geo_, taps_, tile_, xg, 0, geo_.in_per_group(), cols, col_.data());
        return {n, g, p0, cols, col_.data(), cols};
    }

private:
    const ConvGeometry<D>& geo_;
    const ConvTiling& tiling_;
    const ConvTaps<D>& taps_;
    bool pointwise_;
    std::vector<T> col_;
    ConvTileRows<D> tile_;
};

/// y = weight ⊛ x (+ bias); x, weight contiguous; bias may be null.
template <int D, class T>
void conv_forward(const ConvGeometry<D>& geo, const T* x, const T* w, const T* bias, T* y) {
    const std::int64_t groups = geo.groups, cout = geo.out_per_group();
    const std::int64_t rows = geo.col_rows(), positions = geo.out_size;
    const bool pointwise = geo.pointwise();
    const ConvTiling tiling = conv_tiling(positions, pointwise ? 0 : rows, geo.batch * groups);
    const std::int64_t tasks = geo.batch * groups * tiling.count;
    const ConvTaps<D> taps(geo);
    run_conv_slots(tasks, conv_slots(tasks), [&](std::int64_t, std::int64_t lo, std::int64_t hi) {
        ConvTaskColumns<D, T> task_columns(geo, tiling, taps);
        for (std::int64_t task = lo; task < hi; ++task) {
            const auto [n, g, p0, cols, columns, column_stride] = task_columns.unfold(x, task);
            const auto wg = MatrixOperand<T>::rows_of(w + g * cout * rows, cout, rows);
            const auto cm = MatrixOperand<T>::rows_of(columns, rows, cols, column_stride);
            T* out = y + (n * geo.out_channels + g * cout) * positions + p0;
            if (bias)
                for (std::int64_t o = 0; o < cout; ++o)
                    std::fill(out + o * positions, out + o * positions + cols, bias[g * cout + o]);
            gemm(wg, cm, out, positions, bias != nullptr);
        }
    });
}

/// grad_x = weightᵀ ⊛ grad_y, folded back onto the input (overwrites grad_x).
template <int D, class T>
void conv_grad_input(const ConvGeometry<D>& geo, const T* w, const T* gy, T* gx) {
    const std::int64_t groups = geo.groups, cin = geo.in_per_group(), cout = geo.out_per_group();
    const std::int64_t k = geo.kernel_size, rows = geo.col_rows(), positions = geo.out_size;
    const bool pointwise = geo.pointwise();
    // Tiles of one (batch item, group) fold onto overlapping input rows, so a
    // task owns whole channels instead: blocks of input channels when there
    // are fewer (batch item, group) pairs than threads.
    const std::int64_t pairs = geo.batch * groups;
    const std::int64_t threads = num_threads();
    const std::int64_t blocks = pairs >= threads ? 1 : std::min(cin, (threads + pairs - 1) / std::max<std::int64_t>(pairs, 1));
    const std::int64_t block_channels = blocks > 0 ? (cin + blocks - 1) / blocks : 0;
    const std::int64_t tasks = pairs * blocks;
    const ConvTiling tiling =
        pointwise ? ConvTiling{positions, 1} : conv_tiling(positions, block_channels * k, tasks);
    const ConvTaps<D> taps(geo);
    run_conv_slots(tasks, conv_slots(tasks), [&](std::int64_t, std::int64_t lo, std::int64_t hi) {
        std::vector<T> col(pointwise ? 0 : static_cast<std::size_t>(block_channels * k * tiling.cols));
        ConvTileRows<D> tile;
        for (std::int64_t task = lo; task < hi; ++task) {
            const std::int64_t ng = task / blocks, n = ng / groups, g = ng % groups;
            const std::int64_t c0 = (task % blocks) * block_channels, c1 = std::min(cin, c0 + block_channels);
            if (c0 >= c1) continue;
            T* gxg = gx + (n * geo.in_channels + g * cin) * geo.in_size;
            // Rows c0·k .. c1·k of the group's weight matrix, transposed.
            const auto wt =
                MatrixOperand<T>::rows_of(w + g * cout * rows + c0 * k, cout, (c1 - c0) * k, rows).transposed();
            if (!pointwise) std::fill(gxg + c0 * geo.in_size, gxg + c1 * geo.in_size, T(0));
            for (std::int64_t p0 = 0; p0 < positions; p0 += tiling.cols) {
                const std::int64_t p1 = std::min(positions, p0 + tiling.cols), cols = p1 - p0;
                const auto gm = MatrixOperand<T>::rows_of(gy + (n * geo.out_channels + g * cout) * positions + p0,
                                                          cout, cols, positions);
                if (pointwise) {
                    gemm(wt, gm, gxg + c0 * geo.in_size + p0, geo.in_size);
                } else {
                    gemm(wt, gm, col.data(), cols);
                    tile.plan(geo, p0, p1);
                    col2im_add(geo, taps, tile, col.data(), c0, c1, cols, gxg);
                }
            }
        }
    });
}

/// grad_w = Σ over the batch of grad_y · columnsᵀ (overwrites grad_w). Each
/// slot sums its share of (batch item, group, tile) tasks into its own copy;
/// the copies are added in slot order.
template <int D, class T>
void conv_grad_weight(const ConvGeometry<D>& geo, const T* x, const T* gy, T* gw) {
    const std::int64_t groups = geo.groups, cout = geo.out_per_group();
    const std::int64_t rows = geo.col_rows(), positions = geo.out_size;
    const std::int64_t weight_size = geo.out_channels * rows;
    const bool pointwise = geo.pointwise();
    const ConvTiling tiling = conv_tiling(positions, pointwise ? 0 : rows, geo.batch * groups);
    const std::int64_t tasks = geo.batch * groups * tiling.count;
    const std::int64_t slots = conv_slots(tasks);
    std::vector<std::vector<T>> partials(static_cast<std::size_t>(slots - 1));
    std::fill(gw, gw + weight_size, T(0));
    const ConvTaps<D> taps(geo);
    run_conv_slots(tasks, slots, [&](std::int64_t slot, std::int64_t lo, std::int64_t hi) {
        T* sum = gw;
        if (slot > 0) {
            partials[slot - 1].assign(static_cast<std::size_t>(weight_size), T(0));
            sum = partials[slot - 1].data();
        }
        ConvTaskColumns<D, T> task_columns(geo, tiling, taps);
        for (std::int64_t task = lo; task < hi; ++task) {
            const auto [n, g, p0, cols, columns, column_stride] = task_columns.unfold(x, task);
            const auto gm = MatrixOperand<T>::rows_of(gy + (n * geo.out_channels + g * cout) * positions + p0, cout,
                                                      cols, positions);
            const auto cm = MatrixOperand<T>::rows_of(columns, rows, cols, column_stride);
            gemm(gm, cm.transposed(), sum + g * cout * rows, rows, true);
        }
    });
    for (const auto& partial : partials) {
        if (partial.empty()) continue;
        parallel_for(weight_size, [&](std::int64_t i) { gw[i] += partial[static_cast<std::size_t>(i)]; });
    }
}

/// grad_b[o] = Σ over batch and positions of grad_y[n, o, ...].
template <int D, class T>
void conv_grad_bias(const ConvGeometry<D>& geo, const T* gy, T* gb) {
    const std::int64_t positions = geo.out_size;
    parallel_for(
        geo.out_channels,
        [&](std::int64_t o) {
            double total = 0;
            for (std::int64_t n = 0; n < geo.batch; ++n) {
                const T* row = gy + (n * geo.out_channels + o) * positions;
                total += static_cast<double>(
                    Eigen::Map<const Eigen::Matrix<T, Eigen::Dynamic, 1>>(row, positions).sum());
            }
            gb[o] = static_cast<T>(total);
        },
        1);
}

/// Whether a float32 convolution goes through the Winograd transforms
/// (ops/conv_winograd.hpp): a 2-d or 3-d convolution whose last two kernel
/// extents are 3, with stride 1, dilation 1, one group and padding of at
/// most 2 along those two (so its input gradient is a convolution too),
/// and enough input channels that the transforms pay.
template <int D>
bool winograd_applies(const ConvGeometry<D>& geo) {
    if constexpr (D < 2) {
        (void)geo;
        return false;
    } else {
        if (geo.groups != 1 || geo.kernel[D - 2] != 3 || geo.kernel[D - 1] != 3) return false;
        for (int d = 0; d < D; ++d)
            if (geo.stride[d] != 1 || geo.dilation[d] != 1) return false;
        if (geo.padding[D - 2] > 2 || geo.padding[D - 1] > 2) return false;
        if (D == 3 && geo.padding[0] > geo.kernel[0] - 1) return false;
        const std::int64_t taps = D == 3 ? geo.kernel[0] : 1;
        return geo.in_channels * taps >= kWinogradMinChannels;
    }
}

/// The geometry in the Winograd convolution's terms: frames [T, H, W] of a
/// 3-d convolution, single frames of a 2-d one.
template <int D>
    requires(D >= 2)
WinogradShape winograd_shape(const ConvGeometry<D>& geo) {
    WinogradShape s;
    s.batch = geo.batch;
    s.in_channels = geo.in_channels;
    s.out_channels = geo.out_channels;
    if constexpr (D == 3) {
        s.in_frames = geo.in[0];
        s.out_frames = geo.out[0];
        s.taps = geo.kernel[0];
        s.frame_padding = geo.padding[0];
    }
    s.in_height = geo.in[D - 2];
    s.in_width = geo.in[D - 1];
    s.out_height = geo.out[D - 2];
    s.out_width = geo.out[D - 1];
    s.pad_height = geo.padding[D - 2];
    s.pad_width = geo.padding[D - 1];
    return s;
}

/// y = weight ⊛ x (+ bias) on the CPU, through the Winograd transforms
/// where they apply, else im2col + GEMM.
template <int D, class T>
void convolve(const ConvGeometry<D>& geo, const T* x, const T* w, const T* bias, T* y) {
    if constexpr (std::is_same_v<T, float> && D >= 2)
        if (winograd_applies(geo)) return winograd_conv_forward(winograd_shape(geo), x, w, bias, y);
    conv_forward<D, T>(geo, x, w, bias, y);
}

/// conv_grad_input by the same choice as convolve.
template <int D, class T>
void convolve_grad_input(const ConvGeometry<D>& geo, const T* w, const T* gy, T* gx) {
    if constexpr (std::is_same_v<T, float> && D >= 2)
        if (winograd_applies(geo)) return winograd_conv_grad_input(winograd_shape(geo), w, gy, gx);
    conv_grad_input<D, T>(geo, w, gy, gx);
}

/// conv_grad_weight by the same choice as convolve.
template <int D, class T>
void convolve_grad_weight(const ConvGeometry<D>& geo, const T* x, const T* gy, T* gw) {
    if constexpr (std::is_same_v<T, float> && D >= 2)
        if (winograd_applies(geo)) return winograd_conv_grad_weight(winograd_shape(geo), x, gy, gw);
    conv_grad_weight<D, T>(geo, x, gy, gw);
}

/// The geometry in the CUDA backend's terms.
template <int D>
cuda::ConvShape cuda_conv_shape(const ConvGeometry<D>& geo) {
    cuda::ConvShape shape;
    shape.spatial = D;
    shape.batch = geo.batch;
    shape.in_channels = geo.in_channels;
    shape.out_channels = geo.out_channels;
    shape.groups = geo.groups;
    for (int d = 0; d < D; ++d) {
        shape.in[d] = geo.in[d];
        shape.kernel[d] = geo.kernel[d];
        shape.out[d] = geo.out[d];
        shape.stride[d] = geo.stride[d];
        shape.padding[d] = geo.padding[d];
        shape.dilation[d] = geo.dilation[d];
    }
    return shape;
}

/// conv_nd on a CUDA device: cuDNN forward and backward; the bias gradient
/// sums the output gradient over batch and positions.
template <int D>
Tensor conv_nd_cuda(const ConvGeometry<D>& geo, const Tensor& x, const Tensor& weight, const Tensor& bias,
                    const Shape& out_shape, const char* op) {
    const cuda::ConvShape shape = cuda_conv_shape(geo);
    const Tensor xc = contiguous_data(x), wc = contiguous_data(weight);
    Tensor y = cuda::convolution(shape, xc, wc, bias.defined() ? contiguous_data(bias) : Tensor{}, out_shape, op);
    if (!autograd::any_requires_grad({x, weight, bias})) return y;
    const bool need_x = x.requires_grad(), need_w = weight.requires_grad();
    const bool need_b = bias.defined() && bias.requires_grad();
    const Tensor x_saved = need_w ? detach(xc) : Tensor{};
    const Tensor w_saved = need_x ? detach(wc) : Tensor{};
    const Shape x_shape = x.shape(), w_shape = weight.shape();
    return autograd::record(y, op, {x, weight, bias}, [=](const Tensor& grad) {
        const Tensor g = contiguous_data(grad);
        Tensor gx, gw, gb;
        if (need_x) gx = cuda::convolution_input_gradient(shape, w_saved, g, x_shape, op);
        if (need_w) gw = cuda::convolution_weight_gradient(shape, x_saved, g, w_shape, op);
        if (need_b) gb = sum(reshape(g, Shape{geo.batch, geo.out_channels, geo.out_size}), {0, 2});
        return std::vector<Tensor>{gx, gw, gb};
    });
}

/// The shared body of conv1d, conv2d and conv3d.
template <int D>
Tensor conv_nd(const Tensor& x, const Tensor& weight, const Tensor& bias, const ConvOptions& options,
               const char* op) {
    const ConvGeometry<D> geo = conv_geometry<D>(x, weight, bias, options, op);
    Shape out_shape{geo.batch, geo.out_channels};
    for (int d = 0; d < D; ++d) out_shape.push_back(geo.out[d]);
    if (x.device().is_cuda()) return conv_nd_cuda<D>(geo, x, weight, bias, out_shape, op);
    const Tensor xc = contiguous_data(x);
    const Tensor wc = contiguous_data(weight);
    const Tensor bc = bias.defined() ? contiguous_data(bias) : Tensor{};
    Tensor y = Tensor::empty(out_shape, x.dtype());
    dispatch_floating(x, op, [&]<class T>() {
        convolve<D, T>(geo, xc.data<T>(), wc.data<T>(), bc.defined() ? bc.data<T>() : nullptr, y.data<T>());
    });
    if (!autograd::any_requires_grad({x, weight, bias})) return y;

    const bool need_x = x.requires_grad();
    const bool need_w = weight.requires_grad();
    const bool need_b = bias.defined() && bias.requires_grad();
    const Tensor x_saved = need_w ? detach(xc) : Tensor{};  // the weight gradient reads the input
    const Tensor w_saved = need_x ? detach(wc) : Tensor{};  // the input gradient reads the weight
    const Shape x_shape = x.shape(), w_shape = weight.shape();
    return autograd::record(y, op, {x, weight, bias}, [=](const Tensor& grad) {
        const Tensor g = contiguous_data(grad);
        Tensor gx, gw, gb;
        dispatch_floating(g, op, [&]<class T>() {
            if (need_x) {
                gx = Tensor::empty(x_shape, g.dtype());
                convolve_grad_input<D, T>(geo, w_saved.data<T>(), g.data<T>(), gx.data<T>());
            }
            if (need_w) {
                gw = Tensor::empty(w_shape, g.dtype());
                convolve_grad_weight<D, T>(geo, x_saved.data<T>(), g.data<T>(), gw.data<T>());
            }
            if (need_b) {
                gb = Tensor::empty(Shape{geo.out_channels}, g.dtype());
                conv_grad_bias<D, T>(geo, g.data<T>(), gb.data<T>());
            }
        });
        return std::vector<Tensor>{gx, gw, gb};
    });
}

}  // namespace detail

/// 1-d convolution: x [N, C, L], weight [out, C/groups, k], bias [out] or
/// undefined; returns [N, out, L_out].
inline Tensor conv1d(const Tensor& x, const Tensor& weight, const Tensor& bias = {}, const ConvOptions& options = {}) {
    return detail::conv_nd<1>(x, weight, bias, options, "conv1d");
}

/// 2-d convolution: x [N, C, H, W], weight [out, C/groups, kh, kw], bias [out]
/// or undefined; returns [N, out, H_out, W_out].
inline Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias = {}, const ConvOptions& options = {}) {
    return detail::conv_nd<2>(x, weight, bias, options, "conv2d");
}

/// 3-d convolution: x [N, C, D, H, W], weight [out, C/groups, kd, kh, kw],
/// bias [out] or undefined; returns [N, out, D_out, H_out, W_out].
inline Tensor conv3d(const Tensor& x, const Tensor& weight, const Tensor& bias = {}, const ConvOptions& options = {}) {
    return detail::conv_nd<3>(x, weight, bias, options, "conv3d");
}

}  // namespace vgt
