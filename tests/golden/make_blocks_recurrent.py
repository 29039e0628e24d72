"""Golden cases of the ConvLSTM and TCN mixers for
tests/temporal/recurrent_test.cpp and tests/temporal/tcn_test.cpp.

Run with /usr/bin/python3 tests/golden/make_blocks_recurrent.py.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "reference"))
import golden  # noqa: E402
import recurrent  # noqa: E402


def main():
    def meta(mixer, channels, groups, **options):
        return {"mixer": mixer, "channels": channels, "norm_groups": groups, **options}

    golden.write_case("conv_lstm_t4", recurrent.ConvLSTM(4, 2), golden.video((2, 4, 4, 3, 4), 21),
                      meta("ConvLSTM", 4, 2), seed=21)
    golden.write_case("conv_lstm_t2_odd", recurrent.ConvLSTM(3, 1), golden.video((1, 2, 3, 3, 5), 22),
                      meta("ConvLSTM", 3, 1), seed=22)

    # T beyond the receptive field (7 and 8 frames), so that the cases cover
    # outputs whose window is cut by the start of the video and ones whose is not.
    tcn = recurrent.TCN(4, 2, levels=2, kernel=3)
    assert tcn.receptive_field() == 7
    golden.write_case("tcn_l2_k3", tcn, golden.video((1, 9, 4, 2, 3), 23),
                      meta("TCN", 4, 2, tcn_levels=2, tcn_kernel=3), seed=23)
    tcn = recurrent.TCN(4, 4, levels=3, kernel=2)
    assert tcn.receptive_field() == 8
    golden.write_case("tcn_l3_k2", tcn, golden.video((2, 10, 4, 2, 2), 24),
                      meta("TCN", 4, 4, tcn_levels=3, tcn_kernel=2), seed=24)


if __name__ == "__main__":
    main()
