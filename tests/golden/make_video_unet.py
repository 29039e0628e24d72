"""Golden cases of the video UNet (include/vgt/models/video_unet.hpp) for
tests/models/video_unet_test.cpp.

The PyTorch twin below is written from docs/video_unet.md and reuses the
reference conv stages and mixers of tests/reference/. Each case is a tiny
configuration with random weights (float64), written to
tests/golden/video_unet/<case>.safetensors:

    input [B, T, Cin, H, W], time_embedding [B, D], context [B, L, Dc] and
    context_mask [B, L] (where the preset has cross-attention), output (all
    temporal layers on), output_frames (temporal layers off), and every
    parameter as unet.<name>; metadata: preset (the catalog name) and options
    (the VideoUNetOptions as JSON).

Run with /usr/bin/python3 tests/golden/make_video_unet.py.
"""

import json
import math
import os
import sys

import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "reference"))
import attention  # noqa: E402
import conv_stages  # noqa: E402
import flow_delta  # noqa: E402
import golden  # noqa: E402
import safetensors_io  # noqa: E402

OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "video_unet")


def groups_for(options, channels):
    return options["norm_groups"] or attention.default_norm_groups(channels)


def norm_frames(norm, x):
    return norm(x.flatten(0, 1)).unflatten(0, x.shape[:2])


def make_stage(kind, cin, cout, o):
    if kind == "FrameConv":
        return conv_stages.FrameConv(cin, cout)
    if kind == "Conv2Plus1D":
        return conv_stages.Conv2Plus1D(cin, cout, o["temporal_kernel"])
    if kind == "AdapterConv2D":
        return conv_stages.AdapterConv2D(cin, cout, o["max_frames"])
    if kind == "Conv3D":
        return conv_stages.Conv3D(cin, cout, o["temporal_kernel"], o["causal"])
    raise ValueError(kind)


def stage_per_frame(stage, x):
    """The stage with time off: its 3x3 conv of each frame alone."""
    if isinstance(stage, conv_stages.Conv2Plus1D):
        return conv_stages.per_frame(stage.spatial, x)
    if isinstance(stage, (conv_stages.FrameConv, conv_stages.AdapterConv2D)):
        return conv_stages.per_frame(stage.conv, x)
    if isinstance(stage, conv_stages.Conv3D):
        tap = stage.kt - 1 if stage.causal else stage.kt // 2
        b, t = x.shape[:2]
        y = F.conv2d(x.flatten(0, 1), stage.conv.weight[:, :, tap], stage.conv.bias, padding=1)
        return y.unflatten(0, (b, t))
    raise TypeError(type(stage))


class NoMixer(nn.Module):
    def forward(self, x):
        return x


class AttentionThenWarp(nn.ModuleList):
    """Sequential<TemporalAttention<Pos>, FlowWarp>: parts named 0 and 1; with
    conditioned_mixers the FlowWarp also takes the time features."""

    def __init__(self, channels, o):
        embedding = o["time_embed_dim"] if o["conditioned_mixers"] else 0
        super().__init__([make_mixer("TemporalAttention", channels, o),
                          flow_delta.FlowWarp(channels, groups_for(o, channels), embedding)])
        self.conditioned = embedding > 0

    def forward(self, x, time_features=None):
        x = self[0](x)
        return self[1](x, embedding=time_features) if self.conditioned else self[1](x)


def run_mixer(mixer, h, time_features):
    return mixer(h, time_features) if isinstance(mixer, AttentionThenWarp) else mixer(h)


def make_mixer(kind, channels, o):
    if kind == "NoMixer":
        return NoMixer()
    if kind == "TemporalAttention+FlowWarp":
        return AttentionThenWarp(channels, o)
    if kind == "TemporalAttention":
        return attention.TemporalAttention(channels, o["temporal_heads"], o["position"], o["norm_groups"],
                                           o["max_frames"])
    if kind == "DirectedAttention":
        return attention.DirectedAttention(channels, o["temporal_heads"], o["position"], o["norm_groups"],
                                           o["max_frames"], o["mask_mode"])
    raise ValueError(kind)


class ResBlock(nn.Module):
    def __init__(self, cin, cout, o):
        super().__init__()
        self.norm1 = nn.GroupNorm(groups_for(o, cin), cin)
        self.conv1 = make_stage(o["stage"], cin, cout, o)
        self.time_proj = nn.Linear(o["time_embed_dim"], 2 * cout)
        self.norm2 = nn.GroupNorm(groups_for(o, cout), cout)
        self.conv2 = make_stage(o["stage"], cout, cout, o)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else None

    def forward(self, x, time_features, temporal):
        run = (lambda s, v: s(v)) if temporal else stage_per_frame
        h = run(self.conv1, F.silu(norm_frames(self.norm1, x)))
        scale, shift = self.time_proj(time_features)[:, None, :, None, None].chunk(2, dim=2)
        h = norm_frames(self.norm2, h) * (1 + scale) + shift
        h = run(self.conv2, F.silu(h))
        return (conv_stages.per_frame(self.skip, x) if self.skip is not None else x) + h


class SelfAttention(nn.Module):
    """Attention among the H*W positions of each frame."""

    def __init__(self, channels, o):
        super().__init__()
        self.heads = o["heads"]
        self.norm = nn.GroupNorm(groups_for(o, channels), channels)
        self.to_q = nn.Linear(channels, channels, bias=False)
        self.to_k = nn.Linear(channels, channels, bias=False)
        self.to_v = nn.Linear(channels, channels, bias=False)
        self.to_out = nn.Linear(channels, channels)

    def forward(self, x):
        b, t, c, hh, ww = x.shape
        d = c // self.heads
        tokens = norm_frames(self.norm, x).reshape(b, t, c, hh * ww).transpose(2, 3)  # [B, T, HW, C]
        q, k, v = (f(tokens).unflatten(-1, (self.heads, d)) for f in (self.to_q, self.to_k, self.to_v))
        w = torch.softmax(torch.einsum("btihd,btjhd->bthij", q, k) / math.sqrt(d), dim=-1)
        out = self.to_out(torch.einsum("bthij,btjhd->btihd", w, v).flatten(-2))
        return x + out.transpose(2, 3).reshape(b, t, c, hh, ww)


class CrossAttention(nn.Module):
    """Attention from every position of every frame to the context tokens."""

    def __init__(self, channels, o):
        super().__init__()
        self.heads = o["heads"]
        self.norm = nn.GroupNorm(groups_for(o, channels), channels)
        self.to_q = nn.Linear(channels, channels, bias=False)
        self.to_k = nn.Linear(o["context_dim"], channels, bias=False)
        self.to_v = nn.Linear(o["context_dim"], channels, bias=False)
        self.to_out = nn.Linear(channels, channels)

    def forward(self, x, context, mask):
        b, t, c, hh, ww = x.shape
        d = c // self.heads
        tokens = norm_frames(self.norm, x).permute(0, 1, 3, 4, 2)  # [B, T, H, W, C]
        q = self.to_q(tokens).unflatten(-1, (self.heads, d))
        k = self.to_k(context).unflatten(-1, (self.heads, d))  # [B, L, heads, d]
        v = self.to_v(context).unflatten(-1, (self.heads, d))
        logits = torch.einsum("btyxhd,blhd->btyxhl", q, k) / math.sqrt(d)
        if mask is not None:
            logits = logits.masked_fill(mask[:, None, None, None, None, :] == 0, float("-inf"))
        out = torch.einsum("btyxhl,blhd->btyxhd", torch.softmax(logits, dim=-1), v).flatten(-2)
        return x + self.to_out(out).permute(0, 1, 4, 2, 3)


class Resample(nn.Module):
    def __init__(self, channels, down):
        super().__init__()
        self.down = down
        self.conv = nn.Conv2d(channels, channels, 3, stride=2 if down else 1, padding=1)

    def forward(self, x):
        b, t = x.shape[:2]
        f = x.flatten(0, 1)
        if not self.down:
            f = F.interpolate(f, scale_factor=2, mode="nearest")
        return self.conv(f).unflatten(0, (b, t))


class Level(nn.Module):
    def __init__(self):
        super().__init__()
        self.res = nn.ModuleList()
        self.temporal = nn.ModuleList()
        self.attn = nn.ModuleList()
        self.cross = nn.ModuleList()

    def add(self, cin, cout, attend, o):
        self.res.append(ResBlock(cin, cout, o))
        self.temporal.append(make_mixer(o["mixer"], cout, o))
        if attend:
            self.attn.append(SelfAttention(cout, o))
            if o["context_dim"]:
                self.cross.append(CrossAttention(cout, o))

    def unit(self, i, h, time_features, context, mask, temporal):
        h = self.res[i](h, time_features, temporal)
        if temporal:
            h = run_mixer(self.temporal[i], h, time_features)
        if i < len(self.attn):
            h = self.attn[i](h)
        if i < len(self.cross):
            h = self.cross[i](h, context, mask)
        return h


class Mid(nn.Module):
    def __init__(self, channels, o):
        super().__init__()
        self.res = nn.ModuleList([ResBlock(channels, channels, o), ResBlock(channels, channels, o)])
        self.temporal = nn.ModuleList([make_mixer(o["mixer"], channels, o) for _ in range(2)])
        self.attn = SelfAttention(channels, o)
        self.cross = CrossAttention(channels, o) if o["context_dim"] else None

    def forward(self, h, time_features, context, mask, temporal):
        for i in range(2):
            h = self.res[i](h, time_features, temporal)
            if temporal:
                h = run_mixer(self.temporal[i], h, time_features)
            if i == 0:
                h = self.attn(h)
                if self.cross is not None:
                    h = self.cross(h, context, mask)
        return h


class VideoUNet(nn.Module):
    def __init__(self, o):
        super().__init__()
        self.o = o
        base, mult = o["base_channels"], o["channel_mult"]
        levels = len(mult)
        self.conv_in = nn.Conv2d(o["in_channels"], base, 3, padding=1)
        skips, ch = [base], base
        self.down = nn.ModuleList()
        for level_index in range(levels):
            level, cout = Level(), base * mult[level_index]
            for _ in range(o["res_blocks"]):
                level.add(ch, cout, level_index in o["attention_levels"], o)
                ch = cout
                skips.append(ch)
            if level_index + 1 < levels:
                level.downsample = Resample(ch, down=True)
                skips.append(ch)
            self.down.append(level)
        self.mid = Mid(ch, o)
        ups = {}
        for level_index in reversed(range(levels)):
            level, cout = Level(), base * mult[level_index]
            for _ in range(o["res_blocks"] + 1):
                level.add(ch + skips.pop(), cout, level_index in o["attention_levels"], o)
                ch = cout
            if level_index > 0:
                level.upsample = Resample(ch, down=False)
            ups[level_index] = level
        self.up = nn.ModuleList([ups[i] for i in range(levels)])
        self.out = nn.Module()
        self.out.norm = nn.GroupNorm(groups_for(o, ch), ch)
        self.out.conv = nn.Conv2d(ch, o["out_channels"], 3, padding=1)

    def forward(self, x, time_embedding, context=None, mask=None, temporal=True):
        time_features = F.silu(time_embedding)
        h = conv_stages.per_frame(self.conv_in, x)
        skips = [h]
        for level in self.down:
            for i in range(len(level.res)):
                h = level.unit(i, h, time_features, context, mask, temporal)
                skips.append(h)
            if hasattr(level, "downsample"):
                h = level.downsample(h)
                skips.append(h)
        h = self.mid(h, time_features, context, mask, temporal)
        for level in reversed(self.up):
            for i in range(len(level.res)):
                h = level.unit(i, torch.cat([h, skips.pop()], dim=2), time_features, context, mask, temporal)
            if hasattr(level, "upsample"):
                h = level.upsample(h)
        return conv_stages.per_frame(self.out.conv, F.silu(norm_frames(self.out.norm, h)))


PRESETS = {
    "magicvideo": ("AdapterConv2D", "DirectedAttention", "NoPosition"),
    "gen1": ("Conv2Plus1D", "TemporalAttention", "NoPosition"),
    "vdm": ("FrameConv", "TemporalAttention", "RelativeBias"),
    "conv3d": ("Conv3D", "NoMixer", "NoPosition"),
    "image": ("FrameConv", "NoMixer", "NoPosition"),
    "vdm_flow": ("FrameConv", "TemporalAttention+FlowWarp", "RelativeBias"),
}

# VideoUNetOptions' defaults (docs/video_unet.md); a case overrides some.
DEFAULTS = {
    "in_channels": 4, "out_channels": 4, "base_channels": 64, "channel_mult": [1, 2, 4], "res_blocks": 2,
    "attention_levels": [1, 2], "heads": 4, "context_dim": 0, "time_embed_dim": 256, "norm_groups": 0,
    "dropout": 0.0, "temporal_kernel": 3, "causal": False, "max_frames": 16, "temporal_heads": 4,
    "mask_mode": "pre_softmax", "tcn_levels": 2, "tcn_kernel": 3, "conditioned_mixers": False,
}


def tensor(shape, seed, scale=1.0):
    return golden.video(shape, seed) * scale


def write_case(name, preset, shape, seed, context_length=0, **overrides):
    options = {**DEFAULTS, **overrides}
    stage, mixer, position = PRESETS[preset]
    model = VideoUNet({**options, "stage": stage, "mixer": mixer, "position": position}).double()
    golden.randomize(model, seed, scale=0.4)
    b = shape[0]
    tensors = {"input": tensor(shape, seed + 1), "time_embedding": tensor((b, options["time_embed_dim"]), seed + 2)}
    context = mask = None
    if options["context_dim"]:
        context = tensor((b, context_length, options["context_dim"]), seed + 3)
        mask = torch.ones(b, context_length, dtype=torch.int64)
        mask[-1, context_length // 2:] = 0  # the last sample's second half is padding
        tensors.update(context=context, context_mask=mask)
    with torch.no_grad():
        tensors["output"] = model(tensors["input"], tensors["time_embedding"], context, mask, temporal=True)
        tensors["output_frames"] = model(tensors["input"], tensors["time_embedding"], context, mask, temporal=False)
    arrays = {k: v.numpy() for k, v in tensors.items()}
    for pname, p in model.named_parameters():
        arrays["unet." + pname] = p.detach().numpy()
    os.makedirs(OUT_DIR, exist_ok=True)
    safetensors_io.save(os.path.join(OUT_DIR, name + ".safetensors"), arrays,
                        {"preset": preset, "options": json.dumps(options)})


def main():
    tiny = dict(in_channels=3, out_channels=2, base_channels=4, channel_mult=[1, 2], res_blocks=1, heads=2,
                time_embed_dim=8, temporal_heads=2)
    # Gen-1 with its structure channel concatenated to the latent (3 = 2 + 1), cross-attention to a
    # padded context at level 1 and in the middle.
    write_case("gen1", "gen1", (2, 3, 3, 8, 8), 10, context_length=4, attention_levels=[1], context_dim=4,
               **tiny)
    # VDM: relative-position bias, attention at both levels, no context, explicit norm groups.
    write_case("vdm", "vdm", (1, 3, 3, 8, 8), 20, attention_levels=[0, 1], norm_groups=2, **tiny)
    # MagicVideo: directed attention, Tmax = 4 > T = 3, context at level 0.
    write_case("magicvideo", "magicvideo", (1, 3, 3, 4, 4), 30, context_length=3, attention_levels=[0],
               context_dim=3, max_frames=4, **tiny)
    # VDM with a FlowWarp after each temporal attention, its flow conditioned on the time features.
    write_case("vdm_flow", "vdm_flow", (1, 3, 3, 8, 8), 40, context_length=2, attention_levels=[1], context_dim=4,
               conditioned_mixers=True, **tiny)


if __name__ == "__main__":
    main()
