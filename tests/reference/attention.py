"""PyTorch references of vgt's attention mixers: TemporalAttention,
DirectedAttention and SpatioTemporalAttention (include/vgt/temporal/).

Each module maps a video [B, T, C, H, W] to y = x + proj(attention(h)) with
h = GroupNorm(x) per frame, with the parameter names and layouts of its vgt
twin (norm.*, position.*, qkv.*, proj.*). Written from the formulas: the
attention products are einsums over explicit (query, key) index pairs, the
causal mask is a boolean table of frame(key) <= frame(query), and q, k, v are
chunks of the qkv projection, each split into heads of d = C / heads.
The position policies come from positions.py.
"""

import math

import torch
from torch import nn

import positions


def default_norm_groups(channels):
    """The largest divisor of channels that is at most 32."""
    return max(g for g in range(1, min(32, channels) + 1) if channels % g == 0)


class AttentionMixer(nn.Module):
    """joint=False: one sequence over T per pixel; joint=True: one sequence of
    all T*H*W tokens per video, time-major. causal: token i sees token j only
    when frame(j) <= frame(i), as -inf logits or (post_softmax) as a 0/1 factor
    on the softmax output."""

    def __init__(self, channels, heads, position="NoPosition", norm_groups=0, max_frames=16, joint=False,
                 causal=False, post_softmax=False):
        super().__init__()
        if channels % heads:
            raise ValueError(f"{heads} heads do not divide {channels} channels")
        self.heads, self.joint, self.causal, self.post_softmax = heads, joint, causal, post_softmax
        self.norm = nn.GroupNorm(norm_groups or default_norm_groups(channels), channels)
        self.position = positions.POSITIONS[position](channels, heads, max_frames)
        self.qkv = nn.Linear(channels, 3 * channels)
        self.proj = nn.Linear(channels, channels)

    def forward(self, x):
        b, t, c, hh, ww = x.shape
        heads, d = self.heads, c // self.heads
        h = self.norm(x.flatten(0, 1)).unflatten(0, (b, t))
        if self.joint:
            seq = h.permute(0, 1, 3, 4, 2).reshape(b, t * hh * ww, c)
            per_frame = hh * ww
        else:
            seq = h.permute(0, 3, 4, 1, 2).reshape(b * hh * ww, t, c)
            per_frame = 1
        n, length = seq.shape[:2]
        ctx = positions.Context(t, per_frame, self.causal)
        seq = self.position.embed(seq, ctx)

        q, k, v = (part.reshape(n, length, heads, d).transpose(1, 2) for part in self.qkv(seq).chunk(3, dim=-1))
        q, k = self.position.rotate(q, k, ctx)
        logits = torch.einsum("nhid,nhjd->nhij", q, k) / math.sqrt(d)
        bias = self.position.attention_bias(ctx)
        if bias is not None:
            logits = logits + bias.to(logits)
        frame = torch.arange(length, device=logits.device) // per_frame
        visible = frame[None, :] <= frame[:, None]  # [query, key]
        if self.causal and not self.post_softmax:
            logits = logits.masked_fill(~visible, float("-inf"))
        weights = torch.softmax(logits, dim=-1)
        if self.causal and self.post_softmax:
            weights = weights * visible.to(weights.dtype)
        out = torch.einsum("nhij,nhjd->nhid", weights, v).transpose(1, 2).reshape(n, length, c)
        out = self.proj(out)

        if self.joint:
            g = out.reshape(b, t, hh, ww, c).permute(0, 1, 4, 2, 3)
        else:
            g = out.reshape(b, hh, ww, t, c).permute(0, 3, 4, 1, 2)
        return x + g


class TemporalAttention(AttentionMixer):
    def __init__(self, channels, heads, position="NoPosition", norm_groups=0, max_frames=16):
        super().__init__(channels, heads, position, norm_groups, max_frames)


class DirectedAttention(AttentionMixer):
    def __init__(self, channels, heads, position="NoPosition", norm_groups=0, max_frames=16,
                 mask_mode="pre_softmax"):
        super().__init__(channels, heads, position, norm_groups, max_frames, causal=True,
                         post_softmax=mask_mode == "post_softmax")


class SpatioTemporalAttention(AttentionMixer):
    def __init__(self, channels, heads, position="NoPosition", norm_groups=0, max_frames=16, causal=False):
        super().__init__(channels, heads, position, norm_groups, max_frames, joint=True, causal=causal)
