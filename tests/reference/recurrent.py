"""PyTorch references of vgt's recurrent and temporal-convolution mixers:
ConvLSTM and TCN (include/vgt/temporal/{conv_lstm,tcn}.hpp).

Each module maps a video [B, T, C, H, W] to y = x + g(x) of the same shape,
with the parameter names and layouts of its vgt twin. They are written from
the formulas in the headers' comments, by a different route than the C++:
the ConvLSTM convolves each gate with its own slice of the weights and runs
the hidden convolution at t = 0 too (on H_{-1} = 0), and the TCN spells its
causal dilated convolution out as a sum over taps that reach back in time.
"""

import torch
import torch.nn.functional as F
from torch import nn


def group_norm_frames(norm, x):
    """GroupNorm on every frame of x [B, T, C, H, W] (statistics per frame)."""
    b, t = x.shape[:2]
    return norm(x.flatten(0, 1)).unflatten(0, (b, t))


def conv1x1_frames(conv, x):
    b, t = x.shape[:2]
    return conv(x.flatten(0, 1)).unflatten(0, (b, t))


class ConvLSTM(nn.Module):
    """Shi et al. 2015 with per-channel peepholes, over t = 0 .. T-1 on h = GroupNorm(x):
        i = sig(Wxi*h_t + Whi*H_{t-1} + wi.C_{t-1} + bi)
        f = sig(Wxf*h_t + Whf*H_{t-1} + wf.C_{t-1} + bf)
        C_t = f.C_{t-1} + i.tanh(Wxc*h_t + Whc*H_{t-1} + bc)
        o = sig(Wxo*h_t + Who*H_{t-1} + wo.C_t + bo)
        H_t = o.tanh(C_t),  H_{-1} = C_{-1} = 0,  y_t = x_t + Conv1x1(H_t)
    with 3x3 convolutions (pad 1); gate blocks i, f, c, o of C rows each in
    input_conv / hidden_conv."""

    def __init__(self, channels, groups):
        super().__init__()
        c = channels
        self.channels = c
        self.norm = nn.GroupNorm(groups, c)
        self.input_conv = nn.Conv2d(c, 4 * c, 3, padding=1)
        self.hidden_conv = nn.Conv2d(c, 4 * c, 3, padding=1, bias=False)
        self.peephole_input = nn.Parameter(torch.zeros(c))
        self.peephole_forget = nn.Parameter(torch.zeros(c))
        self.peephole_output = nn.Parameter(torch.zeros(c))
        self.out = nn.Conv2d(c, c, 1)

    def gate(self, index, h_t, hidden):
        """W_x[gate] * h_t + W_h[gate] * H + b[gate], each gate from its own weight rows."""
        rows = slice(index * self.channels, (index + 1) * self.channels)
        return (F.conv2d(h_t, self.input_conv.weight[rows], self.input_conv.bias[rows], padding=1)
                + F.conv2d(hidden, self.hidden_conv.weight[rows], None, padding=1))

    def forward(self, x):
        b, t, c, hh, ww = x.shape
        h = group_norm_frames(self.norm, x)
        peep = lambda p: p.view(1, c, 1, 1)  # noqa: E731
        hidden = x.new_zeros(b, c, hh, ww)
        cell = x.new_zeros(b, c, hh, ww)
        outputs = []
        for step in range(t):
            h_t = h[:, step]
            i = torch.sigmoid(self.gate(0, h_t, hidden) + peep(self.peephole_input) * cell)
            f = torch.sigmoid(self.gate(1, h_t, hidden) + peep(self.peephole_forget) * cell)
            candidate = torch.tanh(self.gate(2, h_t, hidden))
            cell = f * cell + i * candidate
            o = torch.sigmoid(self.gate(3, h_t, hidden) + peep(self.peephole_output) * cell)
            hidden = o * torch.tanh(cell)
            outputs.append(hidden)
        return x + conv1x1_frames(self.out, torch.stack(outputs, dim=1))


class CausalDilatedConv(nn.Module):
    """y_t = bias + sum_j weight[:, :, j] @ z_{t - (k-1-j)*dilation}, zero before frame 0.
    On z [B, T, C, H, W]."""

    def __init__(self, channels, kernel, dilation):
        super().__init__()
        self.kernel, self.dilation = kernel, dilation
        self.weight = nn.Parameter(torch.zeros(channels, channels, kernel))
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, z):
        t = z.shape[1]
        y = self.bias.view(1, 1, -1, 1, 1).expand_as(z).clone()
        for j in range(self.kernel):
            back = (self.kernel - 1 - j) * self.dilation  # how many frames this tap looks back
            if back >= t:
                continue
            shifted = torch.cat([z.new_zeros(z.shape[0], back, *z.shape[2:]), z[:, :t - back]], dim=1)
            y = y + torch.einsum("oi,btihw->btohw", self.weight[:, :, j], shifted)
        return y


class TCN(nn.Module):
    """Bai et al. 2018 on h = GroupNorm(x): z_0 = h,
        z_{l+1} = z_l + SiLU(causal_conv_l(z_l)),  dilation 2^l, l = 0 .. L-1,
    y = x + Conv1x1(z_L) per frame."""

    def __init__(self, channels, groups, levels, kernel):
        super().__init__()
        self.norm = nn.GroupNorm(groups, channels)
        self.levels = nn.ModuleList(CausalDilatedConv(channels, kernel, 2 ** l) for l in range(levels))
        self.out = nn.Conv2d(channels, channels, 1)
        self.kernel = kernel

    def receptive_field(self):
        return 1 + (self.kernel - 1) * (2 ** len(self.levels) - 1)

    def forward(self, x):
        z = group_norm_frames(self.norm, x)
        for level in self.levels:
            z = z + F.silu(level(z))
        return x + conv1x1_frames(self.out, z)
