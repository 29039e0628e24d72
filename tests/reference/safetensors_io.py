"""safetensors read/write with json, struct and numpy only.

Debian packages no safetensors module, so test scripts that write golden
checkpoints for the C++ reader (or read what vgt wrote) use this. Files are
laid out as the safetensors library lays them out: "__metadata__" first (its
keys sorted), the tensors sorted by decreasing element size and then by
name, data in that order, the header padded with spaces so the data starts
at a multiple of 8.

NumPy has no bfloat16: such tensors are BF16 objects holding the bit
patterns, converted from and to float32 with BF16.from_float32 and
BF16.to_float32.

Usage from a script in tests/golden/:
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "reference"))
    import safetensors_io
"""
import json
import struct

import numpy as np

MAX_HEADER = 100_000_000

_DTYPES = {
    "F64": np.dtype("<f8"),
    "F32": np.dtype("<f4"),
    "F16": np.dtype("<f2"),
    "I64": np.dtype("<i8"),
    "I32": np.dtype("<i4"),
    "I16": np.dtype("<i2"),
    "I8": np.dtype("i1"),
    "U64": np.dtype("<u8"),
    "U32": np.dtype("<u4"),
    "U16": np.dtype("<u2"),
    "U8": np.dtype("u1"),
    "BOOL": np.dtype("?"),
}


class BF16:
    """A bfloat16 array, as its uint16 bit patterns."""

    def __init__(self, bits):
        self.bits = np.ascontiguousarray(bits, dtype=np.uint16)

    @classmethod
    def from_float32(cls, values):
        """Rounds float32 values to the nearest bfloat16, ties to even (NaN stays NaN)."""
        u = np.ascontiguousarray(values, dtype=np.float32).view(np.uint32).astype(np.uint64)
        rounded = (u + 0x7FFF + ((u >> 16) & 1)) >> 16
        nan = np.isnan(np.asarray(values, dtype=np.float32))
        rounded = np.where(nan, (u >> 16) | 0x40, rounded)
        return cls(rounded.astype(np.uint16))

    def to_float32(self):
        return (self.bits.astype(np.uint32) << 16).view(np.float32)

    @property
    def shape(self):
        return self.bits.shape

    def __repr__(self):
        return f"BF16({self.to_float32()!r})"


def _dtype_name(array):
    if isinstance(array, BF16):
        return "BF16"
    for name, dtype in _DTYPES.items():  # any byte order: _raw writes little-endian
        if array.dtype.kind == dtype.kind and array.dtype.itemsize == dtype.itemsize:
            return name
    raise ValueError(f"safetensors_io: no safetensors dtype for numpy dtype {array.dtype}")


def _raw(array):
    if isinstance(array, BF16):
        return array.bits.astype("<u2").tobytes()
    name = _dtype_name(array)
    return np.ascontiguousarray(array, dtype=_DTYPES[name]).tobytes()


def serialize(tensors, metadata=None):
    """The bytes of a safetensors file holding `tensors` (name -> numpy array or BF16)."""
    for name in tensors:
        if name == "__metadata__" or not isinstance(name, str) or not name:
            raise ValueError(f"safetensors_io: invalid tensor name {name!r}")
    arrays = {name: (a if isinstance(a, BF16) else np.asarray(a)) for name, a in tensors.items()}
    itemsize = {name: (2 if isinstance(a, BF16) else a.dtype.itemsize) for name, a in arrays.items()}
    order = sorted(arrays, key=lambda name: (-itemsize[name], name))

    header = {}
    if metadata:
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
            raise ValueError("safetensors_io: metadata must map strings to strings")
        header["__metadata__"] = dict(sorted(metadata.items()))  # sorted, as vgt writes it
    chunks = []
    offset = 0
    for name in order:
        raw = _raw(arrays[name])
        header[name] = {
            "dtype": _dtype_name(arrays[name]),
            "shape": list(arrays[name].shape),
            "data_offsets": [offset, offset + len(raw)],
        }
        chunks.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(chunks)


def save(path, tensors, metadata=None):
    with open(path, "wb") as f:
        f.write(serialize(tensors, metadata))


def parse(data):
    """(tensors, metadata) from the bytes of a safetensors file; checks the layout."""
    if len(data) < 8:
        raise ValueError(f"safetensors_io: {len(data)} bytes, too short for a header length")
    (n,) = struct.unpack("<Q", data[:8])
    if n > MAX_HEADER or n > len(data) - 8:
        raise ValueError(f"safetensors_io: header length {n} does not fit a {len(data)}-byte file")
    header = json.loads(data[8 : 8 + n].decode("utf-8"))
    buffer = memoryview(data)[8 + n :]
    metadata = header.pop("__metadata__", None) or {}
    tensors = {}
    spans = []
    for name, entry in header.items():
        if set(entry) != {"dtype", "shape", "data_offsets"}:
            raise ValueError(f"safetensors_io: tensor {name!r} has keys {sorted(entry)}")
        begin, end = entry["data_offsets"]
        shape = tuple(entry["shape"])
        count = int(np.prod(shape, dtype=np.int64))
        if entry["dtype"] == "BF16":
            itemsize = 2
        elif entry["dtype"] in _DTYPES:
            itemsize = _DTYPES[entry["dtype"]].itemsize
        else:
            raise ValueError(f"safetensors_io: tensor {name!r} has unknown dtype {entry['dtype']!r}")
        if not 0 <= begin <= end <= len(buffer) or end - begin != count * itemsize:
            raise ValueError(f"safetensors_io: tensor {name!r} has offsets {entry['data_offsets']} for {shape}")
        raw = bytes(buffer[begin:end])
        if entry["dtype"] == "BF16":
            tensors[name] = BF16(np.frombuffer(raw, dtype="<u2").reshape(shape))
        else:
            tensors[name] = np.frombuffer(raw, dtype=_DTYPES[entry["dtype"]]).reshape(shape).copy()
        spans.append((begin, end, name))
    covered = 0
    for begin, end, name in sorted(spans):
        if begin != covered:
            raise ValueError(f"safetensors_io: tensor {name!r} at {begin} leaves a hole or overlaps at {covered}")
        covered = end
    if covered != len(buffer):
        raise ValueError(f"safetensors_io: {len(buffer) - covered} bytes after the last tensor")
    return tensors, metadata


def load_with_metadata(path):
    with open(path, "rb") as f:
        return parse(f.read())


def load(path):
    """name -> numpy array (BF16 for bfloat16 tensors)."""
    return load_with_metadata(path)[0]
