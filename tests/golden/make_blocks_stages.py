"""Golden cases of the conv stages (FrameConv, Conv3D, Conv2Plus1D,
AdapterConv2D) for tests/temporal/conv_stages_test.cpp.

Run with /usr/bin/python3 tests/golden/make_blocks_stages.py.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "reference"))
import conv_stages  # noqa: E402
import golden  # noqa: E402


def main():
    cin, cout = 3, 5

    def meta(stage, **options):
        return {"stage": stage, "in_channels": cin, "out_channels": cout, **options}

    golden.write_case("frame_conv", conv_stages.FrameConv(cin, cout), golden.video((2, 4, cin, 3, 4), 11),
                      meta("FrameConv"), seed=1)
    golden.write_case("conv3d_k3", conv_stages.Conv3D(cin, cout, 3), golden.video((2, 4, cin, 3, 4), 12),
                      meta("Conv3D", temporal_kernel=3, causal=False), seed=2)
    golden.write_case("conv3d_causal_k3", conv_stages.Conv3D(cin, cout, 3, causal=True),
                      golden.video((2, 4, cin, 3, 4), 13), meta("Conv3D", temporal_kernel=3, causal=True), seed=3)
    golden.write_case("conv2plus1d_k3", conv_stages.Conv2Plus1D(cin, cout, 3), golden.video((2, 4, cin, 3, 4), 14),
                      meta("Conv2Plus1D", temporal_kernel=3), seed=4)
    golden.write_case("conv2plus1d_k5", conv_stages.Conv2Plus1D(cin, cout, 5), golden.video((1, 6, cin, 3, 4), 15),
                      meta("Conv2Plus1D", temporal_kernel=5), seed=5)
    golden.write_case("adapter_conv2d_t3_tmax5", conv_stages.AdapterConv2D(cin, cout, 5),
                      golden.video((2, 3, cin, 3, 4), 16), meta("AdapterConv2D", max_frames=5), seed=6)


if __name__ == "__main__":
    main()
