#!/usr/bin/python3
"""Writes PyTorch references for the conditioning encoders (include/vgt/models/)
into tests/golden/conditioning/, for tests/models/conditioning_test.cpp.

Run with Debian's python3 (python3-torch, numpy):
    /usr/bin/python3 tests/golden/make_conditioning.py

The modules below are written from the formulas in the headers' comments, with
vgt's parameter names, so that a state dict moves between the two unchanged.
Weights are random U(-0.5, 0.5) from fixed seeds (not the initial ones), so a
case exercises every parameter. Everything runs in float64.

Files (safetensors; options as JSON in the metadata key "options"):
  timestep_sin.safetensors, timestep_cos_flow.safetensors
      times, features (the sinusoid), output, block.* (TimestepEmbedding)
  timestep_motion.safetensors
      times, motion, output, block.* (TimestepMotionEmbedding)
  text_encoder.safetensors
      ids, mask (int64; the tokenizer built from the metadata's "captions" and
      applied to its "prompts"), output, block.*; metadata "tokens" holds the
      vocabulary in id order as JSON, "all_tokens" the vocabulary of the same
      captions with room for every word
  content_encoder.safetensors
      frame, output, block.*
  structure_map.safetensors
      video, depth, and one output per case of STRUCTURE_CASES, named
      <source>_l<level>_s<sigma_per_level>_<height>x<width>
"""

import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "reference"))
import safetensors_io  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "conditioning")
torch.set_default_dtype(torch.float64)


def randomize(module, seed, scale=0.5):
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_((torch.rand(p.shape, generator=gen, dtype=torch.float64) * 2 - 1) * scale)


def uniform(shape, seed, low=-1.0, high=1.0):
    gen = torch.Generator().manual_seed(seed)
    return torch.rand(shape, generator=gen, dtype=torch.float64) * (high - low) + low


def save(name, tensors, module=None, metadata=None):
    arrays = {k: (v.detach().numpy() if torch.is_tensor(v) else np.asarray(v)) for k, v in tensors.items()}
    if module is not None:
        for pname, p in module.named_parameters():
            arrays["block." + pname] = p.detach().numpy()
    os.makedirs(OUT, exist_ok=True)
    safetensors_io.save(os.path.join(OUT, name + ".safetensors"), arrays, metadata or {})


# ----- timestep embedding ---------------------------------------------------------------

def sinusoid(values, channels, max_period, time_scale, cos_first):
    half = channels // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float64) / half)
    args = (values.double() * time_scale)[:, None] * freqs[None]
    parts = [torch.cos(args), torch.sin(args)] if cos_first else [torch.sin(args), torch.cos(args)]
    return torch.cat(parts, dim=1)


class TimestepEmbedding(nn.Module):
    def __init__(self, o):
        super().__init__()
        self.o = o
        self.linear_1 = nn.Linear(o["frequency_channels"], o["width"])
        self.linear_2 = nn.Linear(o["width"], o["width"])

    def features(self, values):
        o = self.o
        return sinusoid(values, o["frequency_channels"], o["max_period"], o["time_scale"], o["cos_first"])

    def forward(self, values):
        return self.linear_2(F.silu(self.linear_1(self.features(values))))


class TimestepMotionEmbedding(nn.Module):
    def __init__(self, o):
        super().__init__()
        self.timestep = TimestepEmbedding(o["timestep"])
        self.motion = TimestepEmbedding(o["motion"])

    def forward(self, times, motion):
        return self.timestep(times) + self.motion(motion)


def timestep_cases():
    for name, options, times, seed in [
        ("timestep_sin", {"frequency_channels": 8, "width": 6, "max_period": 10000.0, "time_scale": 1.0,
                          "cos_first": False}, [0.0, 1.0, 17.5, 999.0], 11),
        ("timestep_cos_flow", {"frequency_channels": 6, "width": 5, "max_period": 10000.0, "time_scale": 1000.0,
                               "cos_first": True}, [0.0, 0.25, 0.5, 0.999, 1.0], 12),
    ]:
        module = TimestepEmbedding(options)
        randomize(module, seed)
        t = torch.tensor(times)
        with torch.no_grad():
            save(name, {"times": t, "features": module.features(t), "output": module(t)}, module,
                 {"options": json.dumps(options)})

    options = {
        "timestep": {"frequency_channels": 8, "width": 6, "max_period": 10000.0, "time_scale": 1.0, "cos_first": True},
        "motion": {"frequency_channels": 4, "width": 6, "max_period": 100.0, "time_scale": 1.0, "cos_first": False},
    }
    module = TimestepMotionEmbedding(options)
    randomize(module, 13)
    times, motion = torch.tensor([3.0, 250.0, 981.0]), torch.tensor([8.0, 24.0, 2.5])
    with torch.no_grad():
        save("timestep_motion", {"times": times, "motion": motion, "output": module(times, motion)}, module,
             {"options": json.dumps(options)})


# ----- tokenizer and text encoder -------------------------------------------------------

SPECIALS = ["<pad>", "<unk>", "<bos>", "<eos>"]


def is_separator(ch):
    c = ord(ch)
    if c < 0x80:
        return not (ch.isascii() and ch.isalnum())
    ranges = [(0x80, 0xBF), (0xD7, 0xD7), (0xF7, 0xF7), (0x2000, 0x2BFF), (0x3000, 0x303F), (0xFE10, 0xFE1F),
              (0xFE30, 0xFE6F), (0xFF00, 0xFF0F), (0xFF1A, 0xFF20), (0xFF3B, 0xFF40), (0xFF5B, 0xFF65)]
    return any(lo <= c <= hi for lo, hi in ranges)


def split_words(text):
    words, current = [], ""
    for ch in text:
        if is_separator(ch):
            if current:
                words.append(current)
            current = ""
        else:
            current += ch.lower() if "A" <= ch <= "Z" else ch
    if current:
        words.append(current)
    return words


def build_vocabulary(captions, vocab_limit):
    counts = {}
    for caption in captions:
        for word in split_words(caption):
            counts[word] = counts.get(word, 0) + 1
    ranked = sorted(counts, key=lambda w: (-counts[w], w.encode("utf-8")))
    return SPECIALS + ranked[: vocab_limit - len(SPECIALS)]


def encode(tokens, prompts, max_length):
    index = {t: i for i, t in enumerate(tokens)}
    ids = np.zeros((len(prompts), max_length), dtype=np.int64)
    mask = np.zeros_like(ids)
    for b, prompt in enumerate(prompts):
        row = [2] + [index.get(w, 1) for w in split_words(prompt)][: max_length - 2] + [3]
        ids[b, : len(row)] = row
        mask[b, : len(row)] = 1
    return torch.from_numpy(ids), torch.from_numpy(mask)


class MaskedSelfAttention(nn.Module):
    def __init__(self, width, heads):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(width, 3 * width)
        self.proj = nn.Linear(width, width)

    def forward(self, x, mask):
        b, length, width = x.shape
        d = width // self.heads
        qkv = self.qkv(x).reshape(b, length, 3, self.heads, d).permute(2, 0, 3, 1, 4)
        logits = qkv[0] @ qkv[1].transpose(-1, -2) / math.sqrt(d)
        logits = logits.masked_fill(~mask.bool()[:, None, None, :], float("-inf"))
        out = logits.softmax(-1) @ qkv[2]
        return self.proj(out.permute(0, 2, 1, 3).reshape(b, length, width))


class Mlp(nn.Module):
    def __init__(self, width, hidden):
        super().__init__()
        self.fc1 = nn.Linear(width, hidden)
        self.fc2 = nn.Linear(hidden, width)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x)))


class EncoderLayer(nn.Module):
    def __init__(self, o):
        super().__init__()
        self.norm1 = nn.LayerNorm(o["width"])
        self.attention = MaskedSelfAttention(o["width"], o["heads"])
        self.norm2 = nn.LayerNorm(o["width"])
        self.mlp = Mlp(o["width"], o["mlp_ratio"] * o["width"])

    def forward(self, x, mask):
        x = x + self.attention(self.norm1(x), mask)
        return x + self.mlp(self.norm2(x))


class TextEncoder(nn.Module):
    def __init__(self, vocab, o):
        super().__init__()
        self.token_embedding = nn.Embedding(vocab, o["width"])
        self.position_embedding = nn.Embedding(o["max_length"], o["width"])
        self.layers = nn.ModuleList([EncoderLayer(o) for _ in range(o["layers"])])
        self.final_norm = nn.LayerNorm(o["width"])

    def forward(self, ids, mask):
        x = self.token_embedding(ids) + self.position_embedding.weight[: ids.shape[1]]
        for layer in self.layers:
            x = layer(x, mask)
        return self.final_norm(x)


CAPTIONS = [
    "a red circle moving left",
    "a blue square moving up and to the right and bouncing",
    "A red square that moves left, bouncing off the walls",
    "a green triangle is standing still",
    "two red circles going down",
    "a blue circle moving left and a green square moving right",
    "Un café \u201cnoir\u201d \u2014 视频\uff0c好",
]
PROMPTS = [
    "a red circle moving left",
    "",
    "A BLUE zebra, bouncing!",
    "a red square moving up and to the right and bouncing off the walls",
    "café 视频",
]


def text_encoder_case():
    options = {"vocab_limit": 16, "max_length": 8, "width": 8, "layers": 2, "heads": 2, "mlp_ratio": 2}
    tokens = build_vocabulary(CAPTIONS, options["vocab_limit"])
    ids, mask = encode(tokens, PROMPTS, options["max_length"])
    module = TextEncoder(len(tokens), options)
    randomize(module, 21)
    with torch.no_grad():
        out = module(ids, mask)
    save("text_encoder", {"ids": ids, "mask": mask, "output": out}, module,
         {"options": json.dumps(options), "captions": json.dumps(CAPTIONS, ensure_ascii=False),
          "prompts": json.dumps(PROMPTS, ensure_ascii=False), "tokens": json.dumps(tokens, ensure_ascii=False),
          "all_tokens": json.dumps(build_vocabulary(CAPTIONS, 1000), ensure_ascii=False)})


# ----- content encoder ---------------------------------------------------------------

class ContentEncoder(nn.Module):
    def __init__(self, o):
        super().__init__()
        self.o = o
        channels = [o["in_channels"]] + o["channels"]
        self.convs = nn.ModuleList([nn.Conv2d(channels[i], channels[i + 1], 3, stride=1 if i == 0 else 2, padding=1)
                                    for i in range(len(o["channels"]))])
        self.to_tokens = nn.Linear(channels[-1], o["tokens"] * o["width"])

    def forward(self, frame):
        h = frame
        for conv in self.convs:
            h = F.silu(conv(h))
        return self.to_tokens(h.mean(dim=(2, 3))).reshape(frame.shape[0], self.o["tokens"], self.o["width"])


def content_encoder_case():
    options = {"in_channels": 3, "channels": [4, 6, 5], "tokens": 3, "width": 4}
    module = ContentEncoder(options)
    randomize(module, 31)
    frame = uniform((2, 3, 9, 7), 32)
    with torch.no_grad():
        save("content_encoder", {"frame": frame, "output": module(frame)}, module, {"options": json.dumps(options)})


# ----- structure map -----------------------------------------------------------------

def luma(video):
    return 0.299 * video[:, :, 0:1] + 0.587 * video[:, :, 1:2] + 0.114 * video[:, :, 2:3]


def scale_to_unit(planes, subtract_min):
    lo = planes.amin(dim=(1, 2, 3), keepdim=True) if subtract_min else torch.zeros_like(planes[:, :1, :1, :1])
    hi = planes.amax(dim=(1, 2, 3), keepdim=True)
    rng = hi - lo
    return torch.where(rng > 0, (planes - lo) / torch.where(rng > 0, rng, torch.ones_like(rng)),
                       torch.zeros_like(planes))


def edge_planes(video):
    b, t, _, h, w = video.shape
    y = F.pad(luma(video).reshape(b * t, 1, h, w), (1, 1, 1, 1), mode="replicate")
    kx = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])[None, None]
    gx, gy = F.conv2d(y, kx), F.conv2d(y, kx.transpose(-1, -2))
    return scale_to_unit(torch.sqrt(gx * gx + gy * gy), False)


def gaussian_taps(sigma):
    radius = math.ceil(3 * sigma)
    k = torch.arange(-radius, radius + 1, dtype=torch.float64)
    taps = torch.exp(-k * k / (2 * sigma * sigma))
    return taps / taps.sum()


def blur(planes, sigma):
    if sigma == 0:
        return planes
    taps = gaussian_taps(sigma)
    r = taps.numel() // 2
    rows = F.conv2d(F.pad(planes, (r, r, 0, 0), mode="replicate"), taps.reshape(1, 1, 1, -1))
    return F.conv2d(F.pad(rows, (0, 0, r, r), mode="replicate"), taps.reshape(1, 1, -1, 1))


# (source, level, sigma_per_level, height, width)
STRUCTURE_CASES = [
    ("edges", 0, 1.0, 12, 10),
    ("edges", 0, 1.0, 6, 5),
    ("edges", 1, 1.0, 6, 5),
    ("edges", 2, 0.75, 6, 5),
    ("edges", 1, 1.0, 4, 3),
    ("edges", 1, 0.5, 7, 13),
    ("depth", 0, 1.0, 5, 4),
    ("depth", 1, 1.0, 5, 4),
]


def structure_case():
    b, t, h, w = 2, 2, 12, 10
    video = uniform((b, t, 3, h, w), 41, 0.0, 1.0)
    # A bright rectangle over the noise, so that the edges have structure.
    video[:, :, :, 3:9, 2:7] += 1.5
    depth = uniform((b, t, 1, h, w), 42, 0.5, 4.0)
    tensors = {"video": video, "depth": depth}
    for source, level, sigma, oh, ow in STRUCTURE_CASES:
        planes = edge_planes(video) if source == "edges" else scale_to_unit(depth.reshape(b * t, 1, h, w), True)
        out = blur(F.adaptive_avg_pool2d(planes, (oh, ow)), level * sigma)
        tensors[f"{source}_l{level}_s{sigma:g}_{oh}x{ow}"] = out.reshape(b, t, 1, oh, ow)
    save("structure_map", tensors)


def main():
    timestep_cases()
    text_encoder_case()
    content_encoder_case()
    structure_case()


if __name__ == "__main__":
    main()
