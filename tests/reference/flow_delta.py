"""PyTorch references of vgt's FlowWarp and FrameDelta mixers
(include/vgt/temporal/flow_warp.hpp, frame_delta.hpp).

Each module maps a video [B, T, C, H, W] to x + g(x) and has the parameter
names and layouts of its vgt twin. They are written from the formulas: the
flow head runs frame pair by frame pair, the warp is spelled out as
F.grid_sample on pixel coordinates, and the temporal conv of FrameDelta is a
sum over its taps, so that a batching or indexing slip on either side shows
up as a mismatch.
"""

import torch
import torch.nn.functional as F
from torch import nn


def group_norm_per_frame(norm, x):
    b, t = x.shape[:2]
    return norm(x.flatten(0, 1)).unflatten(0, (b, t))


def warp(image, flow):
    """out(p) = image(p + flow(p)) for image [N, C, H, W], flow [N, 2, H, W]
    in pixels (channel 0 along x, 1 along y); bilinear, zeros outside.

    Pixel i along an axis of extent n is the normalised coordinate
    2 i / (n - 1) - 1 (align_corners=True: -1 and 1 are the corner pixels'
    centres). An axis of extent 1 has a single pixel whatever the flow.
    """
    n, _, h, w = image.shape
    ys, xs = torch.meshgrid(torch.arange(h, dtype=image.dtype, device=image.device),
                            torch.arange(w, dtype=image.dtype, device=image.device), indexing="ij")
    px = xs.unsqueeze(0) + flow[:, 0]
    py = ys.unsqueeze(0) + flow[:, 1]
    gx = px * (2.0 / (w - 1)) - 1.0 if w > 1 else torch.zeros_like(px)
    gy = py * (2.0 / (h - 1)) - 1.0 if h > 1 else torch.zeros_like(py)
    grid = torch.stack([gx, gy], dim=-1)
    return F.grid_sample(image, grid, mode="bilinear", padding_mode="zeros", align_corners=True)


def resize_flow(flow, h, w):
    """An external flow [B, T, 2, Hf, Wf] in pixels of its own grid to
    [B, T, 2, h, w] in pixels of h x w: bilinear resize with pixel areas
    aligned (align_corners=False) and the x/y components scaled by w/Wf, h/Hf."""
    b, t, _, hf, wf = flow.shape
    if (hf, wf) == (h, w):
        return flow
    resized = F.interpolate(flow.flatten(0, 1), size=(h, w), mode="bilinear", align_corners=False)
    scale = torch.tensor([w / wf, h / hf], dtype=flow.dtype, device=flow.device).view(1, 2, 1, 1)
    return (resized * scale).unflatten(0, (b, t))


class FlowWarp(nn.Module):
    """y_t = x_t + fuse([h_t, warp(h_{t-1}, flow_t)]), warped frame 0 = 0;
    flow_t = flow_head.1(silu(flow_head.0([h_{t-1}, h_t]))) or an external flow;
    conditioned (embedding_dim > 0), flow_t also gets flow_embedding(e), e of
    shape [B, D] (per clip) or [B, T, D] (row t for frame t)."""

    def __init__(self, channels, groups, embedding_dim=0):
        super().__init__()
        self.norm = nn.GroupNorm(groups, channels)
        self.flow_head = nn.ModuleList([nn.Conv2d(2 * channels, channels, 3, padding=1),
                                        nn.Conv2d(channels, 2, 3, padding=1)])
        self.fuse = nn.Conv2d(2 * channels, channels, 1)
        if embedding_dim > 0:
            self.flow_embedding = nn.Linear(embedding_dim, 2)

    def head(self, prev, cur):
        return self.flow_head[1](F.silu(self.flow_head[0](torch.cat([prev, cur], dim=1))))

    def forward(self, x, flow=None, embedding=None):
        b, t, c, h, w = x.shape
        hn = group_norm_per_frame(self.norm, x)
        if flow is not None:
            flow = resize_flow(flow, h, w)
        outputs = []
        for i in range(t):
            if i == 0:
                aligned = torch.zeros_like(hn[:, 0])
            else:
                f = flow[:, i] if flow is not None else self.head(hn[:, i - 1], hn[:, i])
                if embedding is not None:
                    e = embedding if embedding.dim() == 2 else embedding[:, i]
                    f = f + self.flow_embedding(e).view(b, 2, 1, 1)
                aligned = warp(hn[:, i - 1], f)
            outputs.append(x[:, i] + self.fuse(torch.cat([hn[:, i], aligned], dim=1)))
        return torch.stack(outputs, dim=1)

    def flows(self, x):
        """The flow head's output for frames 1.., [B, T-1, 2, H, W]."""
        hn = group_norm_per_frame(self.norm, x)
        return torch.stack([self.head(hn[:, i - 1], hn[:, i]) for i in range(1, x.shape[1])], dim=1)


class FrameDelta(nn.Module):
    """d_t = h_t - h_{t-1} (d_0 = 0); e_t = bias + sum_j W_j [h, d]_{t+j-1}
    (zero frames outside); y = x + out(silu(e))."""

    def __init__(self, channels, groups):
        super().__init__()
        self.norm = nn.GroupNorm(groups, channels)
        self.temporal = nn.Conv1d(2 * channels, channels, 3)
        self.out = nn.Conv2d(channels, channels, 1)

    def forward(self, x):
        b, t, c, h, w = x.shape
        hn = group_norm_per_frame(self.norm, x)
        d = torch.zeros_like(hn)
        d[:, 1:] = hn[:, 1:] - hn[:, :-1]
        hd = torch.cat([hn, d], dim=2)  # [B, T, 2C, H, W]
        zero = torch.zeros_like(hd[:, :1])
        padded = torch.cat([zero, hd, zero], dim=1)
        e = self.temporal.bias.view(1, 1, c, 1, 1).expand(b, t, c, h, w).clone()
        for j in range(3):
            e = e + torch.einsum("oi,btihw->btohw", self.temporal.weight[:, :, j], padded[:, j:j + t])
        g = self.out(F.silu(e).flatten(0, 1)).unflatten(0, (b, t))
        return x + g
