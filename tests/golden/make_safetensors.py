"""Writes the small safetensors file that tests/io/safetensors_test.cpp reads.

Run with /usr/bin/python3 (Debian's numpy). The values are closed-form so the
test can recompute them.
"""
import os
import sys

import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "reference"))
import safetensors_io  # noqa: E402

out = os.path.join(here, "safetensors")
os.makedirs(out, exist_ok=True)

tensors = {
    # i * 0.5 - 1
    "weight": (np.arange(6, dtype=np.float32).reshape(2, 3) * 0.5 - 1.0).astype(np.float32),
    # i / 8
    "bias": np.arange(3, dtype=np.float64) / 8.0,
    # 1, -2, 0.5, 3.140625 (exact in bfloat16)
    "scale": safetensors_io.BF16.from_float32(np.array([1.0, -2.0, 0.5, 3.140625], dtype=np.float32)),
    # i - 1.5
    "half": (np.arange(4, dtype=np.float16).reshape(2, 2) - np.float16(1.5)).astype(np.float16),
    "index": np.array([-3, 0, 2**40], dtype=np.int64),
    # i * 10 mod 256
    "pixels": (np.arange(12, dtype=np.int64).reshape(2, 2, 3) * 10 % 256).astype(np.uint8),
    "scalar": np.array(2.5, dtype=np.float32),
    "empty": np.zeros((0, 3), dtype=np.float32),
}
metadata = {"format": "pt", "note": "vgt golden file"}
safetensors_io.save(os.path.join(out, "mixed.safetensors"), tensors, metadata)

# The reader checks what it wrote.
back, meta = safetensors_io.load_with_metadata(os.path.join(out, "mixed.safetensors"))
assert meta == metadata
for name, value in tensors.items():
    if isinstance(value, safetensors_io.BF16):
        assert (back[name].bits == value.bits).all() and back[name].shape == value.shape
    else:
        assert back[name].dtype == value.dtype and back[name].shape == value.shape
        assert (back[name] == value).all()
