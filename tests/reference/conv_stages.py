"""PyTorch references of vgt's conv stages (include/vgt/temporal/).

Each module maps a video [B, T, Cin, H, W] to [B, T, Cout, H, W] and has the
parameter names and layouts of its vgt twin. They are written from the
stages' definitions in docs/blocks.md; the temporal convolutions are spelled
out as sums over taps rather than calls to the same library routine, so that
an indexing slip on either side shows up as a mismatch.
"""

import torch
import torch.nn.functional as F
from torch import nn


def per_frame(conv, x):
    """conv (a Conv2d) on every frame of x [B, T, C, H, W]."""
    b, t = x.shape[:2]
    y = conv(x.flatten(0, 1))
    return y.unflatten(0, (b, t))


class FrameConv(nn.Module):
    """Conv2d 3x3, pad 1, on each frame."""

    def __init__(self, cin, cout):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, padding=1)

    def forward(self, x):
        return per_frame(self.conv, x)


class Conv3D(nn.Module):
    """Conv3d (kt, 3, 3) over (T, H, W) with zero frames outside the video:
    kt//2 on both sides, or kt-1 before the first frame only when causal."""

    def __init__(self, cin, cout, kt, causal=False):
        super().__init__()
        self.kt, self.causal = kt, causal
        self.conv = nn.Conv3d(cin, cout, (kt, 3, 3))

    def forward(self, x):
        v = x.transpose(1, 2)  # [B, C, T, H, W]
        before, after = (self.kt - 1, 0) if self.causal else (self.kt // 2, self.kt // 2)
        v = F.pad(v, (1, 1, 1, 1, before, after))
        return self.conv(v).transpose(1, 2)


class TemporalConv(nn.Module):
    """y_t = bias + sum_j weight[:, :, j] @ h_{t + j - kt//2}, zero frames outside."""

    def __init__(self, channels, kt):
        super().__init__()
        self.kt = kt
        self.weight = nn.Parameter(torch.zeros(channels, channels, kt))
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, h):
        b, t, c, hh, ww = h.shape
        half = self.kt // 2
        padded = torch.cat([h.new_zeros(b, half, c, hh, ww), h, h.new_zeros(b, half, c, hh, ww)], dim=1)
        y = self.bias.view(1, 1, c, 1, 1).expand(b, t, c, hh, ww).clone()
        for j in range(self.kt):
            y = y + torch.einsum("oi,btihw->btohw", self.weight[:, :, j], padded[:, j:j + t])
        return y


class Conv2Plus1D(nn.Module):
    """Conv2d 3x3 per frame, then a conv of kernel kt over T per pixel."""

    def __init__(self, cin, cout, kt):
        super().__init__()
        self.spatial = nn.Conv2d(cin, cout, 3, padding=1)
        self.temporal = TemporalConv(cout, kt)

    def forward(self, x):
        return self.temporal(per_frame(self.spatial, x))


class Adapter(nn.Module):
    def __init__(self, tmax, channels):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(tmax, channels))
        self.shift = nn.Parameter(torch.zeros(tmax, channels))


class AdapterConv2D(nn.Module):
    """MagicVideo: z_t = S_t * conv(x_t) + B_t, S and B of shape [Tmax, Cout]."""

    def __init__(self, cin, cout, tmax):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, padding=1)
        self.adapter = Adapter(tmax, cout)

    def forward(self, x):
        t = x.shape[1]
        if t > self.adapter.scale.shape[0]:
            raise ValueError(f"AdapterConv2D: expected at most Tmax={self.adapter.scale.shape[0]} frames, found T={t}")
        z = per_frame(self.conv, x)
        return z * self.adapter.scale[:t, :, None, None] + self.adapter.shift[:t, :, None, None]
