"""PyTorch references of vgt's position policies (vgt::position).

Written from the formulas, for the tests of the policies and of the attention
mixers that use them. Every policy is a module built as Policy(channels,
heads, max_frames) with the same parameter names as vgt, and three hooks, each
of which may leave its input alone:

    embed(h, ctx)         h [N, L, C]          -> h with positions added
    rotate(q, k, ctx)     q, k [N, heads, L, d] -> rotated (q, k)
    attention_bias(ctx)   -> [heads, L, L] added to the logits, or None

Attention sees L = frames * tokens_per_frame tokens, time-major: token l is
frame l // tokens_per_frame, and positions are frame indices.
"""
import math
from collections import namedtuple

import torch
from torch import nn

Context = namedtuple("Context", ["frames", "tokens_per_frame", "causal"], defaults=[1, False])


def token_frames(ctx):
    """Frame index of every token, [L] int64."""
    return torch.arange(ctx.frames).repeat_interleave(ctx.tokens_per_frame)


class NoPosition(nn.Module):
    def __init__(self, channels, heads, max_frames=16):
        super().__init__()

    def embed(self, h, ctx):
        return h

    def rotate(self, q, k, ctx):
        return q, k

    def attention_bias(self, ctx):
        return None


class Sinusoidal(NoPosition):
    """h + pe[frame]; pe[t, 2i] = sin(t w_i), pe[t, 2i+1] = cos(t w_i), w_i = 10000^(-2i/C)."""

    def __init__(self, channels, heads, max_frames=16):
        super().__init__(channels, heads, max_frames)
        if channels % 2:
            raise ValueError("Sinusoidal needs an even number of channels")
        self.channels = channels

    def embed(self, h, ctx):
        t = token_frames(ctx).to(h.dtype)[:, None]
        w = torch.exp(-math.log(10000.0) * torch.arange(0, self.channels, 2, dtype=h.dtype) / self.channels)
        pe = torch.empty(t.shape[0], self.channels, dtype=h.dtype)
        pe[:, 0::2] = torch.sin(t * w)
        pe[:, 1::2] = torch.cos(t * w)
        return h + pe


class Learned(NoPosition):
    """h + table[frame]; table [max_frames, C]."""

    def __init__(self, channels, heads, max_frames=16):
        super().__init__(channels, heads, max_frames)
        self.table = nn.Parameter(torch.randn(max_frames, channels) * 0.02)

    def embed(self, h, ctx):
        if ctx.frames > self.table.shape[0]:
            raise ValueError(f"Learned: {ctx.frames} frames exceed Tmax = {self.table.shape[0]}")
        return h + self.table[token_frames(ctx)]


def t5_bucket(relative, bidirectional, buckets=32, max_distance=32):
    """T5's bucket of one relative position (key - query), a Python int."""
    offset = 0
    if bidirectional:
        buckets //= 2
        if relative > 0:
            offset = buckets
        n = abs(relative)
    else:
        n = max(0, -relative)
    exact = buckets // 2
    if n < exact:
        return offset + n
    wide = exact + int(math.log(n / exact) / math.log(max_distance / exact) * (buckets - exact))
    return offset + min(wide, buckets - 1)


class RelativeBias(NoPosition):
    """bias[h, i, j] = relative_attention_bias[bucket(frame j - frame i), h]."""

    def __init__(self, channels, heads, max_frames=16):
        super().__init__(channels, heads, max_frames)
        self.relative_attention_bias = nn.Parameter(torch.zeros(32, heads))

    def attention_bias(self, ctx):
        frames = token_frames(ctx)
        relative = frames[None, :] - frames[:, None]
        # One bucket per distinct relative position, looked up for every pair.
        lookup = torch.tensor([t5_bucket(r, not ctx.causal) for r in range(-ctx.frames + 1, ctx.frames)])
        buckets = lookup[relative + ctx.frames - 1]
        return self.relative_attention_bias[buckets].permute(2, 0, 1)


def alibi_slopes(heads):
    """The geometric sequence start, start^2, ..., start = 2^(-8/heads)."""
    start = 2.0 ** (-8.0 / heads)
    return torch.tensor([start ** (h + 1) for h in range(heads)], dtype=torch.float64)


class ALiBi(NoPosition):
    """bias[h, i, j] = -m_h |i - j|, or -m_h (i - j) when causal (frames)."""

    def __init__(self, channels, heads, max_frames=16):
        super().__init__(channels, heads, max_frames)
        self.heads = heads

    def attention_bias(self, ctx):
        frames = token_frames(ctx).to(torch.float64)
        distance = frames[:, None] - frames[None, :]
        if not ctx.causal:
            distance = distance.abs()
        return -alibi_slopes(self.heads)[:, None, None] * distance


def rotary(x, ctx, scale=None):
    """Pairs (2i, 2i+1) of x [N, heads, L, d] as complex numbers a + ib, turned
    by frame * 10000^(-2i/d) and multiplied by scale [L, d/2] when given."""
    n, heads, length, d = x.shape
    theta = 10000.0 ** (-torch.arange(0, d, 2, dtype=torch.float64) / d)
    angle = token_frames(ctx).to(torch.float64)[:, None] * theta
    turn = torch.polar(torch.ones_like(angle) if scale is None else scale, angle)
    z = torch.view_as_complex(x.reshape(n, heads, length, d // 2, 2).contiguous())
    return torch.view_as_real(z * turn).reshape(n, heads, length, d)


class RoPE(NoPosition):
    def rotate(self, q, k, ctx):
        return rotary(q, ctx), rotary(k, ctx)


class XPos(NoPosition):
    """RoPE with q scaled by zeta_i^(frame/512) and k by its inverse."""

    def rotate(self, q, k, ctx):
        d = q.shape[-1]
        zeta = (torch.arange(0, d, 2, dtype=torch.float64) + 0.4 * d) / (1.4 * d)
        power = token_frames(ctx).to(torch.float64)[:, None] / 512.0
        scale = zeta ** power
        return rotary(q, ctx, scale), rotary(k, ctx, 1.0 / scale)


POSITIONS = {cls.__name__: cls for cls in (NoPosition, Sinusoidal, Learned, RelativeBias, RoPE, ALiBi, XPos)}
