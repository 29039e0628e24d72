#!/usr/bin/python3
"""Golden cases of the frame-wise video VAE (include/vgt/models/vae*.hpp), for
tests/models/vae_test.cpp.

A PyTorch twin of vgt::models::Vae, with the same architecture and parameter
names, is built for a tiny config with random weights U(-0.5, 0.5) and run in
float64 and, with the same weights rounded, in float32. One safetensors file
per case, tests/golden/vae/<case>.safetensors:

| tensor | meaning |
| --- | --- |
| `vae.<name>` | every parameter, float64, named as in vgt |
| `input` | frames [N, C, H, W] or a video [B, T, C, H, W], float64 |
| `mean`, `logvar` | the encoder's posterior for `input` (logvar clamped to [-30, 20]) |
| `latent` | a random latent of the posterior's shape, float64 |
| `decoded` | the decoder's output for `latent` |
| `mean_f32`, `logvar_f32`, `decoded_f32` | the same from the float32 twin on the rounded inputs |
| `noise` | eps for z = mean + exp(logvar / 2) * eps (video cases) |
| `reconstruction` | decoder(z) (video cases) |
| `loss.<l1,l2>.<total,reconstruction,kl,temporal>` | the loss terms of vgt::models::vae_loss (video cases) |

Metadata: the VaeOptions fields (channel_multipliers comma-separated) and,
for video cases, the loss weights kl_weight and temporal_weight.

Run with Debian's /usr/bin/python3 (python3-torch):

    /usr/bin/python3 tests/golden/make_vae.py
"""

import os
import sys

import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "reference"))
import safetensors_io  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "vae")

LOGVAR_MIN, LOGVAR_MAX = -30.0, 20.0
NORM_EPS = 1e-6


def groups_for(norm_groups, channels):
    """norm_groups, or with 0 the largest divisor of channels that is at most 32."""
    if norm_groups:
        return norm_groups
    return max(g for g in range(1, min(32, channels) + 1) if channels % g == 0)


class ResBlock(nn.Module):
    def __init__(self, cin, cout, gin, gout):
        super().__init__()
        self.norm1 = nn.GroupNorm(gin, cin, eps=NORM_EPS)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.norm2 = nn.GroupNorm(gout, cout, eps=NORM_EPS)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else None

    def forward(self, x):
        h = self.conv1(F.silu(self.norm1(x)))
        h = self.conv2(F.silu(self.norm2(h)))
        return (self.skip(x) if self.skip is not None else x) + h


class Downsample(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, stride=2, padding=1)

    def forward(self, x):
        return self.conv(x)


class Upsample(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x):
        return self.conv(F.interpolate(x, scale_factor=2, mode="nearest"))


class Mid(nn.Module):
    def __init__(self, channels, groups):
        super().__init__()
        self.block_1 = ResBlock(channels, channels, groups, groups)
        self.block_2 = ResBlock(channels, channels, groups, groups)

    def forward(self, x):
        return self.block_2(self.block_1(x))


class Encoder(nn.Module):
    def __init__(self, o):
        super().__init__()
        base = o["base_channels"]
        self.conv_in = nn.Conv2d(o["in_channels"], base, 3, padding=1)
        self.down = nn.ModuleList()
        ch = base
        for mult in o["channel_multipliers"]:
            level = nn.Module()
            level.blocks = nn.ModuleList()
            out = base * mult
            for _ in range(o["blocks_per_level"]):
                level.blocks.append(ResBlock(ch, out, groups_for(o["norm_groups"], ch), groups_for(o["norm_groups"], out)))
                ch = out
            level.downsample = Downsample(ch)
            self.down.append(level)
        self.mid = Mid(ch, groups_for(o["norm_groups"], ch))
        self.norm_out = nn.GroupNorm(groups_for(o["norm_groups"], ch), ch, eps=NORM_EPS)
        self.conv_out = nn.Conv2d(ch, 2 * o["latent_channels"], 3, padding=1)

    def forward(self, x):
        h = self.conv_in(x)
        for level in self.down:
            for block in level.blocks:
                h = block(h)
            h = level.downsample(h)
        h = self.mid(h)
        return self.conv_out(F.silu(self.norm_out(h)))


class Decoder(nn.Module):
    def __init__(self, o):
        super().__init__()
        base, mults = o["base_channels"], o["channel_multipliers"]
        ch = base * mults[-1]
        self.conv_in = nn.Conv2d(o["latent_channels"], ch, 3, padding=1)
        self.mid = Mid(ch, groups_for(o["norm_groups"], ch))
        levels = [None] * len(mults)
        for i in reversed(range(len(mults))):
            level = nn.Module()
            level.upsample = Upsample(ch)
            level.blocks = nn.ModuleList()
            out = base * mults[i]
            for _ in range(o["blocks_per_level"]):
                level.blocks.append(ResBlock(ch, out, groups_for(o["norm_groups"], ch), groups_for(o["norm_groups"], out)))
                ch = out
            levels[i] = level
        self.up = nn.ModuleList(levels)  # up[0] works at full resolution and runs last
        self.norm_out = nn.GroupNorm(groups_for(o["norm_groups"], ch), ch, eps=NORM_EPS)
        self.conv_out = nn.Conv2d(ch, o["in_channels"], 3, padding=1)

    def forward(self, z):
        h = self.mid(self.conv_in(z))
        for level in reversed(self.up):
            h = level.upsample(h)
            for block in level.blocks:
                h = block(h)
        return self.conv_out(F.silu(self.norm_out(h)))


class Vae(nn.Module):
    def __init__(self, o):
        super().__init__()
        self.latent_channels = o["latent_channels"]
        self.encoder = Encoder(o)
        self.decoder = Decoder(o)

    @staticmethod
    def frames(x):
        """Folds a video [B, T, C, H, W] into frames [B*T, C, H, W]."""
        return x.reshape(-1, *x.shape[-3:]) if x.dim() == 5 else x

    @staticmethod
    def unfold(y, like):
        return y.reshape(*like.shape[:2], *y.shape[1:]) if like.dim() == 5 else y

    def encode(self, x):
        moments = self.encoder(self.frames(x))
        mean, logvar = moments[:, : self.latent_channels], moments[:, self.latent_channels :]
        return self.unfold(mean, x), self.unfold(logvar.clamp(LOGVAR_MIN, LOGVAR_MAX), x)

    def decode(self, z):
        return self.unfold(self.decoder(self.frames(z)), z)


def vae_loss(x, reconstruction, mean, logvar, reconstruction_loss, kl_weight, temporal_weight):
    """The terms of vgt::models::vae_loss."""
    rho = (lambda d: d.abs()) if reconstruction_loss == "l1" else (lambda d: d * d)
    error = reconstruction - x
    rec = rho(error).mean()
    kl = (0.5 * (mean * mean + logvar.exp() - 1 - logvar)).mean()
    q = torch.distributions.Normal(mean, (0.5 * logvar).exp())
    p = torch.distributions.Normal(torch.zeros_like(mean), torch.ones_like(mean))
    assert torch.allclose(kl, torch.distributions.kl_divergence(q, p).mean(), rtol=1e-12, atol=0)
    temporal = rho(error[:, 1:] - error[:, :-1]).mean()
    total = rec + kl_weight * kl + temporal_weight * temporal
    return {"total": total, "reconstruction": rec, "kl": kl, "temporal": temporal}


def randomize(module, gen, scale=0.5):
    with torch.no_grad():
        for p in module.parameters():
            p.copy_((torch.rand(p.shape, generator=gen, dtype=torch.float64) * 2 - 1) * scale)


def numpy(t):
    return t.detach().numpy().copy()


def write_case(name, options, input_shape, seed, logvar_bias=None, loss_weights=None):
    gen = torch.Generator().manual_seed(seed)
    vae = Vae(options).double()
    randomize(vae, gen)
    if logvar_bias:  # push logvar channels past the clamp's bounds
        with torch.no_grad():
            for channel, value in logvar_bias.items():
                vae.encoder.conv_out.bias[options["latent_channels"] + channel] = value
    x = torch.rand(input_shape, generator=gen, dtype=torch.float64)
    tensors = {"vae." + n: numpy(p) for n, p in vae.named_parameters()}
    tensors["input"] = numpy(x)
    with torch.no_grad():
        mean, logvar = vae.encode(x)
        latent = torch.randn(mean.shape, generator=gen, dtype=torch.float64)
        tensors.update(mean=numpy(mean), logvar=numpy(logvar), latent=numpy(latent), decoded=numpy(vae.decode(latent)))

        vae32 = Vae(options).float()
        vae32.load_state_dict({k: v.float() for k, v in vae.state_dict().items()})
        mean32, logvar32 = vae32.encode(x.float())
        tensors.update(mean_f32=numpy(mean32), logvar_f32=numpy(logvar32),
                       decoded_f32=numpy(vae32.decode(latent.float())))

        metadata = {k: (",".join(map(str, v)) if isinstance(v, list) else str(v)) for k, v in options.items()}
        if loss_weights:
            noise = torch.randn(mean.shape, generator=gen, dtype=torch.float64)
            reconstruction = vae.decode(mean + (0.5 * logvar).exp() * noise)
            tensors.update(noise=numpy(noise), reconstruction=numpy(reconstruction))
            for loss in ("l1", "l2"):
                terms = vae_loss(x, reconstruction, mean, logvar, loss, **loss_weights)
                for term, value in terms.items():
                    tensors[f"loss.{loss}.{term}"] = numpy(value)
            metadata.update({k: repr(v) for k, v in loss_weights.items()})
    os.makedirs(OUT, exist_ok=True)
    safetensors_io.save(os.path.join(OUT, name + ".safetensors"), tensors, metadata)


def main():
    # ×4, a channel change at every level (skip convs), fixed groups, a
    # non-square video; two logvar channels pushed past the clamp's bounds.
    write_case("video_x4",
               {"in_channels": 3, "latent_channels": 3, "base_channels": 4, "channel_multipliers": [1, 2],
                "blocks_per_level": 1, "norm_groups": 2, "latent_scale": 1.0},
               (2, 3, 3, 8, 12), seed=11, logvar_bias={0: -45.0, 1: 24.0},
               loss_weights={"kl_weight": 0.25, "temporal_weight": 0.5})
    # ×8, two blocks per level, groups picked per layer (0), frames [N, C, H, W].
    write_case("frames_x8",
               {"in_channels": 2, "latent_channels": 2, "base_channels": 6, "channel_multipliers": [1, 1, 2],
                "blocks_per_level": 2, "norm_groups": 0, "latent_scale": 1.0},
               (3, 2, 16, 8), seed=12)


if __name__ == "__main__":
    main()
