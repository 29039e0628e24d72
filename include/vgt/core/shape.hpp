#pragma once
// Shape: the extent of each dimension of a tensor, rank 0 to kMaxRank.

#include <algorithm>
#include <array>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "vgt/core/error.hpp"

namespace vgt {

/// Video tensors are [B, T, C, H, W]; one more dimension leaves room for
/// grouped views such as [B, T, G, C/G, H, W].
inline constexpr int kMaxRank = 6;

/// A fixed-capacity list of int64 extents (also used for strides).
class Dims {
public:
    Dims() = default;
    Dims(std::initializer_list<std::int64_t> dims) { assign(dims.begin(), dims.end()); }
    explicit Dims(std::span<const std::int64_t> dims) { assign(dims.begin(), dims.end()); }
    explicit Dims(const std::vector<std::int64_t>& dims) { assign(dims.begin(), dims.end()); }

    static Dims filled(int rank, std::int64_t value) {
        Dims d;
        d.resize(rank);
        std::fill(d.begin(), d.end(), value);
        return d;
    }

    int rank() const { return rank_; }
    int size() const { return rank_; }
    bool empty() const { return rank_ == 0; }

    std::int64_t& operator[](int i) { return data_[i]; }
    std::int64_t operator[](int i) const { return data_[i]; }

    /// Extent of dimension `dim`, counting from the end when negative.
    std::int64_t at(int dim) const { return data_[normalize_dim(dim)]; }

    int normalize_dim(int dim, std::string_view op = "dim") const {
        int d = dim < 0 ? dim + rank_ : dim;
        VGT_CHECK(d >= 0 && d < rank_, op, "expected a dimension in [{}, {}), found {}", -rank_, rank_, dim);
        return d;
    }

    void resize(int rank) {
        VGT_CHECK(rank >= 0 && rank <= kMaxRank, "Shape", "expected rank at most {}, found {}", kMaxRank, rank);
        for (int i = rank_; i < rank; ++i) data_[i] = 0;
        rank_ = rank;
    }
    void push_back(std::int64_t v) {
        resize(rank_ + 1);
        data_[rank_ - 1] = v;
    }
    void insert(int pos, std::int64_t v) {
        resize(rank_ + 1);
        for (int i = rank_ - 1; i > pos; --i) data_[i] = data_[i - 1];
        data_[pos] = v;
    }
    void erase(int pos) {
        for (int i = pos; i + 1 < rank_; ++i) data_[i] = data_[i + 1];
        --rank_;
    }

    std::int64_t numel() const {
        std::int64_t n = 1;
        for (int i = 0; i < rank_; ++i) n *= data_[i];
        return n;
    }

    std::int64_t* begin() { return data_.data(); }
    std::int64_t* end() { return data_.data() + rank_; }
    const std::int64_t* begin() const { return data_.data(); }
    const std::int64_t* end() const { return data_.data() + rank_; }
    std::span<const std::int64_t> span() const { return {data_.data(), static_cast<std::size_t>(rank_)}; }
    std::vector<std::int64_t> vec() const { return {begin(), end()}; }

    std::string str() const { return fmt::format("[{}]", fmt::join(begin(), end(), ", ")); }

    friend bool operator==(const Dims& a, const Dims& b) {
        return a.rank_ == b.rank_ && std::equal(a.begin(), a.end(), b.begin());
    }

private:
    template <class It>
    void assign(It first, It last) {
        int n = static_cast<int>(std::distance(first, last));
        VGT_CHECK(n <= kMaxRank, "Shape", "expected rank at most {}, found {}", kMaxRank, n);
        rank_ = n;
        std::copy(first, last, data_.begin());
    }

    std::array<std::int64_t, kMaxRank> data_{};
    int rank_ = 0;
};

using Shape = Dims;
using Strides = Dims;

/// Row-major (C order) strides of a shape, in elements.
inline Strides contiguous_strides(const Shape& shape) {
    Strides s = Strides::filled(shape.rank(), 1);
    for (int i = shape.rank() - 2; i >= 0; --i) s[i] = s[i + 1] * std::max<std::int64_t>(shape[i + 1], 1);
    return s;
}

}  // namespace vgt

template <>
struct fmt::formatter<vgt::Dims> : fmt::formatter<std::string> {
    auto format(const vgt::Dims& d, fmt::format_context& ctx) const {
        return fmt::formatter<std::string>::format(d.str(), ctx);
    }
};
