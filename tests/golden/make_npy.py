"""Writes the small .npy files that tests/io/npy_test.cpp reads.

Run with /usr/bin/python3 (Debian's numpy). Each file is tiny; the values are
closed-form so the test can recompute them.
"""
import os

import numpy as np

here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "npy")
os.makedirs(here, exist_ok=True)


def path(name):
    return os.path.join(here, name + ".npy")


def save_version(name, array, version):
    with open(path(name), "wb") as f:
        np.lib.format.write_array(f, array, version=version)


f32 = (np.arange(6, dtype=np.float32).reshape(2, 3) * 0.5 - 1.0).astype(np.float32)

# Readable files, one per dtype and a few ranks, as numpy.save writes them.
np.save(path("f32_2x3"), f32)
np.save(path("f64_scalar"), np.array(3.25, dtype=np.float64))
np.save(path("i64_vec"), np.array([-3, 0, 7, 2**40], dtype=np.int64))
np.save(path("u8_2x3x4"), np.arange(24, dtype=np.uint8).reshape(2, 3, 4))
np.save(path("u8_2x0x3"), np.zeros((2, 0, 3), dtype=np.uint8))
np.save(path("f64_rank6"), (np.arange(8, dtype=np.float64) / 8).reshape(1, 2, 1, 2, 1, 2))
save_version("f32_v2", f32, (2, 0))
save_version("f32_v3", f32, (3, 0))

# Files vgt must reject with a clear message.
np.save(path("f32_fortran"), np.asfortranarray(f32))
np.save(path("f32_bigendian"), f32.astype(">f4"))
np.save(path("f16_vec"), np.array([1, 2], dtype=np.float16))
np.save(path("c64_vec"), np.array([1 + 2j], dtype=np.complex64))
