"""Video files written by the ffmpeg program, with ffmpeg's own RGB decode of
each, for tests/io/video_test.cpp: codecs and containers vgt does not write
itself (VP9 in WebM, Motion JPEG in AVI with full-range YUV, a GIF from
ffmpeg's palettegen), and H.264 tagged BT.709 (vgt writes BT.601).

Run from the repository root:  /usr/bin/python3 tests/golden/make_video.py
Needs the ffmpeg program (Debian's ffmpeg) and NumPy.
"""
import os
import subprocess

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "video")
WIDTH, HEIGHT, FRAMES, RATE = 24, 16, 6, 10
SOURCE = ["-f", "lavfi", "-i", f"testsrc2=size={WIDTH}x{HEIGHT}:rate={RATE}:duration={FRAMES / RATE}"]

CASES = {
    "h264_bt709.mp4": ["-c:v", "libx264", "-preset", "medium", "-crf", "20", "-pix_fmt", "yuv420p",
                       "-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709",
                       "-color_range", "tv"],
    "vp9.webm": ["-c:v", "libvpx-vp9", "-crf", "30", "-b:v", "0", "-pix_fmt", "yuv420p"],
    "mjpeg.avi": ["-c:v", "mjpeg", "-q:v", "3", "-pix_fmt", "yuvj420p"],
    "palette.gif": ["-filter_complex", "[0:v]split[a][b];[a]palettegen[p];[b][p]paletteuse"],
}


def run(args):
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *args], check=True)


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, codec in CASES.items():
        path = os.path.join(OUT, name)
        run([*SOURCE, *codec, "-map_metadata", "-1", "-fflags", "+bitexact", path])
        # ffmpeg's decode to RGB, with the scaler flags vgt uses.
        raw = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", path, "-f", "rawvideo", "-pix_fmt", "rgb24",
                              "-sws_flags", "bicubic+accurate_rnd+full_chroma_int", "-"],
                             check=True, capture_output=True).stdout
        frames = np.frombuffer(raw, dtype=np.uint8).reshape(-1, HEIGHT, WIDTH, 3)
        assert frames.shape[0] == FRAMES, (name, frames.shape)
        np.save(os.path.join(OUT, name + ".rgb.npy"), frames)
        print(f"{name}: {os.path.getsize(path)} bytes, {frames.shape}")


if __name__ == "__main__":
    main()
