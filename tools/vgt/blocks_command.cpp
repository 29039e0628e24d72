// `vgt blocks` and `vgt block run`: the temporal blocks' table of cost, and
// one stage and/or mixer run forward on an .npy video (the path by which a
// block is checked against another framework).

#include <cstdint>
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "flags.hpp"
#include "vgt/autograd/node.hpp"
#include "vgt/core/error.hpp"
#include "vgt/core/parallel.hpp"
#include "vgt/io/npy.hpp"
#include "vgt/io/safetensors.hpp"
#include "vgt/nn/parameters.hpp"
#include "vgt/ops/view.hpp"
#include "vgt/temporal/catalog.hpp"

namespace vgt::cli {

namespace {

namespace temporal = vgt::temporal;

struct BlockFlags {
    temporal::ConvStageOptions stage;
    temporal::MixerOptions mixer;
};

BlockFlags read_block_flags(Flags& flags, std::int64_t channels, std::int64_t frames, vgt::DType dtype) {
    BlockFlags b;
    const std::int64_t max_frames = flags.integer("max-frames", std::max<std::int64_t>(16, frames));
    const bool causal = flags.flag("causal");
    b.stage.out_channels = channels;
    b.stage.temporal_kernel = flags.integer("temporal-kernel", 3);
    b.stage.causal = causal;
    b.stage.max_frames = max_frames;
    b.stage.dtype = dtype;
    b.mixer.channels = channels;
    b.mixer.heads = flags.integer("heads", 4);
    b.mixer.norm_groups = flags.integer("norm-groups", 0, 0);
    b.mixer.max_frames = max_frames;
    b.mixer.causal = causal;
    b.mixer.mask_mode = temporal::parse_mask_mode(flags.text("mask-mode", "pre_softmax"));
    b.mixer.tcn_levels = flags.integer("tcn-levels", 2);
    b.mixer.tcn_kernel = flags.integer("tcn-kernel", 3);
    b.mixer.dtype = dtype;
    flags.apply_threads();
    return b;
}

struct BlockRow {
    std::string slot, name, note;
    std::int64_t params = 0;
    double gflops = 0;
    bool causal = false;
};

template <class Block>
BlockRow describe(const Block& block, std::string slot, const Shape& shape, std::string note = "") {
    if constexpr (requires { block.receptive_field(); })
        note += fmt::format("{}receptive field {} frames", note.empty() ? "" : ", ", block.receptive_field());
    return {std::move(slot), std::string(Block::name), std::move(note), block.params(), block.flops(shape) * 1e-9,
            temporal::is_causal(block)};
}

}  // namespace

int command_blocks(Flags& flags) {
    const Shape shape = parse_shape(flags.text("shape", "2,8,64,32,32"));
    const bool as_json = flags.flag("json");
    BlockFlags b = read_block_flags(flags, shape[2], shape[1], vgt::DType::Float32);
    b.stage.in_channels = shape[2];
    flags.require_all_used();

    std::vector<BlockRow> rows;
    vgt::Generator gen(0);
    for (const auto& name : temporal::conv_stage_names())
        temporal::visit_conv_stage(name, [&]<class Stage>() { rows.push_back(describe(Stage(b.stage, gen), "conv stage", shape)); });
    for (const auto& name : temporal::mixer_names())
        temporal::visit_mixer(name, "", [&]<class Mixer>() {
            rows.push_back(describe(Mixer(b.mixer, gen), "mixer", shape,
                                    temporal::takes_position(name) ? "with NoPosition" : ""));
        });
    // A position policy's cost is what it adds to TemporalAttention.
    std::int64_t base_params = 0;
    temporal::visit_mixer("TemporalAttention", "NoPosition",
                          [&]<class Mixer>() { base_params = Mixer(b.mixer, gen).params(); });
    for (const auto& pos : temporal::position_names())
        temporal::visit_mixer("TemporalAttention", pos, [&]<class Mixer>() {
            Mixer m(b.mixer, gen);
            BlockRow row = describe(m, "position", shape, "params added to TemporalAttention");
            row.name = pos;
            row.params = m.params() - base_params;
            row.gflops = 0;
            row.causal = false;
            rows.push_back(row);
        });

    if (as_json) {
        nlohmann::json out;
        out["shape"] = std::vector<std::int64_t>(shape.begin(), shape.end());
        out["heads"] = b.mixer.heads;
        for (const auto& r : rows) {
            nlohmann::json j = {{"name", r.name}, {"params", r.params}};
            if (r.slot == "position") {
                j["note"] = r.note;
                out["positions"].push_back(j);
            } else {
                j["forward_gflops"] = r.gflops;
                j["causal"] = r.causal;
                if (!r.note.empty()) j["note"] = r.note;
                out[r.slot == "mixer" ? "mixers" : "conv_stages"].push_back(j);
            }
        }
        fmt::print("{}\n", out.dump(2));
        return 0;
    }
    fmt::print("Blocks for a video [B, T, C, H, W] = {}, float32, heads = {}; GFLOPs are forward, multiply-add = 2\n\n",
               shape, b.mixer.heads);
    fmt::print("| slot | block | causal | params | forward GFLOPs |\n| --- | --- | --- | ---: | ---: |\n");
    for (const auto& r : rows) {
        if (r.slot == "position") continue;
        fmt::print("| {} | {}{} | {} | {} | {:.3f} |\n", r.slot, r.name, r.note.empty() ? "" : " (" + r.note + ")",
                   r.causal ? "yes" : "no", r.params, r.gflops);
    }
    fmt::print("\n| position policy | params added to TemporalAttention |\n| --- | ---: |\n");
    for (const auto& r : rows)
        if (r.slot == "position") fmt::print("| {} | {} |\n", r.name, r.params);
    return 0;
}

int command_block_run(Flags& flags) {
    const std::string stage_name = flags.text("stage", "");
    const std::string mixer_name = flags.text("mixer", "");
    const std::string position_name = flags.text("position", "");
    if (stage_name.empty() && mixer_name.empty()) throw Error("vgt block run: expected --stage NAME and/or --mixer NAME");
    if (!position_name.empty() && mixer_name.empty())
        throw Error("vgt block run: --position needs an attention --mixer");
    const std::int64_t channels = flags.integer("channels", 0);
    if (channels == 0) throw Error("vgt block run: expected --channels C");
    const std::string input_path = flags.required("input");
    const std::string output_path = flags.required("output");
    const auto weights_path = flags.get("weights");
    const auto seed = flags.get("seed");
    const auto save_path = flags.get("save-weights");
    const auto flow_path = flags.get("flow");
    if (weights_path.has_value() == seed.has_value())
        throw Error("vgt block run: expected exactly one of --weights FILE and --seed N");
    if (save_path && !seed) throw Error("vgt block run: --save-weights goes with --seed (the weights it draws)");

    const Tensor x = vgt::io::read_npy(input_path);
    if (x.rank() != 5)
        throw Error(fmt::format("vgt block run: expected a video [B, T, C, H, W] in {}, found shape {}", input_path,
                                x.shape()));
    if (x.dtype() != vgt::DType::Float32 && x.dtype() != vgt::DType::Float64)
        throw Error(fmt::format("vgt block run: expected float32 or float64 in {}, found {}", input_path,
                                vgt::dtype_name(x.dtype())));
    if (stage_name.empty() && x.size(2) != channels)
        throw Error(fmt::format("vgt block run: expected {} channels in {} (no stage to change them), found shape {}",
                                channels, input_path, x.shape()));
    BlockFlags b = read_block_flags(flags, channels, x.size(1), x.dtype());
    b.stage.in_channels = x.size(2);
    std::uint64_t seed_value = 0;
    if (seed) {
        try {
            seed_value = std::stoull(*seed);
        } catch (const std::exception&) {
            throw Error(fmt::format("vgt block run: expected a non-negative integer for --seed, found '{}'", *seed));
        }
    }
    flags.require_all_used();

    vgt::Generator gen(seed_value);
    std::vector<std::pair<std::string, Tensor>> loaded;
    if (weights_path) loaded = vgt::io::read_safetensors(*weights_path).tensors;
    std::vector<std::pair<std::string, Tensor>> drawn;
    vgt::NoGradGuard no_grad;
    Tensor y = x;
    Tensor flow;
    if (flow_path) {
        if (mixer_name != "FlowWarp") throw Error("vgt block run: --flow goes with --mixer FlowWarp");
        flow = vgt::to(vgt::io::read_npy(*flow_path), x.dtype());
    }
    std::size_t used = 0;  // parameter tensors of the blocks that ran
    auto run = [&](auto& block, const std::string& prefix) {
        used += vgt::nn::named_parameters(block, prefix).size();
        if (weights_path)
            vgt::nn::load_parameters(block, loaded, prefix);
        else
            for (auto& p : vgt::nn::named_parameters(block, prefix)) drawn.push_back(p);
        if constexpr (requires { block.forward(y, flow); })
            y = flow.defined() ? block.forward(y, flow) : block.forward(y);
        else
            y = block.forward(y);
    };
    if (!stage_name.empty())
        temporal::visit_conv_stage(stage_name, [&]<class Stage>() {
            Stage stage(b.stage, gen);
            run(stage, "stage");
        });
    if (!mixer_name.empty())
        temporal::visit_mixer(mixer_name, position_name, [&]<class Mixer>() {
            Mixer mixer(b.mixer, gen);
            run(mixer, "mixer");
        });
    if (weights_path) {
        // Every tensor of the file must belong to a block that ran: a misspelt
        // name or a stage's weights without --stage is an error, not ignored.
        if (used != loaded.size())
            throw Error(fmt::format("vgt block run: expected {} tensors in {} for the blocks named, found {}", used,
                                    *weights_path, loaded.size()));
    }
    vgt::io::write_npy(output_path, y);
    if (save_path) {
        std::map<std::string, std::string> meta = {{"stage", stage_name}, {"mixer", mixer_name},
                                                   {"position", position_name}, {"channels", std::to_string(channels)}};
        vgt::io::write_safetensors(*save_path, drawn, meta);
    }
    fmt::print(stderr, "vgt block run: {} → {}, {} parameter tensors\n", x.shape(), y.shape(),
               weights_path ? loaded.size() : drawn.size());
    return 0;
}

}  // namespace vgt::cli
