#!/usr/bin/env python3
"""Optical-flow accuracy cases, OpenCV's side of the comparison, and the table.

  flow_opencv.py make-cases DIR [--image-dir D]   write the synthetic cases
  flow_opencv.py run DIR [--reps N] [--threads N] OpenCV Farneback and DIS on every case (JSON lines)
  flow_opencv.py table RECORDS.jsonl...           the Markdown table of vgt's and OpenCV's records

A case is a folder DIR/<name>/ with a.npy and b.npy (float32 [H, W], the
frames, 8-bit intensities divided by 255), flow.npy (float32 [2, H, W], the
true flow from a to b: a(p) = b(p + flow(p)), OpenCV's convention and vgt's)
and valid.npy (float32 [1, H, W], 1 where the true flow is defined).
DIR/cases.json lists them. OpenCV reads the same frames as uint8 (the
division by 255 undone exactly).

Synthetic warps of real photographs (scikit-image's sample images, from
Debian's python3-skimage): b is the photograph, a(p) = b(p + G(p)) sampled
with bicubic interpolation (Keys, a = -0.5) in float64, so that G is the true
flow from a to b exactly; pixels whose p + G(p) leaves the photograph are
invalid. Motions: translations (small and large), a rotation and a zoom
about the centre, and a smooth random field.
"""

import argparse
import json
import os
import statistics
import sys
import time

import numpy as np

DEFAULT_IMAGE_DIR = "/usr/lib/python3/dist-packages/skimage/data"
IMAGES = ["camera.png", "astronaut.png", "coffee.png"]  # halved to about 256 pixels a side


# ----- cases ------------------------------------------------------------------


def keys_weights(t):
    """Bicubic (Keys, a = -0.5) weights of the 4 taps at offsets -1, 0, 1, 2 for fractions t."""
    a = -0.5

    def near(x):  # |x| <= 1
        return (a + 2) * x**3 - (a + 3) * x**2 + 1

    def far(x):  # 1 < |x| < 2
        return a * x**3 - 5 * a * x**2 + 8 * a * x - 4 * a

    return [far(1 + t), near(t), near(1 - t), far(2 - t)]


def sample_bicubic(image, x, y):
    """image [H, W] float64 at real points x, y (arrays), edges replicated."""
    h, w = image.shape
    x0 = np.floor(x).astype(np.int64)
    y0 = np.floor(y).astype(np.int64)
    wx = keys_weights(x - x0)
    wy = keys_weights(y - y0)
    out = np.zeros_like(x, dtype=np.float64)
    for j in range(4):
        rows = np.clip(y0 + j - 1, 0, h - 1)
        acc = np.zeros_like(out)
        for i in range(4):
            cols = np.clip(x0 + i - 1, 0, w - 1)
            acc += wx[i] * image[rows, cols]
        out += wy[j] * acc
    return out


def gaussian_smooth(field, sigma):
    """Periodic Gaussian smoothing of a [H, W] array through the FFT."""
    h, w = field.shape
    fy = np.fft.fftfreq(h)[:, None]
    fx = np.fft.fftfreq(w)[None, :]
    kernel = np.exp(-2 * (np.pi * sigma) ** 2 * (fx**2 + fy**2))
    return np.real(np.fft.ifft2(np.fft.fft2(field) * kernel))


def motions(h, w, rng):
    """name -> G [2, H, W] float64."""
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float64)
    cx, cy = (w - 1) / 2, (h - 1) / 2
    out = {}
    out["translate_small"] = np.stack([np.full((h, w), 1.3), np.full((h, w), -0.6)])
    out["translate_large"] = np.stack([np.full((h, w), 6.4), np.full((h, w), 3.7)])
    theta = np.deg2rad(4.0)
    c, s = np.cos(theta), np.sin(theta)
    rx = cx + c * (xs - cx) - s * (ys - cy)
    ry = cy + s * (xs - cx) + c * (ys - cy)
    out["rotate_4deg"] = np.stack([rx - xs, ry - ys])
    zoom = 1.06
    out["zoom_1.06"] = np.stack([(zoom - 1) * (xs - cx), (zoom - 1) * (ys - cy)])
    field = np.stack([gaussian_smooth(rng.standard_normal((h, w)), 16.0) for _ in range(2)])
    field *= 3.0 / np.max(np.sqrt((field**2).sum(0)))
    out["smooth_random"] = field
    return out


def make_cases(args):
    import cv2

    os.makedirs(args.dir, exist_ok=True)
    listing = []
    rng = np.random.default_rng(2024)
    for name in IMAGES:
        path = os.path.join(args.image_dir, name)
        photo = cv2.imread(path, cv2.IMREAD_GRAYSCALE)
        if photo is None:
            sys.exit(f"flow_opencv.py: cannot read {path} (install python3-skimage, or pass --image-dir)")
        photo = cv2.resize(photo, (photo.shape[1] // 2, photo.shape[0] // 2), interpolation=cv2.INTER_AREA)
        b = photo.astype(np.float64)
        h, w = b.shape
        ys, xs = np.mgrid[0:h, 0:w].astype(np.float64)
        for motion, g in motions(h, w, rng).items():
            px, py = xs + g[0], ys + g[1]
            valid = (px >= 0) & (px <= w - 1) & (py >= 0) & (py <= h - 1)
            a = np.clip(np.rint(sample_bicubic(b, px, py)), 0, 255)
            case = f"{os.path.splitext(name)[0]}/{motion}"
            folder = os.path.join(args.dir, case)
            os.makedirs(folder, exist_ok=True)
            np.save(os.path.join(folder, "a.npy"), (a / 255).astype(np.float32))
            np.save(os.path.join(folder, "b.npy"), (b / 255).astype(np.float32))
            np.save(os.path.join(folder, "flow.npy"), g.astype(np.float32))
            np.save(os.path.join(folder, "valid.npy"), valid[None].astype(np.float32))
            listing.append({"case": case, "motion": motion, "source": name, "height": h, "width": w})
    with open(os.path.join(args.dir, "cases.json"), "w") as f:
        json.dump(listing, f, indent=1)
    print(f"flow_opencv.py: {len(listing)} cases in {args.dir}", file=sys.stderr)


# ----- OpenCV's estimators ------------------------------------------------------------


def list_cases(folder):
    """Every case folder under DIR (the photographs' and any others, e.g. MovingShapes)."""
    cases = []
    for root, _, files in os.walk(folder):
        if {"a.npy", "b.npy", "flow.npy", "valid.npy"} <= set(files):
            cases.append(os.path.relpath(root, folder))
    return sorted(cases)


def average_endpoint_error(flow, truth, valid):
    error = np.sqrt(((flow.astype(np.float64) - truth) ** 2).sum(0))
    return float((error * valid).sum() / valid.sum())


def run_opencv(args):
    import cv2

    cv2.setNumThreads(args.threads)
    dis_medium = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    methods = {
        # The parameters of OpenCV's own Farneback sample (samples/python/opt_flow.py).
        "opencv_farneback": lambda a, b: cv2.calcOpticalFlowFarneback(a, b, None, 0.5, 3, 15, 3, 5, 1.2, 0),
        "opencv_dis_medium": lambda a, b: dis_medium.calc(a, b, None),
    }
    for case in list_cases(args.dir):
        folder = os.path.join(args.dir, case)
        to_u8 = lambda name: np.rint(np.load(os.path.join(folder, name)) * 255).astype(np.uint8)
        a, b = to_u8("a.npy"), to_u8("b.npy")
        truth = np.load(os.path.join(folder, "flow.npy")).astype(np.float64)
        valid = np.load(os.path.join(folder, "valid.npy"))[0].astype(np.float64)
        for method, estimate in methods.items():
            flow = estimate(a, b)
            samples = []
            for _ in range(args.reps):
                start = time.perf_counter()
                flow = estimate(a, b)
                samples.append(1e3 * (time.perf_counter() - start))
            record = {
                "framework": "opencv " + cv2.__version__,
                "method": method,
                "case": case,
                "aee": average_endpoint_error(flow.transpose(2, 0, 1), truth, valid),
                "median_ms": statistics.median(samples),
                "threads": args.threads,
            }
            print(json.dumps(record), flush=True)


# ----- the table ----------------------------------------------------------------------------

METHOD_ORDER = ["vgt_horn_schunck", "vgt_lucas_kanade", "vgt_farneback", "opencv_farneback", "opencv_dis_medium"]
METHOD_TITLES = {
    "vgt_horn_schunck": "vgt HS",
    "vgt_lucas_kanade": "vgt LK",
    "vgt_farneback": "vgt Farnebäck",
    "opencv_farneback": "OpenCV Farnebäck",
    "opencv_dis_medium": "OpenCV DIS (medium)",
}


def motion_of(case):
    return case.split("/")[-1] if "/" in case else case


def table(args):
    records = []
    for path in args.records:
        with open(path) as f:
            records += [json.loads(line) for line in f if line.strip().startswith("{")]
    methods = [m for m in METHOD_ORDER if any(r["method"] == m for r in records)]
    methods += sorted({r["method"] for r in records} - set(methods))
    motions_seen = []
    for r in records:
        if motion_of(r["case"]) not in motions_seen:
            motions_seen.append(motion_of(r["case"]))

    def cell(method, motion, key):
        rows = [r[key] for r in records if r["method"] == method and (motion is None or motion_of(r["case"]) == motion)]
        if not rows:
            return "-"
        if key == "aee":
            return f"{statistics.mean(rows):.3f}"
        return f"{statistics.median(rows):.1f}"

    titles = [METHOD_TITLES.get(m, m) for m in methods]
    print("Average endpoint error (px, mean over the case's images) | milliseconds per frame pair (median)\n")
    print("| motion | " + " | ".join(f"{t} AEE" for t in titles) + " | " + " | ".join(f"{t} ms" for t in titles) + " |")
    print("| --- |" + " ---: |" * (2 * len(methods)))
    for motion in motions_seen + [None]:
        name = motion if motion is not None else "**all cases**"
        aee = [cell(m, motion, "aee") for m in methods]
        ms = [cell(m, motion, "median_ms") for m in methods]
        print(f"| {name} | " + " | ".join(aee) + " | " + " | ".join(ms) + " |")
    sizes = sorted({r.get("size", "") for r in records} - {""})
    if sizes:
        print(f"\nFrame sizes: {', '.join(sizes)}.")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("make-cases")
    p.add_argument("dir")
    p.add_argument("--image-dir", default=DEFAULT_IMAGE_DIR)
    p = sub.add_parser("run")
    p.add_argument("dir")
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--threads", type=int, default=2)
    p = sub.add_parser("table")
    p.add_argument("records", nargs="+")
    args = parser.parse_args()
    {"make-cases": make_cases, "run": run_opencv, "table": table}[args.command](args)


if __name__ == "__main__":
    main()
