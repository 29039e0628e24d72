"""Writes the golden cases of the position policies: one file
tests/golden/positions/<Policy>.safetensors per policy, float64.

Each file holds several cases <case> (listed in metadata "cases", with
"<case>.frames", "<case>.tokens_per_frame" and "<case>.causal"), and for each
hook the policy acts with: embed -> "<case>.h" and "<case>.embed"; rotate ->
"<case>.q", "<case>.k", "<case>.q_rot", "<case>.k_rot"; attention_bias ->
"<case>.bias". Learned tables are random, under "policy.<name>". Hooks
without a tensor here leave their input alone (the C++ test checks that).

Run with /usr/bin/python3 (Debian's python3-torch).
"""
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "reference"))
import positions  # noqa: E402
import safetensors_io  # noqa: E402

OUT_DIR = os.path.join(HERE, "positions")
CHANNELS, HEADS, MAX_FRAMES = 8, 2, 36
# (name, frames, tokens_per_frame, causal, batch): "long" reaches distances
# beyond RelativeBias's max_distance of 32.
CASES = [
    ("short", 5, 1, False, 2),
    ("tokens", 3, 4, True, 2),
    ("long", 36, 1, False, 1),
    ("long_causal", 36, 1, True, 1),
]


def uniform(shape, gen, scale=1.0):
    return (torch.rand(shape, generator=gen, dtype=torch.float64) * 2 - 1) * scale


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    for name, cls in positions.POSITIONS.items():
        if name == "NoPosition":
            continue
        gen = torch.Generator().manual_seed(sum(map(ord, name)))
        policy = cls(CHANNELS, HEADS, MAX_FRAMES).double()
        with torch.no_grad():
            for p in policy.parameters():
                p.copy_(uniform(p.shape, gen, 0.5))
        tensors = {"policy." + pname: p.detach().numpy() for pname, p in policy.named_parameters()}
        metadata = {"policy": name, "channels": str(CHANNELS), "heads": str(HEADS), "max_frames": str(MAX_FRAMES),
                    "cases": ",".join(c[0] for c in CASES)}
        d = CHANNELS // HEADS
        for case, frames, per_frame, causal, batch in CASES:
            ctx = positions.Context(frames, per_frame, causal)
            length = frames * per_frame
            metadata.update({f"{case}.frames": str(frames), f"{case}.tokens_per_frame": str(per_frame),
                             f"{case}.causal": str(causal).lower()})
            h = uniform((batch, length, CHANNELS), gen)
            q = uniform((batch, HEADS, length, d), gen)
            k = uniform((batch, HEADS, length, d), gen)
            with torch.no_grad():
                embedded = policy.embed(h, ctx)
                q_rot, k_rot = policy.rotate(q, k, ctx)
                bias = policy.attention_bias(ctx)
            if embedded is not h:
                tensors[f"{case}.h"] = h.numpy()
                tensors[f"{case}.embed"] = embedded.numpy()
            if q_rot is not q:
                tensors.update({f"{case}.q": q.numpy(), f"{case}.k": k.numpy(), f"{case}.q_rot": q_rot.numpy(),
                                f"{case}.k_rot": k_rot.numpy()})
            if bias is not None:
                tensors[f"{case}.bias"] = bias.contiguous().numpy()
        path = os.path.join(OUT_DIR, name + ".safetensors")
        safetensors_io.save(path, tensors, metadata)
        print(f"{path}: {len(tensors)} tensors, {os.path.getsize(path)} bytes")


if __name__ == "__main__":
    main()
