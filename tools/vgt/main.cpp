// vgt: the command-line program. `vgt help` lists the commands; each is
// implemented in its own <name>_command.cpp and declared in commands.hpp.

#include <exception>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "commands.hpp"
#include "flags.hpp"
#include "vgt/core/error.hpp"

namespace {

constexpr std::string_view usage_text = R"(vgt — video-generation research toolkit

Commands:
  vgt blocks [--shape B,T,C,H,W] [--json] [block options]
      Every conv stage, temporal mixer and position policy, with its
      parameter count and forward GFLOPs for a video of the given shape
      (default 2,8,64,32,32). Conv stages map C to C channels.

  vgt block run [--stage NAME] [--mixer NAME [--position NAME]] --channels C
                --input x.npy --output y.npy [--flow f.npy]
                (--weights w.safetensors | --seed N [--save-weights w.safetensors])
                [block options]
      Runs a conv stage (input channels → C) and/or a temporal mixer (on C
      channels) forward on a video [B, T, C, H, W] stored as .npy (float32
      or float64; the blocks run in that dtype). Weights are read from a
      safetensors file (names stage.* and mixer.*) or drawn from a seed, and
      can be saved for another framework to load. FlowWarp takes an
      external flow with --flow f.npy ([B, T, 2, Hf, Wf], pixels; resized).

  vgt data preview [--dataset NAME] --out FILE [--count K] [--frames T]
                   [--size S] [--seed N] [--objects N] [--fps F]
                   [--texture none|noise|stripes] [--occlusion]
                   [--split train|test]
  vgt data preview --config data.json --out FILE [--count K] [--fps F]
      The first K clips (default 4) of a data set, moving-shapes (default)
      or moving-fashion-mnist, with their captions: an animated .gif or
      .mp4 (clips tiled in a grid), a .png (a row of frames per clip) or
      an .npy batch [K, T, 3, S, S]. A JSON data config (docs/data.md)
      sets every option of any data set, video-folder included.

  vgt flow VIDEO --out FILE [--method hs|lk] [--scale PX]
           [--first-frame N] [--max-frames N] [--stride N]
           [--height H --width W] [--fps F]
      Optical flow between consecutive frames of a video (any file FFmpeg
      reads, or an .npy [T, C, H, W] in [0, 1]), drawn with the colour
      wheel (hue = direction, saturation = speed up to --scale pixels) as
      a video of T - 1 frames, or kept as numbers in an .npy [T-1, 2, H, W].

  vgt metrics VIDEO [--prompt TEXT] [--json] [--flow hs|lk]
              [--palette default|primary]
      Temporal consistency of a video (the occlusion-masked flow-warping
      error between consecutive frames); with --prompt, whether it shows
      the shapes, colours and directions the prompt names, how steady its
      objects' count and identity are and how smooth their trajectories.

  vgt train --config FILE.json
      Trains a text-to-video diffusion model as the config describes
      (docs/training.md): a progress bar on stderr, metrics.jsonl, sample
      GIFs and checkpoint.safetensors in its output_dir. Run it again to
      resume from the checkpoint there.

  vgt sample --checkpoint CKPT --prompt TEXT --out FILE [--frames T]
             [--steps N] [--sampler ddpm|ddim|dpm-solver++2m|euler]
             [--guidance W] [--temporal-guidance WT] [--seed S] [--fps F]
             [--no-ema]
      A video of the prompt from a checkpoint of `vgt train` (its EMA
      weights unless --no-ema): .gif, .mp4 or .npy [1, T, C, H, W].
      Defaults come from the checkpoint's config.

  vgt edit --checkpoint CKPT --input VIDEO --prompt TEXT --out FILE
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

  vgt evaluate --checkpoint CKPT [--prompts N] [--batch B] [--steps N]
               [--sampler NAME] [--guidance W] [--temporal-guidance WT]
               [--structure-level TS] [--seed S] [--out DIR] [--json]
               [--no-ema]
      Scores a model trained on MovingShapes (docs/quality.md). A
      text-to-video model samples one video per caption of N real clips
      (default 100; the held-out split when the config holds combinations
      out, else clips of data seed + 1): caption, colour, shape and
      direction accuracy, and the flow-warping error against the real
      clips'. A structure model edits N clips into another colour: the
      share in the new colour whose trajectory stays within 2 pixels.
      --out DIR writes evaluation.json, samples.gif and samples.txt.
  vgt help
      This text.

Block options:
  --heads N              attention heads (default 4)
  --temporal-kernel K    kt of Conv3D and Conv2Plus1D (default 3)
  --causal               Conv3D pads past frames only; SpatioTemporalAttention masks the future
  --max-frames N         Tmax of AdapterConv2D and the Learned position (default 16, at least T)
  --mask-mode MODE       DirectedAttention: pre_softmax (default) or post_softmax
  --tcn-levels L         TCN levels (default 2)
  --tcn-kernel K         TCN kernel (default 3)
  --norm-groups G        GroupNorm groups of the mixers (default: up to 32)
  --threads N            CPU threads (default: all; every command takes it)
)";

int run(const std::vector<std::string>& args) {
    using namespace vgt::cli;
    if (args.empty() || args[0] == "help" || args[0] == "--help" || args[0] == "-h") {
        fmt::print("{}", usage_text);
        return args.empty() ? 2 : 0;
    }
    if (args[0] == "blocks") {
        Flags flags({args.begin() + 1, args.end()}, {"json", "causal"});
        return command_blocks(flags);
    }
    if (args[0] == "block" && args.size() >= 2 && args[1] == "run") {
        Flags flags({args.begin() + 2, args.end()}, {"causal"});
        return command_block_run(flags);
    }
    if (args[0] == "data" && args.size() >= 2 && args[1] == "preview") {
        Flags flags({args.begin() + 2, args.end()}, {"occlusion"});
        return command_data_preview(flags);
    }
    if (args[0] == "flow") {
        Flags flags({args.begin() + 1, args.end()}, {}, "input");
        return command_flow(flags);
    }
    if (args[0] == "metrics") {
        Flags flags({args.begin() + 1, args.end()}, {"json"}, "video");
        return command_metrics(flags);
    }
    if (args[0] == "train") {
        Flags flags({args.begin() + 1, args.end()}, {});
        return command_train(flags);
    }
    if (args[0] == "sample") {
        Flags flags({args.begin() + 1, args.end()}, {"no-ema"});
        return command_sample(flags);
    }
    if (args[0] == "edit") {
        Flags flags({args.begin() + 1, args.end()}, {"no-ema"});
        return command_edit(flags);
    }
    if (args[0] == "evaluate") {
        Flags flags({args.begin() + 1, args.end()}, {"no-ema", "json"});
        return command_evaluate(flags);
    }
    throw vgt::Error(fmt::format("vgt: unknown command '{}' (see `vgt help`)", args[0]));
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return run(std::vector<std::string>(argv + 1, argv + argc));
    } catch (const std::exception& e) {
        fmt::print(stderr, "{}\n", e.what());
        return 1;
    }
}
