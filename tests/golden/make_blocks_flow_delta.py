"""Golden cases of FlowWarp, FrameDelta and Sequential<FrameDelta, FlowWarp>
for tests/temporal/flow_delta_test.cpp.

Run with /usr/bin/python3 tests/golden/make_blocks_flow_delta.py.
"""

import os
import sys

import torch
from torch import nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "reference"))
import flow_delta  # noqa: E402
import golden  # noqa: E402


def report_flow(name, module, x):
    """Prints the flow head's typical displacement: a case tests the warp
    only if its flows are about a pixel or more and not integers."""
    with torch.no_grad():
        f = module.flows(x)
    print(f"{name}: flow |mean| {f.abs().mean().item():.2f} px, max {f.abs().max().item():.2f} px")


def main():
    c = 4

    def meta(mixer, **options):
        return {"mixer": mixer, "channels": c, **options}

    # Under golden.randomize's U(-0.5, 0.5) weights the flow head's output
    # depends on the seed; seed 27 gives displacements of about a pixel on
    # average (up to 3) on these 5x6 frames, so the warp matters.
    x = golden.video((2, 3, c, 5, 6), 21)
    m = flow_delta.FlowWarp(c, 4)
    golden.write_case("flow_warp_head", m, x, meta("FlowWarp"), seed=27)
    report_flow("flow_warp_head", m, x)

    x = golden.video((1, 4, c, 3, 5), 22)
    m = flow_delta.FlowWarp(c, 2)
    golden.write_case("flow_warp_head_g2_odd", m, x, meta("FlowWarp", norm_groups=2), seed=22)
    report_flow("flow_warp_head_g2_odd", m, x)

    # An external flow at half the resolution (Hf = H/2, Wf = W/2), about a
    # pixel of its own grid, so two pixels of the video's.
    x = golden.video((2, 3, c, 4, 6), 23)
    flow = golden.video((2, 3, 2, 2, 3), 24) * 1.5
    golden.write_case("flow_warp_external_half", flow_delta.FlowWarp(c, 4), x, meta("FlowWarp"), seed=23,
                      extra_inputs={"flow": flow}, forward=lambda m, x, flow: m(x, flow))

    # Conditioned: the embedding's flow (about a pixel under these weights)
    # adds to the head's, per clip and per frame.
    x = golden.video((2, 3, c, 4, 5), 28)
    clip = golden.video((2, 6), 29)
    golden.write_case("flow_warp_embedding_clip", flow_delta.FlowWarp(c, 4, 6), x,
                      meta("FlowWarp", embedding_dim=6), seed=28, extra_inputs={"embedding": clip},
                      forward=lambda m, x, embedding: m(x, embedding=embedding))
    frames = golden.video((2, 3, 6), 30)
    golden.write_case("flow_warp_embedding_frames", flow_delta.FlowWarp(c, 2, 6), x,
                      meta("FlowWarp", norm_groups=2, embedding_dim=6), seed=30, extra_inputs={"embedding": frames},
                      forward=lambda m, x, embedding: m(x, embedding=embedding))

    golden.write_case("frame_delta", flow_delta.FrameDelta(c, 4), golden.video((2, 4, c, 3, 4), 25),
                      meta("FrameDelta"), seed=25)
    golden.write_case("frame_delta_g2_t2", flow_delta.FrameDelta(c, 2), golden.video((1, 2, c, 3, 5), 26),
                      meta("FrameDelta", norm_groups=2), seed=26)

    # nn.Sequential names the parts' parameters "0.*", "1.*" as vgt does.
    x = golden.video((1, 3, c, 4, 5), 27)
    seq = nn.Sequential(flow_delta.FrameDelta(c, 4), flow_delta.FlowWarp(c, 4))
    golden.write_case("sequential_frame_delta_flow_warp", seq, x, meta("Sequential<FrameDelta,FlowWarp>"), seed=27)
    with torch.no_grad():
        report_flow("sequential_frame_delta_flow_warp (part 1)", seq[1], seq[0](x))


if __name__ == "__main__":
    main()
