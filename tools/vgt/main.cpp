// vgt: the command-line program. Each command is implemented in its own
// <name>_command.cpp and declared in commands.hpp; this file holds the
// table that names them, their help, and what the exit status means.

#include <exception>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "commands.hpp"
#include "flags.hpp"
#include "vgt/core/error.hpp"

namespace vgt::cli {

namespace {

struct Command {
    std::string_view name;      // one or two words: "train", "data preview"
    std::string_view summary;   // one line for `vgt help`
    std::string_view help;      // the usage and its explanation, for `vgt NAME --help`
    std::vector<std::string_view> switches;  // flags that take no value
    std::string_view positional;             // the flag a leading bare argument stands for
    int (*run)(Flags&);
};

constexpr std::string_view block_options_help = R"(
Block options:
  --heads N              attention heads (default 4)
  --temporal-kernel K    kt of Conv3D and Conv2Plus1D (default 3)
  --causal               Conv3D pads past frames only; SpatioTemporalAttention masks the future
  --max-frames N         Tmax of AdapterConv2D and the Learned position (default 16, at least T)
  --mask-mode MODE       DirectedAttention: pre_softmax (default) or post_softmax
  --tcn-levels L         TCN levels (default 2)
  --tcn-kernel K         TCN kernel (default 3)
  --norm-groups G        GroupNorm groups of the mixers (default: up to 32)
)";

const std::vector<Command>& command_table() {
    static const std::vector<Command> table = {
        {"info", "the build (CPU, CUDA, FFmpeg, threads) and the devices it sees",
         R"(vgt info [--json]
    How this program was built and what it can use: version, compiler and
    vector instructions, the CPU thread pool, whether CUDA is compiled in
    and which GPUs it finds, and whether FFmpeg (video files) and zlib
    (gzip files) are. --json prints the same as one JSON object.
)",
         {"json"}, {}, command_info},
        {"blocks", "every conv stage, temporal mixer and position policy, with its cost",
         R"(vgt blocks [--shape B,T,C,H,W] [--json] [block options]
    Every conv stage, temporal mixer and position policy, with its
    parameter count and forward GFLOPs for a video of the given shape
    (default 2,8,64,32,32). Conv stages map C to C channels.
)",
         {"json", "causal"}, {}, command_blocks},
        {"block run", "one conv stage and/or mixer forward on an .npy video",
         R"(vgt block run [--stage NAME] [--mixer NAME [--position NAME]] --channels C
              --input x.npy --output y.npy [--flow f.npy]
              (--weights w.safetensors | --seed N [--save-weights w.safetensors])
              [block options]
    Runs a conv stage (input channels → C) and/or a temporal mixer (on C
    channels) forward on a video [B, T, C, H, W] stored as .npy (float32
    or float64; the blocks run in that dtype). Weights are read from a
    safetensors file (names stage.* and mixer.*) or drawn from a seed, and
    can be saved for another framework to load. FlowWarp takes an
    external flow with --flow f.npy ([B, T, 2, Hf, Wf], pixels; resized).
)",
         {"causal"}, {}, command_block_run},
        {"bench blocks", "vgt's own forward and backward times of every block",
         R"(vgt bench blocks [--shape B,T,C,H,W] [--block NAME[,NAME...]] [--reps N]
                 [--min-time SECONDS] [--warmup N] [--json]
    Times every conv stage and temporal mixer (or the --block ones, a
    comma-separated list such as conv3d,tcn) on a random video of the
    given shape (default 2,8,64,32,32), float32, heads 4; progress goes
    to stderr. Prints the median, min and max milliseconds of the
    forward and of forward + backward, and the forward GFLOP/s. After
    --warmup untimed calls (default 1), each is timed at least --reps
    times (default 5) and more until the calls add up to --min-time
    seconds (default 0.5; at most 200 calls). spatiotemporal_attention
    runs on frames of at most 8x8. --json prints one object per block,
    the records of vgt_bench_blocks --json (benchmarks/README.md).
)",
         {"json"}, {}, command_bench_blocks},
        {"data preview", "the first clips of a data set, as a video, image or .npy",
         R"(vgt data preview [--dataset NAME] --out FILE [--count K] [--frames T]
                 [--size S] [--seed N] [--objects N] [--fps F]
                 [--texture none|noise|stripes] [--occlusion]
                 [--split train|test]
vgt data preview --config data.json --out FILE [--count K] [--fps F]
    The first K clips (default 4) of a data set, moving-shapes (default)
    or moving-fashion-mnist, with their captions: an animated .gif or
    .mp4 (clips tiled in a grid), a .png (a row of frames per clip) or
    an .npy batch [K, T, 3, S, S]. A JSON data config (docs/data.md)
    sets every option of any data set, video-folder included.
)",
         {"occlusion"}, {}, command_data_preview},
        {"flow", "optical flow of a video, drawn or as numbers",
         R"(vgt flow VIDEO --out FILE [--method hs|lk] [--scale PX]
         [--first-frame N] [--max-frames N] [--stride N]
         [--height H --width W] [--fps F]
    Optical flow between consecutive frames of a video (any file FFmpeg
    reads, or an .npy [T, C, H, W] in [0, 1]), drawn with the colour
    wheel (hue = direction, saturation = speed up to --scale pixels) as
    a video of T - 1 frames, or kept as numbers in an .npy [T-1, 2, H, W].
)",
         {}, "input", command_flow},
        {"metrics", "temporal consistency of a video, and how well it shows a prompt",
         R"(vgt metrics VIDEO [--prompt TEXT] [--json] [--flow hs|lk]
            [--palette default|primary]
    Temporal consistency of a video (the occlusion-masked flow-warping
    error between consecutive frames); with --prompt, whether it shows
    the shapes, colours and directions the prompt names, how steady its
    objects' count and identity are and how smooth their trajectories.
)",
         {"json"}, "video", command_metrics},
        {"train", "trains a text-to-video (or video-to-video) model from a JSON config",
         R"(vgt train --config FILE.json
    Trains a text-to-video diffusion model as the config describes
    (docs/training.md): a progress bar on stderr, metrics.jsonl, sample
    GIFs and checkpoint.safetensors in its output_dir. Run it again to
    resume from the checkpoint there.
)",
         {}, {}, command_train},
        {"sample", "a video of a prompt from a trained checkpoint, or from the bundled model",
         R"(vgt sample [--checkpoint CKPT] --prompt TEXT --out FILE [--frames T]
           [--steps N] [--sampler ddpm|ddim|dpm-solver++2m|euler]
           [--guidance W] [--temporal-guidance WT] [--seed S] [--fps F]
           [--no-ema]
    A video of the prompt from a checkpoint of `vgt train` (its EMA
    weights unless --no-ema): .gif, .mp4 or .npy [1, T, C, H, W].
    Defaults come from the checkpoint's config. Without --checkpoint, the
    bundled text-to-video model of MovingShapes (32x32, 8 frames; a
    colour, a shape and a direction, as in "a red circle moving left";
    examples/models/, installed to share/vgt/models/).
)",
         {"no-ema"}, {}, command_sample},
        {"edit", "Gen-1 video-to-video: a video restyled by a prompt, its structure kept",
         R"(vgt edit --checkpoint CKPT --input VIDEO --prompt TEXT --out FILE
         [--structure-level TS] [--frames T] [--steps N]
         [--sampler ddpm|ddim|dpm-solver++2m|euler] [--guidance W]
         [--temporal-guidance WT] [--reference IMAGE] [--seed S]
         [--fps F] [--no-ema]
    Gen-1 video-to-video: the input video (any file FFmpeg reads, or an
    .npy [T, C, H, W] in [0, 1]; its first T frames, the model's count
    unless --frames, resized to the model's size) keeps its structure,
    coarsened by structure level TS (default 0: every edge), and takes
    the look the prompt describes (and, for a content model, the
    --reference image's). Needs a checkpoint trained with
    conditioning.structure = true; writes .gif, .mp4 or .npy
    [1, T, C, H, W].
)",
         {"no-ema"}, {}, command_edit},
        {"evaluate", "scores a MovingShapes model: caption accuracy, or edit accuracy",
         R"(vgt evaluate --checkpoint CKPT [--prompts N] [--batch B] [--steps N]
             [--sampler NAME] [--guidance W] [--temporal-guidance WT]
             [--structure-level TS] [--seed S] [--probe-clips K]
             [--out DIR] [--json] [--no-ema]
    Scores a model trained on MovingShapes (docs/quality.md). A
    text-to-video model samples one video per caption of N real clips
    (default 100; the held-out split when the config holds combinations
    out, else clips of data seed + 1): caption, colour, shape and
    direction accuracy, and the flow-warping error against the real
    clips'. Its loss on K training clips (default 96, 0: none) with
    their captions and with directions, colours or shapes swapped shows
    which words it uses. A structure model edits N clips into another colour: the
    share in the new colour whose trajectory stays within 2 pixels.
    --out DIR writes evaluation.json, samples.gif and samples.txt.
)",
         {"no-ema", "json"}, {}, command_evaluate},
        {"export", "a checkpoint for sampling only: its weights, config and tokenizer",
         R"(vgt export --checkpoint CKPT --out MODEL.safetensors [--no-ema]
    Writes the model of a `vgt train` checkpoint without its training
    state (AdamW's moments, the EMA copy): the EMA weights (the training
    weights with --no-ema) as the model's, its config and tokenizer, in a
    quarter of the size. `sample`, `edit` and `evaluate` read it as they
    read any checkpoint; training cannot resume from it.
)",
         {"no-ema"}, {}, command_export},
        {"ablate", "trains and scores model variants alike, into one table",
         R"(vgt ablate --config FILE.json [--quick] [--out DIR]
vgt ablate --list
    Trains every variant the config names (docs/ablation.md) on the same
    data, seed, steps and batch, then scores each: parameters, FLOPs per
    frame, the median training step, peak tensor memory, the loss curve,
    and on MovingShapes caption accuracy, identity consistency, trajectory
    smoothness and the flow-warping error at each evaluated length; with
    "task": "prediction", PSNR and SSIM of frames predicted from a clip's
    first ones. Writes results.json, report.md, report.html and loss.svg
    into the config's output_dir (or DIR) after every variant, each
    variant's checkpoint and sample strips under variants/. --quick
    applies the config's "quick" preset, a smoke run of minutes. --list
    prints the compiled variants' names.
)",
         {"quick", "list"}, {}, command_ablate},
    };
    return table;
}

constexpr std::string_view common_help = R"(
Every command takes --threads N (CPU threads; default: all) and --help.
Exit status: 0 done; 1 the work failed (a file, config or value it could
not use: the message says what was expected and what was found); 2 the
command line is wrong (unknown command or flag, a flag without its value,
a required flag missing, a number that is not one).
)";

bool is_help(std::string_view a) { return a == "--help" || a == "-h"; }

bool mentions_block_options(const Command& c) { return c.name == "blocks" || c.name == "block run"; }

void print_command_help(const Command& c) {
    fmt::print("{}", c.help);
    if (mentions_block_options(c)) fmt::print("{}", block_options_help);
    fmt::print("{}", common_help);
}

void print_overview() {
    fmt::print("vgt — video-generation research toolkit\n\nCommands:\n");
    for (const Command& c : command_table()) fmt::print("  {:<14} {}\n", c.name, c.summary);
    fmt::print("  {:<14} {}\n", "help", "this text; `vgt help COMMAND` or `vgt COMMAND --help` for one command");
    fmt::print("{}", common_help);
}

/// The command that `args` start with (its name's one or two words), if any.
const Command* find_command(const std::vector<std::string>& args, std::size_t& words) {
    for (const Command& c : command_table()) {
        const std::size_t space = c.name.find(' ');
        if (space == std::string_view::npos) {
            if (!args.empty() && args[0] == c.name) return words = 1, &c;
        } else if (args.size() >= 2 && args[0] == c.name.substr(0, space) && args[1] == c.name.substr(space + 1)) {
            return words = 2, &c;
        }
    }
    return nullptr;
}

[[noreturn]] void unknown_command(const std::vector<std::string>& args) {
    std::string valid;
    for (const Command& c : command_table()) valid += fmt::format("{}{}", valid.empty() ? "" : ", ", c.name);
    std::string given = args[0];
    if (args.size() >= 2 && args[1].rfind("--", 0) != 0) given += " " + args[1];
    throw UsageError(fmt::format("vgt: expected a command ({}), found '{}' (see `vgt help`)", valid, given));
}

int run(const std::vector<std::string>& args) {
    if (args.empty()) {
        print_overview();
        return 2;
    }
    if (args[0] == "help" || is_help(args[0])) {
        if (args.size() == 1 || is_help(args[0])) {
            print_overview();
            return 0;
        }
        std::size_t words = 0;
        const Command* c = find_command({args.begin() + 1, args.end()}, words);
        if (c == nullptr) unknown_command({args.begin() + 1, args.end()});
        print_command_help(*c);
        return 0;
    }
    std::size_t words = 0;
    const Command* c = find_command(args, words);
    if (c == nullptr) unknown_command(args);
    const std::vector<std::string> rest(args.begin() + static_cast<std::ptrdiff_t>(words), args.end());
    for (const std::string& a : rest)
        if (is_help(a)) {
            print_command_help(*c);
            return 0;
        }
    Flags flags(rest, c->switches, c->positional, c->name);
    return c->run(flags);
}

}  // namespace

}  // namespace vgt::cli

int main(int argc, char** argv) {
    try {
        return vgt::cli::run(std::vector<std::string>(argv + 1, argv + argc));
    } catch (const vgt::cli::UsageError& e) {
        fmt::print(stderr, "{}\n", e.what());
        return 2;
    } catch (const std::exception& e) {
        fmt::print(stderr, "{}\n", e.what());
        return 1;
    }
}
