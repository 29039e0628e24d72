#pragma once
// Property checks shared by the tests of every temporal block: identity at
// initialisation, causality, any T, float64 gradcheck over input and
// parameters, and agreement with the PyTorch reference on golden files.
//
// A golden file tests/golden/blocks/<case>.safetensors holds `input`,
// `output` and the block's parameters as `block.<name>`, all float64, with
// the block's options as string metadata (see tests/reference/README.md).

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "support.hpp"

#include <vgt/io/safetensors.hpp>
#include <vgt/nn/parameters.hpp>
#include <vgt/temporal/block_concepts.hpp>
#include <vgt/temporal/options.hpp>

namespace vgt::test {

/// Copies `value` into the block's parameter called `name` (which must exist).
template <class Block>
void set_parameter(Block& block, const std::string& name, const Tensor& value) {
    bool found = false;
    block.visit_parameters(
        [&](const std::string& n, Tensor& p) {
            if (n != name) return;
            REQUIRE(p.shape() == value.shape());
            const Tensor v = contiguous(to(detach(value), p.dtype()));
            std::memcpy(p.raw_data(), v.raw_data(), p.nbytes());
            found = true;
        },
        "");
    REQUIRE(found);
}

/// The block's parameter called `name` (a handle sharing its storage).
template <class Block>
Tensor parameter(const Block& block, const std::string& name) {
    for (const auto& [n, p] : nn::named_parameters(block))
        if (n == name) return p;
    FAIL("no parameter " << name);
    return {};
}

/// Names and shapes of a block's parameters, in visiting order.
template <class Block>
std::vector<std::pair<std::string, Shape>> parameter_shapes(const Block& block, const std::string& prefix = "") {
    std::vector<std::pair<std::string, Shape>> out;
    for (const auto& [n, p] : nn::named_parameters(block, prefix)) out.emplace_back(n, p.shape());
    return out;
}


/// Frames [t0, t1) of a video [B, T, C, H, W].
inline Tensor frames(const Tensor& video, std::int64_t t0, std::int64_t t1) { return slice(video, 1, t0, t1); }

/// Output frames ≤ t must not move when input frames > t change, for every t.
template <class Block>
void check_causal(const Block& block, const Tensor& x, std::uint64_t seed = 77) {
    NoGradGuard no_grad;
    const std::int64_t frame_count = x.size(1);
    const Tensor y = block.forward(x);
    for (std::int64_t t = 0; t + 1 < frame_count; ++t) {
        const Tensor future = random(frames(x, t + 1, frame_count).shape(), seed + static_cast<std::uint64_t>(t),
                                     -2.0, 2.0, x.dtype());
        const Tensor changed = concat({frames(x, 0, t + 1), future}, 1);
        const Tensor y_changed = block.forward(changed);
        INFO("frame " << t << " of " << frame_count);
        CHECK(max_abs_difference(frames(y_changed, 0, t + 1), frames(y, 0, t + 1)) <= 1e-12);
        // The check could not fail if later outputs ignored the change too.
        if (t + 1 < frame_count) CHECK(max_abs_difference(frames(y_changed, t + 1, frame_count),
                                                          frames(y, t + 1, frame_count)) > 1e-9);
    }
}

/// Gradcheck in float64 of block.forward with respect to the input and every parameter.
template <class Block>
void check_block_gradients(Block& block, const Tensor& x) {
    std::vector<Tensor> inputs = {x};
    block.visit_parameters([&](const std::string&, Tensor& p) { inputs.push_back(p); }, "");
    const std::vector<Tensor> saved = inputs;
    VGT_REQUIRE_GRADCHECK(
        [&](const std::vector<Tensor>& xs) {
            std::size_t k = 1;
            block.visit_parameters([&](const std::string&, Tensor& p) { p = xs[k++]; }, "");
            return block.forward(xs[0]);
        },
        inputs);
    std::size_t k = 1;
    block.visit_parameters([&](const std::string&, Tensor& p) { p = saved[k++]; }, "");
}

/// Parsed option fields of a golden file's metadata.
class GoldenMetadata {
public:
    explicit GoldenMetadata(std::map<std::string, std::string> m) : m_(std::move(m)) {}
    std::string text(const std::string& key, const std::string& fallback = "") const {
        auto it = m_.find(key);
        return it == m_.end() ? fallback : it->second;
    }
    std::int64_t integer(const std::string& key, std::int64_t fallback) const {
        auto it = m_.find(key);
        return it == m_.end() ? fallback : std::stoll(it->second);
    }
    bool flag(const std::string& key) const { return text(key, "false") == "true"; }

    temporal::ConvStageOptions stage_options() const {
        temporal::ConvStageOptions o;
        o.in_channels = integer("in_channels", 0);
        o.out_channels = integer("out_channels", 0);
        o.temporal_kernel = integer("temporal_kernel", o.temporal_kernel);
        o.causal = flag("causal");
        o.max_frames = integer("max_frames", o.max_frames);
        o.dtype = DType::Float64;
        return o;
    }
    temporal::MixerOptions mixer_options() const {
        temporal::MixerOptions o;
        o.channels = integer("channels", 0);
        o.heads = integer("heads", o.heads);
        o.norm_groups = integer("norm_groups", o.norm_groups);
        o.max_frames = integer("max_frames", o.max_frames);
        o.causal = flag("causal");
        o.mask_mode = temporal::parse_mask_mode(text("mask_mode", "pre_softmax"));
        o.tcn_levels = integer("tcn_levels", o.tcn_levels);
        o.tcn_kernel = integer("tcn_kernel", o.tcn_kernel);
        o.embedding_dim = integer("embedding_dim", o.embedding_dim);
        o.dtype = DType::Float64;
        return o;
    }

private:
    std::map<std::string, std::string> m_;
};

inline io::SafetensorsFile read_golden_block(const std::string& case_name) {
    return io::read_safetensors(std::string(VGT_GOLDEN_DIR) + "/blocks/" + case_name + ".safetensors");
}

/// Builds a block with the golden file's options, loads its `block.*`
/// weights, runs forward on `input` (through `run`, default block.forward)
/// and requires ≤ 1e-6 relative error against PyTorch's `output`.
template <class Block, class Run>
void check_against_torch(const std::string& case_name, Run run) {
    INFO("golden case " << case_name);
    const io::SafetensorsFile file = read_golden_block(case_name);
    const GoldenMetadata meta(file.metadata);
    Generator gen(0);
    auto block = [&] {
        if constexpr (std::constructible_from<Block, const temporal::ConvStageOptions&, Generator&>)
            return Block(meta.stage_options(), gen);
        else
            return Block(meta.mixer_options(), gen);
    }();
    nn::load_parameters(block, file.tensors, "block");
    // Every block.* tensor must be a parameter of the block (names agree with PyTorch's).
    std::int64_t golden_params = 0;
    for (const auto& [name, t] : file.tensors)
        if (name.rfind("block.", 0) == 0) golden_params += t.numel();
    CHECK(golden_params == block.params());
    NoGradGuard no_grad;
    const Tensor y = run(block, file);
    CHECK(max_relative_error(y, file.at("output"), 1e-3) <= 1e-6);
}

template <class Block>
void check_against_torch(const std::string& case_name) {
    check_against_torch<Block>(case_name,
                               [](const Block& b, const io::SafetensorsFile& f) { return b.forward(f.at("input")); });
}

}  // namespace vgt::test
