"""Golden cases of the attention mixers (TemporalAttention, DirectedAttention,
SpatioTemporalAttention) with the position policies, for
tests/temporal/attention_test.cpp. Case names are
<mixer>_<policy> in snake case, e.g. directed_attention_alibi.

Run with /usr/bin/python3 tests/golden/make_blocks_attention.py.
"""

import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "reference"))
import attention  # noqa: E402
import golden  # noqa: E402

POLICIES = ["NoPosition", "Sinusoidal", "Learned", "RelativeBias", "RoPE", "ALiBi", "XPos"]


def snake(name):
    special = {"NoPosition": "none", "RoPE": "rope", "ALiBi": "alibi", "XPos": "xpos"}
    return special.get(name) or re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


def main():
    channels, heads = 8, 2
    seed = 100

    def case(name, module, shape, **options):
        nonlocal seed
        seed += 1
        metadata = {"channels": channels, "heads": heads, **options}
        golden.write_case(name, module, golden.video(shape, seed), metadata, seed=seed)

    # Per-pixel attention over 5 frames of a 2x2 image.
    # The norm groups alternate between the default (8) and an explicit 4;
    # Learned's Tmax is 6 (> 5 frames used).
    for i, policy in enumerate(POLICIES):
        groups = 0 if i % 2 == 0 else 4
        case(f"temporal_attention_{snake(policy)}",
             attention.TemporalAttention(channels, heads, policy, groups, max_frames=6), (1, 5, channels, 2, 2),
             mixer="TemporalAttention", position=policy, norm_groups=groups, max_frames=6)
        case(f"directed_attention_{snake(policy)}",
             attention.DirectedAttention(channels, heads, policy, groups, max_frames=6), (1, 5, channels, 2, 2),
             mixer="DirectedAttention", position=policy, norm_groups=groups, max_frames=6,
             mask_mode="pre_softmax")
    for policy in ["NoPosition", "ALiBi", "RoPE"]:
        case(f"directed_attention_post_softmax_{snake(policy)}",
             attention.DirectedAttention(channels, heads, policy, 2, mask_mode="post_softmax"),
             (1, 4, channels, 3, 1), mixer="DirectedAttention", position=policy, norm_groups=2,
             mask_mode="post_softmax")

    # Joint attention over the 2 * 2 * 2 = 8 tokens of each of two videos.
    for policy, causal in [("NoPosition", False), ("NoPosition", True), ("Sinusoidal", False), ("RoPE", True),
                           ("ALiBi", True), ("RelativeBias", False), ("XPos", False)]:
        name = f"spatiotemporal_attention_{'causal_' if causal else ''}{snake(policy)}"
        case(name, attention.SpatioTemporalAttention(channels, heads, policy, 4, causal=causal),
             (2, 2, channels, 2, 2), mixer="SpatioTemporalAttention", position=policy, norm_groups=4, causal=causal)


if __name__ == "__main__":
    main()
