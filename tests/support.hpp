#pragma once
// Helpers shared by the test files.

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include <unistd.h>

#include <vgt/vgt.hpp>

namespace vgt::test {

/// Uniform random float64 tensor in [low, high), reproducible from `seed`.
inline Tensor random(const Shape& shape, std::uint64_t seed, double low = -1.0, double high = 1.0,
                     DType dtype = DType::Float64) {
    Generator gen(seed);
    return rand(shape, gen, dtype, low, high);
}

/// Largest |a - b| / max(|b|, floor) over all elements.
inline double max_relative_error(const Tensor& a, const Tensor& b, double floor = 1.0) {
    REQUIRE(a.shape() == b.shape());
    const auto va = a.to_vector<double>();
    const auto vb = b.to_vector<double>();
    double worst = 0;
    for (std::size_t i = 0; i < va.size(); ++i)
        worst = std::max(worst, std::abs(va[i] - vb[i]) / std::max(std::abs(vb[i]), floor));
    return worst;
}

/// Largest |a − b| over all elements.
inline double max_abs_difference(const Tensor& a, const Tensor& b) {
    REQUIRE(a.shape() == b.shape());
    const auto va = a.to_vector<double>();
    const auto vb = b.to_vector<double>();
    double worst = 0;
    for (std::size_t i = 0; i < va.size(); ++i) worst = std::max(worst, std::abs(va[i] - vb[i]));
    return worst;
}

/// Overwrites every parameter of a block (anything with visit_parameters)
/// with U(−scale, scale) from `seed`, so that checks run away from the
/// (often degenerate) initial weights.
template <class Block>
void randomize_parameters(Block& block, std::uint64_t seed, double scale = 0.5) {
    Generator gen(seed);
    block.visit_parameters(
        [&](const std::string&, Tensor& p) {
            const Tensor r = rand(p.shape(), gen, p.dtype(), -scale, scale);
            std::memcpy(p.raw_data(), r.raw_data(), p.nbytes());
        },
        "");
}

/// A fresh directory for one test case, removed with everything in it at
/// the end (also when the test made it read-only).
struct TempDir {
    std::filesystem::path path;

    TempDir() {
        static std::atomic<int> counter = 0;
        path = std::filesystem::temp_directory_path() / fmt::format("vgt-test-{}-{}", ::getpid(), counter++);
        std::filesystem::create_directories(path);
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::permissions(path, std::filesystem::perms::owner_all, std::filesystem::perm_options::add, ec);
        std::filesystem::remove_all(path, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    std::string file(const std::string& name) const { return (path / name).string(); }
    /// The names of the files in it, sorted.
    std::vector<std::string> names() const {
        std::vector<std::string> out;
        for (const auto& entry : std::filesystem::directory_iterator(path)) out.push_back(entry.path().filename().string());
        std::sort(out.begin(), out.end());
        return out;
    }
};

}  // namespace vgt::test

/// Runs vgt::gradcheck(fn, inputs[, options]) and fails the test with its
/// report on a mismatch. Variadic so that braced lists and lambdas with
/// commas pass through the preprocessor intact.
#define VGT_REQUIRE_GRADCHECK(...)                                              \
    do {                                                                        \
        const auto vgt_gc_result = ::vgt::gradcheck(__VA_ARGS__);              \
        INFO(vgt_gc_result.report);                                             \
        CHECK(vgt_gc_result.passed);                                            \
    } while (false)
