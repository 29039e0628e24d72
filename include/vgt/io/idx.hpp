#pragma once
// IDX files, the format of MNIST and Fashion-MNIST: plain or gzip-compressed.
//
// Layout: a 4-byte magic number 00 00 <type> <rank>, then <rank> big-endian
// int32 extents, then the elements in row-major order, big-endian.
//
//   type  IDX element   vgt DType read   default IDX type written
//   0x08  uint8         UInt8            UInt8
//   0x09  int8          Int64            -
//   0x0B  int16         Int64            -
//   0x0C  int32         Int64            Int64
//   0x0D  float32       Float32          Float32
//   0x0E  float64       Float64          Float64
//
// vgt has one signed integer type (int64, for indices and labels), so the
// three signed IDX types widen to it; write_idx can narrow back to any of
// them, checking that every value fits.
//
// A reader of untrusted bytes: every header field is checked before any
// allocation (the magic, the type, the rank against kMaxRank, each extent,
// the byte size against 64 bits and against what the file, or for gzip what
// the compressed size, can hold), and a file that is shorter or longer than
// its header says is an error. Errors are vgt::Error naming read_idx, the
// file, what was expected and what was found.

#include <array>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "vgt/core/dtype.hpp"
#include "vgt/core/error.hpp"
#include "vgt/core/shape.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/io/file.hpp"
#include "vgt/io/gzip.hpp"

namespace vgt::io {

/// Element types of the IDX format (the third byte of the magic number).
enum class IdxType : std::uint8_t { UInt8 = 0x08, Int8 = 0x09, Int16 = 0x0B, Int32 = 0x0C, Float32 = 0x0D, Float64 = 0x0E };

inline constexpr std::string_view idx_type_name(IdxType type) {
    switch (type) {
        case IdxType::UInt8: return "uint8";
        case IdxType::Int8: return "int8";
        case IdxType::Int16: return "int16";
        case IdxType::Int32: return "int32";
        case IdxType::Float32: return "float32";
        case IdxType::Float64: return "float64";
    }
    return "unknown";
}

/// Bytes per element in the file.
inline constexpr std::size_t idx_type_size(IdxType type) {
    switch (type) {
        case IdxType::UInt8:
        case IdxType::Int8: return 1;
        case IdxType::Int16: return 2;
        case IdxType::Int32:
        case IdxType::Float32: return 4;
        case IdxType::Float64: return 8;
    }
    return 0;
}

/// The vgt DType an IDX element type is read into.
inline constexpr DType idx_read_dtype(IdxType type) {
    switch (type) {
        case IdxType::UInt8: return DType::UInt8;
        case IdxType::Int8:
        case IdxType::Int16:
        case IdxType::Int32: return DType::Int64;
        case IdxType::Float32: return DType::Float32;
        case IdxType::Float64: return DType::Float64;
    }
    return DType::UInt8;
}

namespace detail {

inline std::optional<IdxType> idx_type_from_byte(std::uint8_t byte) {
    switch (byte) {
        case 0x08: return IdxType::UInt8;
        case 0x09: return IdxType::Int8;
        case 0x0B: return IdxType::Int16;
        case 0x0C: return IdxType::Int32;
        case 0x0D: return IdxType::Float32;
        case 0x0E: return IdxType::Float64;
        default: return std::nullopt;
    }
}

inline std::uint32_t load_be32(const std::byte* p) {
    return (static_cast<std::uint32_t>(p[0]) << 24) | (static_cast<std::uint32_t>(p[1]) << 16) |
           (static_cast<std::uint32_t>(p[2]) << 8) | static_cast<std::uint32_t>(p[3]);
}

inline void store_be(std::byte* p, std::uint64_t value, std::size_t width) {
    for (std::size_t i = 0; i < width; ++i) p[i] = static_cast<std::byte>((value >> (8 * (width - 1 - i))) & 0xff);
}

/// Uncompressed bytes, read with the same interface as GzipReader.
class IdxPlainSource {
public:
    explicit IdxPlainSource(std::span<const std::byte> bytes) : bytes_(bytes) {}
    std::size_t read(std::byte* dst, std::size_t n) {
        const std::size_t count = std::min(n, bytes_.size() - pos_);
        if (count > 0) std::memcpy(dst, bytes_.data() + pos_, count);
        pos_ += count;
        return count;
    }
    std::uint64_t max_remaining() const { return bytes_.size() - pos_; }
    bool truncated() const { return false; }

private:
    std::span<const std::byte> bytes_;
    std::size_t pos_ = 0;
};

/// Converts `count` big-endian elements of `type` at `src` to `out`.
template <class Out>
void idx_decode(IdxType type, const std::byte* src, std::size_t count, Out* out) {
    switch (type) {
        case IdxType::UInt8:
            for (std::size_t i = 0; i < count; ++i) out[i] = static_cast<Out>(static_cast<std::uint8_t>(src[i]));
            break;
        case IdxType::Int8:
            for (std::size_t i = 0; i < count; ++i) out[i] = static_cast<Out>(static_cast<std::int8_t>(src[i]));
            break;
        case IdxType::Int16:
            for (std::size_t i = 0; i < count; ++i) {
                const auto bits = static_cast<std::uint16_t>((static_cast<unsigned>(src[2 * i]) << 8) |
                                                             static_cast<unsigned>(src[2 * i + 1]));
                out[i] = static_cast<Out>(static_cast<std::int16_t>(bits));
            }
            break;
        case IdxType::Int32:
            for (std::size_t i = 0; i < count; ++i)
                out[i] = static_cast<Out>(static_cast<std::int32_t>(load_be32(src + 4 * i)));
            break;
        case IdxType::Float32:
            for (std::size_t i = 0; i < count; ++i)
                out[i] = static_cast<Out>(std::bit_cast<float>(load_be32(src + 4 * i)));
            break;
        case IdxType::Float64:
            for (std::size_t i = 0; i < count; ++i) {
                const std::uint64_t bits = (static_cast<std::uint64_t>(load_be32(src + 8 * i)) << 32) |
                                           load_be32(src + 8 * i + 4);
                out[i] = static_cast<Out>(std::bit_cast<double>(bits));
            }
            break;
    }
}

/// Reads one IDX file from `source` (plain bytes or a GzipReader).
/// `compression` is "" or " (gzip)", for messages.
template <class Source>
Tensor read_idx_from(Source& source, std::string_view name, std::string_view compression) {
    constexpr std::string_view op = "read_idx";
    auto truncation = [&]() -> std::string {
        return source.truncated() ? "truncated gzip stream" : "truncated file";
    };

    // Magic number: 00 00 <type> <rank>.
    std::array<std::byte, 4> magic{};
    const std::size_t got = source.read(magic.data(), magic.size());
    VGT_CHECK(got == magic.size(), op, "'{}'{}: expected a 4-byte IDX magic number, found {} bytes ({})", name,
              compression, got, truncation());
    const auto b = [&](int i) { return static_cast<unsigned>(magic[static_cast<std::size_t>(i)]); };
    VGT_CHECK(b(0) == 0 && b(1) == 0, op,
              "'{}'{}: expected an IDX file starting with bytes 00 00, found {:02x} {:02x} {:02x} {:02x}", name,
              compression, b(0), b(1), b(2), b(3));
    const std::optional<IdxType> type = idx_type_from_byte(static_cast<std::uint8_t>(b(2)));
    VGT_CHECK(type.has_value(), op,
              "'{}'{}: expected IDX element type 0x08 (uint8), 0x09 (int8), 0x0b (int16), 0x0c (int32), 0x0d "
              "(float32) or 0x0e (float64), found 0x{:02x}",
              name, compression, b(2));
    const int rank = static_cast<int>(b(3));
    VGT_CHECK(rank <= kMaxRank, op, "'{}'{}: expected at most {} dimensions, found {}", name, compression, kMaxRank,
              rank);

    // Extents, each checked, then their product against 64 bits.
    std::array<std::byte, 4 * kMaxRank> dim_bytes{};
    const std::size_t dims_size = 4 * static_cast<std::size_t>(rank);
    const std::size_t got_dims = source.read(dim_bytes.data(), dims_size);
    VGT_CHECK(got_dims == dims_size, op,
              "'{}'{}: expected {} bytes of extents for {} dimensions after the magic number, found {} ({})", name,
              compression, dims_size, rank, got_dims, truncation());
    std::vector<std::int64_t> dims(static_cast<std::size_t>(rank));
    for (int i = 0; i < rank; ++i) {
        const auto extent = static_cast<std::int32_t>(load_be32(dim_bytes.data() + 4 * i));
        VGT_CHECK(extent >= 0, op, "'{}'{}: expected a non-negative extent for dimension {}, found {}", name,
                  compression, i, extent);
        dims[static_cast<std::size_t>(i)] = extent;
    }
    const Shape shape(dims);
    const std::size_t item = idx_type_size(*type);
    // Bounded in the wider of the file's and the returned tensor's element
    // size (int8 and int16 are widened), so that the tensor handed out, and
    // the file write_idx makes of it, stay within 64-bit byte counts.
    std::uint64_t bytes_needed = std::max(item, dtype_size(idx_read_dtype(*type)));
    for (const std::int64_t d : dims) {
        // Zero extents counted as one here (so an all-zero tail cannot hide
        // an overflow in the strides); the byte count itself is exact below.
        const auto factor = static_cast<std::uint64_t>(std::max<std::int64_t>(d, 1));
        VGT_CHECK(bytes_needed <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) / factor, op,
                  "'{}'{}: expected a shape whose size in bytes fits in 64 bits, found shape {} of {}", name,
                  compression, shape, idx_type_name(*type));
        bytes_needed *= factor;
    }
    const std::uint64_t data_bytes = static_cast<std::uint64_t>(shape.numel()) * item;
    const std::uint64_t available = source.max_remaining();
    if (data_bytes > available) {
        if (compression.empty())
            fail(op, "'{}': expected {} data bytes for shape {} of {}, found {} (truncated file)", name, data_bytes,
                 shape, idx_type_name(*type), available);
        fail(op,
             "'{}'{}: expected {} data bytes for shape {} of {}, found a gzip stream that holds at most {} "
             "(truncated or corrupt)",
             name, compression, data_bytes, shape, idx_type_name(*type), available);
    }

    // Data: read in pieces and converted from big-endian as they arrive.
    const DType dtype = idx_read_dtype(*type);
    Tensor out = Tensor::empty(shape, dtype);
    std::uint64_t done = 0;
    auto short_read = [&](std::uint64_t found) {
        fail(op, "'{}'{}: expected {} data bytes for shape {} of {}, found {} ({})", name, compression, data_bytes,
             shape, idx_type_name(*type), found, truncation());
    };
    if (*type == IdxType::UInt8) {
        done = source.read(static_cast<std::byte*>(out.raw_data()), static_cast<std::size_t>(data_bytes));
        if (done != data_bytes) short_read(done);
    } else {
        constexpr std::size_t kChunk = std::size_t{1} << 16;  // a multiple of every element size
        std::vector<std::byte> chunk(static_cast<std::size_t>(std::min<std::uint64_t>(kChunk, data_bytes)));
        while (done < data_bytes) {
            const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(chunk.size(), data_bytes - done));
            const std::size_t piece = source.read(chunk.data(), want);
            if (piece != want) short_read(done + piece);
            const std::size_t first = static_cast<std::size_t>(done / item);
            switch (dtype) {
                case DType::Int64: idx_decode(*type, chunk.data(), want / item, out.data<std::int64_t>() + first); break;
                case DType::Float32: idx_decode(*type, chunk.data(), want / item, out.data<float>() + first); break;
                case DType::Float64: idx_decode(*type, chunk.data(), want / item, out.data<double>() + first); break;
                default: break;
            }
            done += want;
        }
    }

    // Nothing may follow the data, and a gzip stream must end properly.
    std::byte extra[256];
    std::uint64_t trailing = 0;
    for (std::size_t n = source.read(extra, sizeof extra); n > 0; n = source.read(extra, sizeof extra)) trailing += n;
    VGT_CHECK(trailing == 0, op, "'{}'{}: expected {} data bytes for shape {} of {}, found {} more (trailing bytes)",
              name, compression, data_bytes, shape, idx_type_name(*type), trailing);
    VGT_CHECK(!source.truncated(), op,
              "'{}'{}: expected the gzip stream to end with its checksum after the {} data bytes, found the end of "
              "the compressed input first (truncated gzip stream)",
              name, compression, data_bytes);
    return out;
}

}  // namespace detail

/// Decodes an IDX file's bytes, plain or gzip-compressed (told apart by the
/// magic numbers: IDX starts with 00 00, gzip with 1f 8b). `source_name`
/// names the file in errors.
inline Tensor parse_idx(std::span<const std::byte> bytes, std::string_view source_name) {
    if (is_gzip(bytes)) {
        GzipReader reader(bytes, "read_idx", source_name);
        return detail::read_idx_from(reader, source_name, " (gzip)");
    }
    detail::IdxPlainSource plain(bytes);
    return detail::read_idx_from(plain, source_name, "");
}

/// Reads an IDX file (plain or gzip-compressed) into a new contiguous tensor.
inline Tensor read_idx(const std::string& path) {
    const detail::MappedFile file(path, "read_idx", "an IDX file");
    return parse_idx(file.bytes(), path);
}

/// The IDX type write_idx writes a dtype as when none is given.
inline IdxType default_idx_type(DType dtype) {
    switch (dtype) {
        case DType::UInt8: return IdxType::UInt8;
        case DType::Int64: return IdxType::Int32;
        case DType::Float32: return IdxType::Float32;
        case DType::Float64: return IdxType::Float64;
        default:
            fail("write_idx", "expected a uint8, int64, float32 or float64 tensor, found {}", dtype_name(dtype));
    }
}

/// The bytes of an IDX file holding `t` (a strided view as its row-major
/// values) as elements of `type` (default_idx_type(t.dtype()) if none).
/// Integer tensors (uint8, int64) go to the integer types, every value
/// checked against the type's range; floating tensors (float32, float64) go
/// to float32 or float64, converted.
inline std::vector<std::byte> serialize_idx(const Tensor& t, std::optional<IdxType> type = std::nullopt) {
    constexpr std::string_view op = "write_idx";
    VGT_CHECK(t.defined(), op, "expected a defined tensor, found an empty handle");
    VGT_CHECK(t.device().is_cpu(), op, "expected a CPU tensor, found {}", t.str());
    const IdxType to = type.value_or(default_idx_type(t.dtype()));
    const bool float_type = to == IdxType::Float32 || to == IdxType::Float64;
    const bool float_tensor = t.dtype() == DType::Float32 || t.dtype() == DType::Float64;
    const bool int_tensor = t.dtype() == DType::Int64 || t.dtype() == DType::UInt8;
    VGT_CHECK(float_type ? float_tensor : int_tensor, op, "expected {} tensor for IDX type {}, found {}",
              float_type ? "a float32 or float64" : "a uint8 or int64", idx_type_name(to), dtype_name(t.dtype()));
    const Shape& shape = t.shape();
    for (int i = 0; i < shape.rank(); ++i)
        VGT_CHECK(shape[i] <= std::numeric_limits<std::int32_t>::max(), op,
                  "expected extents that fit in IDX's int32, found shape {}", shape);

    const std::size_t item = idx_type_size(to);
    const std::size_t header = 4 + 4 * static_cast<std::size_t>(shape.rank());
    std::vector<std::byte> out(header + static_cast<std::size_t>(t.numel()) * item);
    out[2] = static_cast<std::byte>(static_cast<std::uint8_t>(to));
    out[3] = static_cast<std::byte>(shape.rank());
    for (int i = 0; i < shape.rank(); ++i)
        detail::store_be(out.data() + 4 + 4 * i, static_cast<std::uint64_t>(shape[i]), 4);

    std::int64_t low = std::numeric_limits<std::int32_t>::min(), high = std::numeric_limits<std::int32_t>::max();
    if (to == IdxType::UInt8) low = 0, high = 255;
    else if (to == IdxType::Int8) low = -128, high = 127;
    else if (to == IdxType::Int16) low = -32768, high = 32767;

    std::byte* dst = out.data() + header;
    const auto* base = static_cast<const std::byte*>(t.impl()->storage->data());
    const std::size_t tensor_item = dtype_size(t.dtype());
    std::int64_t index = 0;
    t.for_each_offset([&](std::int64_t offset) {
        const std::byte* src = base + offset * static_cast<std::int64_t>(tensor_item);
        if (float_type) {
            double value = 0;
            if (t.dtype() == DType::Float32) {
                float f;
                std::memcpy(&f, src, sizeof f);
                value = f;
            } else {
                std::memcpy(&value, src, sizeof value);
            }
            if (to == IdxType::Float32) detail::store_be(dst, std::bit_cast<std::uint32_t>(static_cast<float>(value)), 4);
            else detail::store_be(dst, std::bit_cast<std::uint64_t>(value), 8);
        } else {
            std::int64_t value = 0;
            if (t.dtype() == DType::UInt8) value = static_cast<std::uint8_t>(*src);
            else std::memcpy(&value, src, sizeof value);
            VGT_CHECK(value >= low && value <= high, op, "expected values in [{}, {}] for IDX type {}, found {} at flat index {}",
                      low, high, idx_type_name(to), value, index);
            detail::store_be(dst, static_cast<std::uint64_t>(value), item);  // two's complement, low bytes
        }
        dst += item;
        ++index;
    });
    return out;
}

/// Writes `t` as a (plain) IDX file, atomically: an interrupted write leaves
/// any previous file at `path` intact.
inline void write_idx(const std::string& path, const Tensor& t, std::optional<IdxType> type = std::nullopt) {
    const std::vector<std::byte> bytes = serialize_idx(t, type);
    detail::write_file_atomically(path, bytes, "write_idx");
}

}  // namespace vgt::io
