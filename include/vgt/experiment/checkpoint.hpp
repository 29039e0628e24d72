#pragma once
// A text-to-video training checkpoint: one safetensors file.
//
//   tensors   the model's parameters under their own names
//             ("text_encoder.*", "time_embedding.*", "unet.*", and
//             "content_encoder.*" with content conditioning), then the
//             training state the caller passes: AdamW's "optim.*", the
//             EMA's "ema.*", the loss scaler's "loss_scaler.*"
//   metadata  format "vgt-text-to-video", format_version "1", step (the
//             optimiser steps taken), rng ({"seed", "offset"} of the
//             generator the next step starts from), model (the preset's
//             name), config (the TrainConfig as JSON, every field, the
//             conditioning section included; a config written before that
//             section existed reads with it off),
//             tokenizer (the vocabulary as JSON)
//
// Writing is atomic (io::write_safetensors: a temporary file renamed over
// the old one), so a crash mid-write leaves the previous checkpoint whole.
// Reading rebuilds the model from the config and tokenizer in the metadata
// and loads every parameter by name, checking shapes and dtypes.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "vgt/core/error.hpp"
#include "vgt/core/random.hpp"
#include "vgt/experiment/text_to_video.hpp"
#include "vgt/experiment/train_config.hpp"
#include "vgt/io/json_config.hpp"
#include "vgt/io/safetensors.hpp"
#include "vgt/models/tokenizer.hpp"
#include "vgt/nn/parameters.hpp"
#include "vgt/optim/named_state.hpp"

namespace vgt::experiment {

inline constexpr std::string_view kCheckpointFormat = "vgt-text-to-video";
inline constexpr std::string_view kCheckpointVersion = "1";

/// The prefixes of training state (not model parameters) in a checkpoint.
inline bool is_training_state_name(std::string_view name) {
    for (std::string_view prefix : {"optim.", "ema.", "loss_scaler."})
        if (name.substr(0, prefix.size()) == prefix) return true;
    return false;
}

/// What a checkpoint holds, the model rebuilt with its weights.
struct Checkpoint {
    TextToVideo model;
    std::int64_t step = 0;
    Generator rng;
    optim::NamedTensors training_state;  // optim.*, ema.*, loss_scaler.*: for each tool's load_state
};

/// Writes `model`'s parameters, `training_state` (named tensors under the
/// prefixes above), the step, the generator state, the config and the
/// tokenizer to `path`, atomically.
inline void write_checkpoint(const std::string& path, const TextToVideo& model, std::int64_t step,
                             const Generator& rng, const optim::NamedTensors& training_state = {}) {
    constexpr const char* op = "write_checkpoint";
    VGT_CHECK(step >= 0, op, "'{}': expected a step >= 0, found {}", path, step);
    std::vector<std::pair<std::string, Tensor>> tensors = nn::named_parameters(model);
    for (const auto& [name, t] : training_state) {
        VGT_CHECK(is_training_state_name(name), op,
                  "'{}': expected training state under optim., ema. or loss_scaler., found '{}'", path, name);
        tensors.emplace_back(name, t);
    }
    const std::map<std::string, std::string> metadata = {
        {"format", std::string(kCheckpointFormat)},
        {"format_version", std::string(kCheckpointVersion)},
        {"step", std::to_string(step)},
        {"rng", nlohmann::json{{"seed", rng.seed()}, {"offset", rng.offset()}}.dump()},
        {"model", model.config().model},
        {"config", train_config_to_json(model.config()).dump()},
        {"tokenizer", model.tokenizer().to_json().dump()},
    };
    io::write_safetensors(path, tensors, metadata);
}

namespace detail {

inline const std::string& checkpoint_metadata(const io::SafetensorsFile& file, const std::string& key) {
    const auto it = file.metadata.find(key);
    VGT_CHECK(it != file.metadata.end(), "read_checkpoint",
              "'{}': expected metadata '{}' (a vgt text-to-video checkpoint), found none", file.source, key);
    return it->second;
}

inline nlohmann::json checkpoint_json(const io::SafetensorsFile& file, const std::string& key) {
    try {
        return nlohmann::json::parse(checkpoint_metadata(file, key));
    } catch (const nlohmann::json::exception& e) {
        fail("read_checkpoint", "'{}': expected JSON in metadata '{}', found a syntax error: {}", file.source, key,
             e.what());
    }
}

inline std::uint64_t checkpoint_unsigned(const io::SafetensorsFile& file, const nlohmann::json& j,
                                         const std::string& what) {
    VGT_CHECK(j.is_number_unsigned() || (j.is_number_integer() && j.get<std::int64_t>() >= 0), "read_checkpoint",
              "'{}': expected a non-negative integer for {}, found {}", file.source, what, j.dump());
    return j.get<std::uint64_t>();
}

}  // namespace detail

/// Reads a checkpoint written by write_checkpoint: the model rebuilt from
/// its config and tokenizer with every parameter loaded (each name present,
/// of the model's shape and dtype, and no other), and the training state.
inline Checkpoint read_checkpoint(const std::string& path) {
    constexpr const char* op = "read_checkpoint";
    const io::SafetensorsFile file = io::read_safetensors(path);
    const std::string& format = detail::checkpoint_metadata(file, "format");
    VGT_CHECK(format == kCheckpointFormat, op, "'{}': expected format '{}', found '{}'", path, kCheckpointFormat,
              format);
    const std::string& version = detail::checkpoint_metadata(file, "format_version");
    VGT_CHECK(version == kCheckpointVersion, op, "'{}': expected format_version {}, found '{}'", path,
              kCheckpointVersion, version);

    TrainConfig config;
    try {
        config = train_config_from_json(detail::checkpoint_json(file, "config"));
    } catch (const Error& e) {
        fail(op, "'{}': metadata 'config': {}", path, e.what());
    }
    models::Tokenizer tokenizer = [&] {
        try {
            return models::Tokenizer::from_json(detail::checkpoint_json(file, "tokenizer"));
        } catch (const Error& e) {
            fail(op, "'{}': metadata 'tokenizer': {}", path, e.what());
        }
    }();
    const nlohmann::json rng = detail::checkpoint_json(file, "rng");
    VGT_CHECK(rng.is_object() && rng.contains("seed") && rng.contains("offset") && rng.size() == 2, op,
              "'{}': expected metadata 'rng' {{\"seed\": S, \"offset\": O}}, found {}", path, rng.dump());
    const Generator generator(detail::checkpoint_unsigned(file, rng["seed"], "rng.seed"),
                              detail::checkpoint_unsigned(file, rng["offset"], "rng.offset"));
    const std::string& step_text = detail::checkpoint_metadata(file, "step");
    std::int64_t step = -1;
    try {
        std::size_t used = 0;
        step = std::stoll(step_text, &used);
        if (used != step_text.size()) step = -1;
    } catch (const std::exception&) {
        step = -1;
    }
    VGT_CHECK(step >= 0, op, "'{}': expected metadata 'step' a non-negative integer, found '{}'", path, step_text);

    Generator init(config.training.seed);  // the weights are replaced below
    Checkpoint out{TextToVideo(std::move(config), std::move(tokenizer), init), step, generator, {}};

    std::vector<std::pair<std::string, Tensor>> parameters;
    for (const auto& [name, t] : file.tensors) {
        if (is_training_state_name(name))
            out.training_state.emplace_back(name, t);
        else
            parameters.emplace_back(name, t);
    }
    std::map<std::string, const Tensor*> by_name;
    for (const auto& [name, t] : parameters) by_name[name] = &t;
    nn::visit_parameters(out.model, [&](const std::string& name, const Tensor& p) {
        const auto it = by_name.find(name);
        if (it == by_name.end()) return;  // load_parameters lists every missing one
        VGT_CHECK(it->second->dtype() == p.dtype() && it->second->shape() == p.shape(), op,
                  "'{}': expected parameter '{}' {} {}, found {} {}", path, name, dtype_name(p.dtype()), p.shape(),
                  dtype_name(it->second->dtype()), it->second->shape());
    });
    try {
        nn::load_parameters(out.model, parameters, "", true);
    } catch (const Error& e) {
        fail(op, "'{}': {}", path, e.what());
    }
    return out;
}

/// Replaces the model's parameters by the EMA weights ("ema.<parameter>")
/// among `tensors` (a checkpoint's training state, or all its tensors);
/// false, and nothing changed, when there are none.
inline bool load_ema_weights(TextToVideo& model, const std::vector<std::pair<std::string, Tensor>>& tensors) {
    std::vector<std::pair<std::string, Tensor>> weights;
    for (const auto& [name, t] : tensors)
        if (name.rfind("ema.", 0) == 0 && name != "ema.num_updates") weights.emplace_back(name.substr(4), t);
    if (weights.empty()) return false;
    nn::load_parameters(model, weights, "", true);
    return true;
}

/// Replaces the model's parameters by the checkpoint's EMA weights; false,
/// and nothing changed, when it has none.
inline bool use_ema_weights(Checkpoint& checkpoint) {
    return load_ema_weights(checkpoint.model, checkpoint.training_state);
}

}  // namespace vgt::experiment
