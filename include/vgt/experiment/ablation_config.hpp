#pragma once
// What an ablation trains and how it scores the models (docs/ablation.md):
//
//   {
//     "name": "attention-direction",
//     "description": "TemporalAttention vs DirectedAttention vs SpatioTemporalAttention",
//     "variants": ["FrameConv+TemporalAttention", "FrameConv+DirectedAttention"],
//     "train": { ...a train config without "model" (docs/config.md)... },
//     "evaluation": {"prompts": 24, "frames": [8, 16]},
//     "output_dir": "runs/attention-direction",
//     "quick": { ...a JSON merge patch applied to this document by --quick... }
//   }
//
// "task": "prediction" (with "prediction": {"context_frames": 4, "clips": 64})
// trains each variant to predict the rest of a clip from its first frames
// and scores PSNR and SSIM instead of prompts.
//
// Every variant trains from the same train config: the same data, seed,
// steps (or training.max_seconds of training time), batch and optimiser.
//
// A derived variant is a compiled one trained with a changed train config,
// so that one table compares a setting as well as a block:
//
//     "variants": ["Conv2Plus1D+FlowWarp", "Conv2Plus1D+FlowWarp, external flow"],
//     "derived": {"Conv2Plus1D+FlowWarp, external flow": {
//         "from": "Conv2Plus1D+FlowWarp",
//         "train": {"conditioning": {"external_flow": "horn_schunck"}}}}
//
// Its "train" is a JSON merge patch of the ablation's "train" object.

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "vgt/core/error.hpp"
#include "vgt/experiment/train_config.hpp"
#include "vgt/io/json_config.hpp"

namespace vgt::experiment {

/// How each trained variant is scored. Quality needs MovingShapes data: the
/// prompts are captions of held-out clips (experiment/shape_prompt_evaluation.hpp).
struct AblationEvaluation {
    std::int64_t prompts = 16;          // MovingShapes prompts per variant and length; 0: loss and cost only
    std::int64_t batch = 8;             // prompts sampled together
    std::int64_t sample_steps = 0;      // 0: the train config's diffusion.sample_steps
    std::vector<std::int64_t> frames;   // video lengths sampled and scored; empty: the data's
    std::int64_t strip_videos = 4;      // samples per variant and length in the report's strips
    std::uint64_t seed = 0;             // of the sampling noise
    bool ema = true;                    // score the EMA weights when the optimiser keeps them

    void validate() const {
        constexpr const char* op = "AblationEvaluation";
        VGT_CHECK(prompts >= 0, op, "expected prompts >= 0, found {}", prompts);
        VGT_CHECK(batch >= 1, op, "expected batch >= 1, found {}", batch);
        VGT_CHECK(sample_steps >= 0, op, "expected sample_steps >= 0 (0: the train config's), found {}",
                  sample_steps);
        for (const std::int64_t t : frames)
            VGT_CHECK(t >= 1 && t <= 1024, op, "expected every length in frames in [1, 1024], found {}", t);
        VGT_CHECK(strip_videos >= 0 && strip_videos <= 64, op, "expected strip_videos in [0, 64], found {}",
                  strip_videos);
    }
};

template <class Visitor>
void visit_fields(Visitor& v, AblationEvaluation& e) {
    v("prompts", e.prompts);
    v("batch", e.batch);
    v("sample_steps", e.sample_steps);
    v("frames", e.frames);
    v("strip_videos", e.strip_videos);
    v("seed", e.seed);
    v("ema", e.ema);
}

/// The prediction task: given the first context_frames of a clip, predict
/// the rest (experiment/frame_prediction.hpp).
struct AblationPrediction {
    std::int64_t context_frames = 4;  // K, in [1, T − 1]
    std::int64_t clips = 64;          // held-out clips scored

    void validate(const VideoGeometry& g) const {
        constexpr const char* op = "AblationPrediction";
        VGT_CHECK(context_frames >= 1 && context_frames < g.frames, op,
                  "expected context_frames in [1, {}] (the data's {} frames less one to predict), found {}",
                  g.frames - 1, g.frames, context_frames);
        VGT_CHECK(g.height >= 11 && g.width >= 11, op,
                  "expected frames of at least 11x11 (the window of SSIM, which scores the predictions), found {}x{}",
                  g.height, g.width);
        VGT_CHECK(clips >= 1, op, "expected clips >= 1, found {}", clips);
    }
};

template <class Visitor>
void visit_fields(Visitor& v, AblationPrediction& p) {
    v("context_frames", p.context_frames);
    v("clips", p.clips);
}

inline constexpr std::string_view kAblationTasks = "'text-to-video' or 'prediction'";

/// A compiled variant trained with its own train config.
struct DerivedVariant {
    std::string from;            // the compiled variant's name
    nlohmann::json train_patch;  // what changes: a merge patch of the ablation's "train" object
    TrainConfig train;           // the ablation's train config with the patch applied
};

struct AblationConfig {
    std::string name = "ablation";
    std::string description;
    std::vector<std::string> variants;  // names from the compiled list, in table order
    std::string task = "text-to-video";  // or "prediction"
    TrainConfig train;                  // train.model is set to each variant's name
    AblationEvaluation evaluation;
    AblationPrediction prediction;      // task "prediction" only
    std::string output_dir = "runs/ablation";
    std::map<std::string, DerivedVariant> derived;  // by name; each is listed in `variants`

    void validate() const {
        constexpr const char* op = "AblationConfig";
        VGT_CHECK(!name.empty(), op, "expected a name, found an empty string");
        VGT_CHECK(!variants.empty(), op, "expected at least one variant, found none");
        std::set<std::string> seen;
        for (const std::string& v : variants)
            VGT_CHECK(seen.insert(v).second, op, "expected each variant once, found '{}' twice", v);
        VGT_CHECK(!output_dir.empty(), op, "expected an output_dir, found an empty string");
        VGT_CHECK(task == "text-to-video" || task == "prediction", op, "expected task {}, found '{}'",
                  kAblationTasks, task);
        evaluation.validate();
        validate_train(train);
        for (const auto& [derived_name, d] : derived) {
            VGT_CHECK(seen.count(derived_name) == 1, op,
                      "expected derived variant '{}' in 'variants' (a derived variant runs only when listed), found "
                      "it missing",
                      derived_name);
            VGT_CHECK(!d.from.empty(), op, "derived variant '{}': expected 'from' naming a compiled variant, found "
                      "an empty string", derived_name);
            try {
                validate_train(d.train);
            } catch (const Error& e) {
                fail(op, "derived variant '{}': {}", derived_name, e.what());
            }
        }
    }

    /// The train config of the variant listed as `variant`.
    const TrainConfig& train_of(const std::string& variant) const {
        const auto it = derived.find(variant);
        return it == derived.end() ? train : it->second.train;
    }

private:
    void validate_train(const TrainConfig& t) const {
        constexpr const char* op = "AblationConfig";
        if (task == "prediction") {
            // The predictor sets the UNet's channels itself: C + 1 in, C out.
            TrainConfig own = t;
            const VideoGeometry g = video_geometry(own.data);
            own.unet.in_channels = own.unet.out_channels = g.channels;
            own.validate_parts();
            prediction.validate(g);
            return;
        }
        t.validate_parts();
        VGT_CHECK(evaluation.prompts == 0 || t.data.dataset == "moving-shapes", op,
                  "expected evaluation.prompts 0 for data set '{}' (prompts are scored by the MovingShapes "
                  "metrics), found {}",
                  t.data.dataset, evaluation.prompts);
    }
};

template <class Visitor>
void visit_fields(Visitor& v, AblationConfig& c) {
    v("name", c.name);
    v("description", c.description);
    v("variants", c.variants);
    v("task", c.task);
    v("train", c.train);
    v("evaluation", c.evaluation);
    v("prediction", c.prediction);
    v("output_dir", c.output_dir);
}

/// An AblationConfig from a JSON document; with `quick`, the document's
/// "quick" object is merged into it first (RFC 7386: objects merge key by
/// key, anything else replaces). Errors name the key's path.
inline AblationConfig ablation_config_from_json(nlohmann::json j, bool quick) {
    constexpr const char* op = "ablation config";
    VGT_CHECK(j.is_object(), op, "expected a JSON object, found {}", io::detail::json_kind(j));
    nlohmann::json patch;
    if (j.contains("quick")) {
        patch = j["quick"];
        j.erase("quick");
        VGT_CHECK(patch.is_object(), op, "expected 'quick' to be an object (a merge patch), found {}",
                  io::detail::json_kind(patch));
    }
    if (quick) {
        VGT_CHECK(!patch.is_null(), op, "expected a 'quick' preset for --quick, found none");
        j.merge_patch(patch);
    }
    if (j.contains("train") && j["train"].is_object())
        VGT_CHECK(!j["train"].contains("model"), op,
                  "expected no train.model (each variant is the model; list them in 'variants'), found {}",
                  j["train"]["model"].dump());
    nlohmann::json derived;
    if (j.contains("derived")) {
        derived = j["derived"];
        j.erase("derived");
        VGT_CHECK(derived.is_object(), op,
                  "expected 'derived' to be an object of variants by name, each {{\"from\": NAME, \"train\": PATCH}}, "
                  "found {}",
                  io::detail::json_kind(derived));
    }
    AblationConfig config = io::options_from_json<AblationConfig>(j, "");
    for (const auto& [name, d] : derived.items()) {
        const std::string path = fmt::format("derived.{}", name);
        VGT_CHECK(d.is_object(), op, "'{}': expected an object {{\"from\": NAME, \"train\": PATCH}}, found {}", path,
                  io::detail::json_kind(d));
        for (const auto& [key, value] : d.items())
            VGT_CHECK(key == "from" || key == "train", op, "'{}': unknown key '{}' (expected one of: from, train)",
                      path, key);
        VGT_CHECK(d.contains("from") && d["from"].is_string(), op,
                  "'{}.from': expected the name of a compiled variant, found {}", path,
                  d.contains("from") ? io::detail::json_kind(d["from"]) : std::string("none"));
        DerivedVariant variant;
        variant.from = d["from"].get<std::string>();
        variant.train_patch = d.value("train", nlohmann::json::object());
        VGT_CHECK(variant.train_patch.is_object(), op, "'{}.train': expected an object (a merge patch), found {}",
                  path, io::detail::json_kind(variant.train_patch));
        VGT_CHECK(!variant.train_patch.contains("model"), op,
                  "'{}.train': expected no model (the variant 'from' names is the model), found {}", path,
                  variant.train_patch["model"].dump());
        nlohmann::json train = j.value("train", nlohmann::json::object());
        train.merge_patch(variant.train_patch);
        variant.train = io::options_from_json<TrainConfig>(train, path + ".train");
        config.derived.emplace(name, std::move(variant));
    }
    config.validate();
    return config;
}

/// Reads, parses and validates an ablation config file.
inline AblationConfig read_ablation_config(const std::string& path, bool quick = false) {
    const nlohmann::json j = io::read_json_config(path);
    try {
        return ablation_config_from_json(j, quick);
    } catch (const Error& e) {
        fail("ablation config", "'{}': {}", path, e.what());
    }
}

inline nlohmann::json ablation_config_to_json(const AblationConfig& config) {
    nlohmann::json j = io::options_to_json(config);
    if (config.derived.empty()) return j;
    nlohmann::json& derived = j["derived"] = nlohmann::json::object();
    for (const auto& [name, d] : config.derived) derived[name] = {{"from", d.from}, {"train", d.train_patch}};
    return j;
}

}  // namespace vgt::experiment
