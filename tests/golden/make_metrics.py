#!/usr/bin/python3
"""Writes scikit-image references for PSNR and SSIM into tests/golden/metrics/.

Run with Debian's python3 (python3-skimage, numpy):  /usr/bin/python3 tests/golden/make_metrics.py
Inputs are float32 (as a video tensor holds them) from a fixed seed; the
references are computed in float64 from exactly those values and stored as
float64, so the comparison tests the formula rather than rounding.
SSIM is skimage's structural_similarity(gaussian_weights=True, sigma=1.5,
use_sample_covariance=False), the settings of Wang et al. (2004).
"""

import os

import numpy as np
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "metrics")


def save(name, array, dtype):
    np.save(os.path.join(OUT, name + ".npy"), np.ascontiguousarray(array.astype(dtype)))


def ssim(a, b, data_range):
    # a, b: [C, H, W] float64; the mean over channels, as channel_axis does.
    return structural_similarity(a, b, channel_axis=0, gaussian_weights=True, sigma=1.5,
                                 use_sample_covariance=False, data_range=data_range)


def luma(x):
    return 0.299 * x[0] + 0.587 * x[1] + 0.114 * x[2]


def smooth_frames(rng, t, c, h, w):
    # Smooth structure plus fine noise, in [0, 1]: SSIM's terms all matter.
    yy, xx = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
    frames = np.empty((t, c, h, w))
    for i in range(t):
        for k in range(c):
            fx, fy, phase = rng.uniform(0.1, 0.5), rng.uniform(0.1, 0.5), rng.uniform(0, 6.3)
            frames[i, k] = 0.5 + 0.35 * np.sin(fx * xx + fy * yy + phase) + 0.1 * rng.standard_normal((h, w))
    return np.clip(frames, 0, 1)


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(5)

    # A video pair [T, 3, H, W]: a reference and a distorted copy (noise, a
    # brightness shift growing with t, a blur-like mix with a shifted copy).
    t, c, h, w = 4, 3, 16, 21
    ref = smooth_frames(rng, t, c, h, w).astype(np.float32)
    dist = ref + 0.08 * rng.standard_normal(ref.shape) + 0.03 * np.arange(t)[:, None, None, None]
    dist = 0.7 * dist + 0.3 * np.roll(dist, 1, axis=3)
    dist = np.clip(dist, 0, 1).astype(np.float32)
    save("video_ref", ref, np.float32)
    save("video_dist", dist, np.float32)
    r64, d64 = ref.astype(np.float64), dist.astype(np.float64)
    save("ssim_per_frame", np.array([ssim(r64[i], d64[i], 1.0) for i in range(t)]), np.float64)
    save("ssim_luma_per_frame",
         np.array([structural_similarity(luma(r64[i]), luma(d64[i]), gaussian_weights=True, sigma=1.5,
                                         use_sample_covariance=False, data_range=1.0) for i in range(t)]),
         np.float64)
    save("psnr_per_frame", np.array([peak_signal_noise_ratio(r64[i], d64[i], data_range=1.0) for i in range(t)]),
         np.float64)

    # One grey image [1, H, W] with values in [-1, 1] and data range 2.
    a = (rng.uniform(-1, 1, (1, 13, 12))).astype(np.float32)
    b = np.clip(a + 0.3 * rng.standard_normal(a.shape), -1, 1).astype(np.float32)
    save("range2_a", a, np.float32)
    save("range2_b", b, np.float32)
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    save("range2_ssim", np.array([ssim(a64, b64, 2.0)]), np.float64)
    save("range2_psnr", np.array([peak_signal_noise_ratio(a64, b64, data_range=2.0)]), np.float64)


if __name__ == "__main__":
    main()
