#pragma once
// NumPy .npy files: how tensors travel between vgt and Python.
//
// Reads format versions 1.0, 2.0 and 3.0 and writes 1.0, byte for byte as
// numpy.save does. Element types: float32 '<f4', float64 '<f8', int64 '<i8'
// and uint8 '|u1' ('<u1' also read), little-endian, C order, rank 0 to
// kMaxRank. Anything else is a vgt::Error naming the file, what was expected
// and what was found: a corrupt file must never crash or read past its end.

#include <algorithm>
#include <bit>
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

namespace vgt::io {

namespace detail {

static_assert(std::endian::native == std::endian::little,
              "vgt's .npy reader and writer copy little-endian data as is");

inline constexpr std::string_view kNpyMagic = "\x93NUMPY";
// numpy.save aligns the start of the data to this many bytes.
inline constexpr std::size_t kNpyAlign = 64;
// numpy.save leaves room for the first extent to grow to this many digits
// (so a file can be appended to in place); matched to write identical bytes.
inline constexpr std::size_t kNpyGrowthDigits = 21;

/// The descr string of a DType, as numpy.save writes it.
inline std::optional<std::string_view> npy_descr(DType dtype) {
    switch (dtype) {
        case DType::Float32: return "<f4";
        case DType::Float64: return "<f8";
        case DType::Int64: return "<i8";
        case DType::UInt8: return "|u1";
        default: return std::nullopt;
    }
}

inline std::optional<DType> dtype_from_descr(std::string_view descr) {
    if (descr == "<f4") return DType::Float32;
    if (descr == "<f8") return DType::Float64;
    if (descr == "<i8") return DType::Int64;
    if (descr == "|u1" || descr == "<u1") return DType::UInt8;
    return std::nullopt;
}

/// The header dictionary of a .npy file.
struct NpyHeader {
    std::string descr;
    bool fortran_order = false;
    std::vector<std::int64_t> shape;
};

/// Parses the Python literal numpy writes as a header, e.g.
/// {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
/// A recursive-descent parser over exactly the grammar the format allows:
/// a dict with the three keys, string / bool / tuple-of-int values.
class NpyHeaderParser {
public:
    NpyHeaderParser(std::string_view text, std::string_view source) : text_(text), source_(source) {}

    NpyHeader parse() {
        NpyHeader header;
        bool have_descr = false, have_order = false, have_shape = false;
        expect('{', "'{' opening the header dictionary");
        while (true) {
            skip_space();
            if (peek() == '}') break;
            const std::string key = parse_string("a quoted key or '}'");
            expect(':', fmt::format("':' after key '{}'", escaped(key)));
            auto once = [&](bool& seen) {
                if (seen) error(fmt::format("key '{}' once", key), "it twice");
                seen = true;
            };
            if (key == "descr") {
                once(have_descr);
                skip_space();
                if (peek() == '[')
                    error("'descr' to be a simple type string such as '<f4'",
                          "a structured dtype (a list of fields)");
                header.descr = parse_string("a quoted type string for 'descr'");
            } else if (key == "fortran_order") {
                once(have_order);
                header.fortran_order = parse_bool();
            } else if (key == "shape") {
                once(have_shape);
                header.shape = parse_shape();
            } else {
                error("only the keys 'descr', 'fortran_order' and 'shape'",
                      fmt::format("unknown key '{}'", escaped(key)));
            }
            skip_space();
            if (peek() == ',') {
                ++pos_;
                continue;
            }
            if (peek() == '}') break;
            error("',' or '}' after a value", describe_here());
        }
        ++pos_;  // '}'
        skip_space();
        if (pos_ != text_.size())
            error("only padding spaces and '\\n' after the dictionary",
                  fmt::format("'{}'", escaped(text_.substr(pos_), 20)));
        if (!have_descr) error("the key 'descr'", "it missing");
        if (!have_order) error("the key 'fortran_order'", "it missing");
        if (!have_shape) error("the key 'shape'", "it missing");
        return header;
    }

private:
    [[noreturn]] void error(std::string_view expected, std::string_view found) const {
        std::string_view shown = text_;  // without numpy's padding
        while (!shown.empty() && (shown.back() == ' ' || shown.back() == '\n')) shown.remove_suffix(1);
        fail("read_npy", "'{}': malformed header: expected {}, found {} (header: \"{}\")", source_, expected, found,
             escaped(shown));
    }

    char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }
    bool at_end() const { return pos_ >= text_.size(); }

    std::string describe_here() const {
        if (at_end()) return "the end of the header";
        return fmt::format("'{}' at offset {}", escaped(text_.substr(pos_, 1)), pos_);
    }

    void skip_space() {
        while (!at_end() && (peek() == ' ' || peek() == '\t' || peek() == '\n' || peek() == '\r')) ++pos_;
    }

    void expect(char c, std::string_view what) {
        skip_space();
        if (at_end() || peek() != c) error(what, describe_here());
        ++pos_;
    }

    std::string parse_string(std::string_view what) {
        skip_space();
        const char quote = peek();
        if (at_end() || (quote != '\'' && quote != '"')) error(what, describe_here());
        ++pos_;
        std::string out;
        while (!at_end() && peek() != quote) {
            // numpy never escapes inside these strings; a backslash means a name we don't support anyway.
            if (peek() == '\\') error("a string without escapes", describe_here());
            out += text_[pos_++];
        }
        if (at_end()) error("a closing quote", "the end of the header");
        ++pos_;
        return out;
    }

    bool parse_bool() {
        skip_space();
        const std::string_view rest = text_.substr(pos_);
        if (rest.starts_with("True")) {
            pos_ += 4;
            return true;
        }
        if (rest.starts_with("False")) {
            pos_ += 5;
            return false;
        }
        error("True or False for 'fortran_order'", describe_here());
    }

    std::int64_t parse_dim(std::size_t index) {
        skip_space();
        const bool negative = peek() == '-';
        if (negative) ++pos_;
        if (at_end() || peek() < '0' || peek() > '9')
            error(fmt::format("an integer extent for dimension {} of 'shape'", index), describe_here());
        std::uint64_t value = 0;
        bool overflow = false;
        while (!at_end() && peek() >= '0' && peek() <= '9') {
            const auto digit = static_cast<std::uint64_t>(peek() - '0');
            if (value > (static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) - digit) / 10)
                overflow = true;
            else
                value = value * 10 + digit;
            ++pos_;
        }
        if (!at_end() && peek() == 'L') ++pos_;  // Python 2 longs
        if (negative)
            fail("read_npy", "'{}': expected non-negative extents in 'shape', found -{} in dimension {}", source_,
                 value, index);
        if (overflow)
            fail("read_npy", "'{}': expected extents that fit in 64 bits in 'shape', found a larger one in dimension {}",
                 source_, index);
        return static_cast<std::int64_t>(value);
    }

    std::vector<std::int64_t> parse_shape() {
        expect('(', "'(' opening the 'shape' tuple");
        std::vector<std::int64_t> dims;
        while (true) {
            skip_space();
            if (peek() == ')') break;
            if (dims.size() >= static_cast<std::size_t>(kMaxRank))
                fail("read_npy", "'{}': expected rank at most {}, found a 'shape' with more than {} dimensions",
                     source_, kMaxRank, kMaxRank);
            dims.push_back(parse_dim(dims.size()));
            skip_space();
            if (peek() == ',') {
                ++pos_;
                continue;
            }
            if (peek() == ')') break;
            error("',' or ')' in the 'shape' tuple", describe_here());
        }
        ++pos_;  // ')'
        return dims;
    }

    std::string_view text_;
    std::string_view source_;
    std::size_t pos_ = 0;
};

inline std::uint32_t read_le(std::span<const std::byte> bytes, std::size_t at, std::size_t width) {
    std::uint32_t v = 0;
    for (std::size_t i = 0; i < width; ++i) v |= static_cast<std::uint32_t>(bytes[at + i]) << (8 * i);
    return v;
}

}  // namespace detail

/// Decodes the bytes of a .npy file; `source_name` names it in errors.
inline Tensor parse_npy(std::span<const std::byte> bytes, std::string_view source_name) {
    using detail::escaped;
    const std::size_t size = bytes.size();
    const std::string_view magic = detail::kNpyMagic;

    // Magic string and version.
    const std::size_t magic_have = std::min(size, magic.size());
    const std::string_view head(reinterpret_cast<const char*>(bytes.data()), magic_have);
    VGT_CHECK(head == magic.substr(0, magic_have) && size >= magic.size() + 2, "read_npy",
              "'{}': expected a .npy file starting with \"\\x93NUMPY\" and a version, found \"{}\" ({} bytes)",
              source_name, escaped(std::string_view(reinterpret_cast<const char*>(bytes.data()), std::min<std::size_t>(size, 8))),
              size);
    const auto major = static_cast<unsigned>(bytes[6]);
    const auto minor = static_cast<unsigned>(bytes[7]);
    VGT_CHECK((major == 1 || major == 2 || major == 3) && minor == 0, "read_npy",
              "'{}': expected format version 1.0, 2.0 or 3.0, found {}.{}", source_name, major, minor);

    // Header length: 2 bytes in version 1, 4 bytes after.
    const std::size_t length_width = major == 1 ? 2 : 4;
    const std::size_t prefix = magic.size() + 2 + length_width;
    VGT_CHECK(size >= prefix, "read_npy", "'{}': truncated: expected at least {} bytes before the header, found {}",
              source_name, prefix, size);
    const std::size_t header_length = detail::read_le(bytes, magic.size() + 2, length_width);
    VGT_CHECK(header_length <= size - prefix, "read_npy",
              "'{}': truncated header: expected {} header bytes, found {}", source_name, header_length, size - prefix);
    const std::string_view header_text(reinterpret_cast<const char*>(bytes.data()) + prefix, header_length);
    const detail::NpyHeader header = detail::NpyHeaderParser(header_text, source_name).parse();

    // Element type, order and shape.
    const std::optional<DType> dtype = detail::dtype_from_descr(header.descr);
    if (!dtype) {
        const bool big_endian = !header.descr.empty() && header.descr[0] == '>';
        fail("read_npy", "'{}': expected dtype '<f4', '<f8', '<i8' or '|u1' (little-endian), found '{}'{}",
             source_name, escaped(header.descr), big_endian ? " (big-endian)" : "");
    }
    VGT_CHECK(!header.fortran_order, "read_npy",
              "'{}': expected 'fortran_order': False (C order), found True (Fortran order; save a C-contiguous array)",
              source_name);
    const Shape shape(header.shape);
    const std::size_t item = dtype_size(*dtype);
    // Bound the product of all extents (zeros counted as one, as strides do) so
    // neither the byte count nor the strides can overflow.
    std::int64_t bound = static_cast<std::int64_t>(item);
    for (const std::int64_t d : header.shape) {
        const std::int64_t factor = std::max<std::int64_t>(d, 1);
        VGT_CHECK(bound <= std::numeric_limits<std::int64_t>::max() / factor, "read_npy",
                  "'{}': expected a shape whose size in bytes fits in 64 bits, found shape {}", source_name, shape);
        bound *= factor;
    }

    // Data: exactly numel * itemsize bytes must follow the header.
    const std::size_t data_offset = prefix + header_length;
    const std::size_t expected_bytes = static_cast<std::size_t>(shape.numel()) * item;
    const std::size_t found_bytes = size - data_offset;
    VGT_CHECK(found_bytes == expected_bytes, "read_npy",
              "'{}': expected {} data bytes for shape {} of {}, found {} ({})", source_name, expected_bytes, shape,
              dtype_name(*dtype), found_bytes, found_bytes < expected_bytes ? "truncated" : "trailing bytes");

    Tensor out = Tensor::empty(shape, *dtype);
    if (expected_bytes > 0) std::memcpy(out.raw_data(), bytes.data() + data_offset, expected_bytes);
    return out;
}

/// The bytes numpy.save would write for `t` (format 1.0). A strided view is
/// written as its logical row-major values.
inline std::vector<std::byte> serialize_npy(const Tensor& t) {
    VGT_CHECK(t.defined(), "write_npy", "expected a defined tensor, found an empty handle");
    VGT_CHECK(t.device().is_cpu(), "write_npy", "expected a CPU tensor, found {}", t.str());
    const std::optional<std::string_view> descr = detail::npy_descr(t.dtype());
    VGT_CHECK(descr.has_value(), "write_npy", "expected a float32, float64, int64 or uint8 tensor, found {}",
              dtype_name(t.dtype()));

    const Shape& shape = t.shape();
    std::string shape_text;
    if (shape.rank() == 1) shape_text = fmt::format("({},)", shape[0]);
    else shape_text = fmt::format("({})", fmt::join(shape.begin(), shape.end(), ", "));
    std::string header = fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': {}, }}", *descr, shape_text);
    if (shape.rank() > 0) {
        const std::size_t digits = fmt::format("{}", shape[0]).size();
        if (digits < detail::kNpyGrowthDigits) header.append(detail::kNpyGrowthDigits - digits, ' ');
    }
    const std::size_t prefix = detail::kNpyMagic.size() + 2 + 2;
    const std::size_t unpadded = prefix + header.size() + 1;  // +1: the final '\n'
    header.append((detail::kNpyAlign - unpadded % detail::kNpyAlign) % detail::kNpyAlign, ' ');
    header += '\n';
    VGT_CHECK(header.size() <= 0xffff, "write_npy", "expected a header under 64 KiB, found {} bytes", header.size());

    const std::size_t item = dtype_size(t.dtype());
    std::vector<std::byte> out(prefix + header.size() + t.nbytes());
    std::memcpy(out.data(), detail::kNpyMagic.data(), detail::kNpyMagic.size());
    out[6] = std::byte{1};
    out[7] = std::byte{0};
    out[8] = static_cast<std::byte>(header.size() & 0xff);
    out[9] = static_cast<std::byte>(header.size() >> 8);
    std::memcpy(out.data() + prefix, header.data(), header.size());
    std::byte* dst = out.data() + prefix + header.size();
    if (t.is_contiguous()) {
        if (t.nbytes() > 0) std::memcpy(dst, t.raw_data(), t.nbytes());
    } else {
        const auto* base = static_cast<const std::byte*>(t.impl()->storage->data());
        t.for_each_offset([&](std::int64_t off) {
            std::memcpy(dst, base + off * static_cast<std::int64_t>(item), item);
            dst += item;
        });
    }
    return out;
}

/// Reads a .npy file into a new contiguous tensor.
inline Tensor read_npy(const std::string& path) {
    const std::vector<std::byte> bytes = detail::read_file(path, "read_npy", "a .npy file");
    return parse_npy(std::span<const std::byte>(bytes.data(), bytes.size()), path);
}

/// Writes `t` as a .npy file, atomically: an interrupted write leaves any
/// previous file at `path` intact.
inline void write_npy(const std::string& path, const Tensor& t) {
    const std::vector<std::byte> bytes = serialize_npy(t);
    detail::write_file_atomically(path, bytes, "write_npy");
}

}  // namespace vgt::io
