#pragma once
// safetensors files: how named parameters (checkpoints) travel between vgt
// and PyTorch.
//
// Layout: an 8-byte little-endian header length N, N bytes of JSON, then the
// data buffer. The JSON maps each tensor name to
// {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]} (offsets
// into the data buffer, row-major little-endian data), plus an optional
// "__metadata__" object of string to string. Element types: F32, F64, BF16,
// F16, I64 and U8. The reader checks the whole header before it copies any
// data; anything malformed is a vgt::Error naming the file, what was
// expected and what was found: no byte sequence may crash it or make it read
// past the end of the file.

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <map>
#include <numeric>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "vgt/core/dtype.hpp"
#include "vgt/core/error.hpp"
#include "vgt/core/shape.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/io/file.hpp"
#include "vgt/ops/view.hpp"

namespace vgt::io {

/// The tensors and metadata of one safetensors file.
struct SafetensorsFile {
    /// In the order the header lists them (vgt writes them in the order
    /// given; the safetensors library sorts them by element size, then name).
    std::vector<std::pair<std::string, Tensor>> tensors;
    std::map<std::string, std::string> metadata;
    /// The path (or name) the file was read from, for error messages.
    std::string source;

    bool contains(std::string_view name) const { return find(name) != nullptr; }

    /// The tensor called `name`; an Error naming it and the tensors there are
    /// when there is none. A linear search: look tensors up once, not per step.
    const Tensor& at(std::string_view name) const {
        if (const Tensor* t = find(name)) return *t;
        constexpr std::size_t shown = 8;
        std::vector<std::string> names;
        for (std::size_t i = 0; i < tensors.size() && i < shown; ++i)
            names.push_back(fmt::format("'{}'", detail::escaped(tensors[i].first, 80)));
        if (tensors.size() > shown) names.push_back(fmt::format("and {} more", tensors.size() - shown));
        fail("SafetensorsFile::at", "{}expected a tensor named '{}', found none among {} tensor{}{}{}",
             source.empty() ? "" : fmt::format("'{}': ", source), detail::escaped(name, 80), tensors.size(),
             tensors.size() == 1 ? "" : "s", names.empty() ? "" : ": ", fmt::join(names, ", "));
    }

private:
    const Tensor* find(std::string_view name) const {
        for (const auto& [key, tensor] : tensors)
            if (key == name) return &tensor;
        return nullptr;
    }
};

namespace detail {

static_assert(std::endian::native == std::endian::little,
              "vgt's safetensors reader and writer copy little-endian data as is");

// Small objects (one tensor's fields, the metadata); the top level is read
// by SafetensorsHeaderReader, which keeps the header's order.
using SafetensorsJson = nlohmann::json;

/// The reference implementation refuses larger headers; so does vgt, which
/// bounds the memory a hostile header can make the JSON parser allocate.
inline constexpr std::uint64_t kSafetensorsMaxHeader = 100'000'000;
inline constexpr std::string_view kSafetensorsMetadataKey = "__metadata__";

inline std::string_view safetensors_dtype(DType dtype) {
    switch (dtype) {
        case DType::Float32: return "F32";
        case DType::Float64: return "F64";
        case DType::BFloat16: return "BF16";
        case DType::Float16: return "F16";
        case DType::Int64: return "I64";
        case DType::UInt8: return "U8";
    }
    return "?";
}

inline std::optional<DType> dtype_from_safetensors(std::string_view name) {
    for (const DType d : {DType::Float32, DType::Float64, DType::BFloat16, DType::Float16, DType::Int64, DType::UInt8})
        if (safetensors_dtype(d) == name) return d;
    return std::nullopt;
}

/// Element types of the format that vgt tensors cannot hold, named as such in errors.
inline bool is_other_safetensors_dtype(std::string_view name) {
    for (const std::string_view known : {"BOOL", "I8", "I16", "U16", "I32", "U32", "U64", "F8_E4M3", "F8_E5M2",
                                         "F8_E8M0", "F6_E2M3", "F6_E3M2", "F4", "C64"})
        if (name == known) return true;
    return false;
}

/// One tensor's header entry, checked.
struct SafetensorsEntry {
    std::string name;
    DType dtype = DType::Float32;
    Shape shape;
    std::uint64_t begin = 0, end = 0;
};

/// A JSON number that is a non-negative integer, as an unsigned value.
inline std::optional<std::uint64_t> json_unsigned(const SafetensorsJson& v) {
    if (v.is_number_unsigned()) return v.get<std::uint64_t>();
    if (v.is_number_integer() && v.get<std::int64_t>() >= 0) return static_cast<std::uint64_t>(v.get<std::int64_t>());
    return std::nullopt;
}

/// A short rendering of an untrusted JSON value for error messages.
inline std::string json_excerpt(const SafetensorsJson& v) { return escaped(v.dump(), 60); }

/// Checks one tensor's entry against the data buffer's size.
inline SafetensorsEntry parse_safetensors_entry(const std::string& name, const SafetensorsJson& value,
                                                std::uint64_t buffer_size, std::string_view source) {
    const std::string shown = escaped(name, 80);
    VGT_CHECK(value.is_object(), "read_safetensors",
              "'{}': tensor '{}': expected an object with 'dtype', 'shape' and 'data_offsets', found {} {}", source,
              shown, value.type_name(), json_excerpt(value));
    for (const auto& item : value.items()) {
        const std::string& key = item.key();
        VGT_CHECK(key == "dtype" || key == "shape" || key == "data_offsets", "read_safetensors",
                  "'{}': tensor '{}': expected only the keys 'dtype', 'shape' and 'data_offsets', found '{}'", source,
                  shown, escaped(key, 80));
    }
    for (const char* key : {"dtype", "shape", "data_offsets"})
        VGT_CHECK(value.contains(key), "read_safetensors", "'{}': tensor '{}': expected the key '{}', found it missing",
                  source, shown, key);

    SafetensorsEntry entry;
    entry.name = name;

    const SafetensorsJson& dtype = value["dtype"];
    VGT_CHECK(dtype.is_string(), "read_safetensors", "'{}': tensor '{}': expected a string 'dtype', found {}", source,
              shown, json_excerpt(dtype));
    const std::string& dtype_text = dtype.get_ref<const std::string&>();
    const std::optional<DType> parsed_dtype = dtype_from_safetensors(dtype_text);
    VGT_CHECK(parsed_dtype.has_value(), "read_safetensors",
              "'{}': tensor '{}': expected dtype F32, F64, BF16, F16, I64 or U8, found '{}' ({})", source, shown,
              escaped(dtype_text, 40),
              is_other_safetensors_dtype(dtype_text) ? "a safetensors dtype vgt tensors cannot hold"
                                                     : "not a safetensors dtype");
    entry.dtype = *parsed_dtype;

    const SafetensorsJson& shape = value["shape"];
    VGT_CHECK(shape.is_array(), "read_safetensors", "'{}': tensor '{}': expected 'shape' to be an array, found {}",
              source, shown, json_excerpt(shape));
    VGT_CHECK(shape.size() <= static_cast<std::size_t>(kMaxRank), "read_safetensors",
              "'{}': tensor '{}': expected rank at most {}, found a 'shape' of {} dimensions", source, shown, kMaxRank,
              shape.size());
    // Bound the product of all extents (zeros counted as one, as strides do)
    // so neither the byte count nor the strides can overflow.
    std::uint64_t bound = dtype_size(entry.dtype);
    constexpr auto kMax = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
    for (std::size_t i = 0; i < shape.size(); ++i) {
        const std::optional<std::uint64_t> d = json_unsigned(shape[i]);
        VGT_CHECK(d.has_value(), "read_safetensors",
                  "'{}': tensor '{}': expected a non-negative integer extent in dimension {} of 'shape', found {}",
                  source, shown, i, json_excerpt(shape[i]));
        const std::uint64_t factor = std::max<std::uint64_t>(*d, 1);
        VGT_CHECK(factor <= kMax / bound, "read_safetensors",
                  "'{}': tensor '{}': expected a shape whose size in bytes fits in 64 bits, found 'shape' {}", source,
                  shown, json_excerpt(shape));
        bound *= factor;
        entry.shape.push_back(static_cast<std::int64_t>(*d));
    }
    const std::uint64_t nbytes = static_cast<std::uint64_t>(entry.shape.numel()) * dtype_size(entry.dtype);

    const SafetensorsJson& offsets = value["data_offsets"];
    const std::optional<std::uint64_t> begin =
        offsets.is_array() && offsets.size() == 2 ? json_unsigned(offsets[0]) : std::nullopt;
    const std::optional<std::uint64_t> end =
        offsets.is_array() && offsets.size() == 2 ? json_unsigned(offsets[1]) : std::nullopt;
    VGT_CHECK(begin && end, "read_safetensors",
              "'{}': tensor '{}': expected 'data_offsets' to be [begin, end] with non-negative integers, found {}",
              source, shown, json_excerpt(offsets));
    VGT_CHECK(*begin <= *end, "read_safetensors",
              "'{}': tensor '{}': expected data_offsets with begin <= end, found [{}, {}]", source, shown, *begin,
              *end);
    VGT_CHECK(
        *end - *begin == nbytes, "read_safetensors",
        "'{}': tensor '{}': expected data_offsets spanning {} bytes for shape {} of {}, found [{}, {}] ({} bytes)",
        source, shown, nbytes, entry.shape, dtype_text, *begin, *end, *end - *begin);
    VGT_CHECK(*end <= buffer_size, "read_safetensors",
              "'{}': tensor '{}': expected data_offsets within the {}-byte data buffer, found [{}, {}] (truncated "
              "file?)",
              source, shown, buffer_size, *begin, *end);
    entry.begin = *begin;
    entry.end = *end;
    return entry;
}

/// A checked header: the tensors in header order and the metadata.
struct SafetensorsHeader {
    std::vector<SafetensorsEntry> tensors;
    std::map<std::string, std::string> metadata;
};

/// Reads the header JSON as events (SAX) and checks each top-level entry as
/// soon as its value is complete, keeping only the checked result. Unlike
/// building a JSON document, this keeps the header's order, takes time
/// linear in the number of tensors, and rejects early what no valid header
/// holds but a document would silently accept: a key twice in one object
/// (a document keeps the last), nesting deeper than name -> field -> shape,
/// and arrays longer than a shape can be. Memory stays proportional to what
/// it returns, whatever a hostile header holds.
class SafetensorsHeaderReader {
public:
    using Json = SafetensorsJson;

    SafetensorsHeaderReader(std::uint64_t buffer_size, std::string_view source)
        : buffer_size_(buffer_size), source_(source) {}

    SafetensorsHeader read(std::string_view header) && {
        const bool parsed = Json::sax_parse(header.begin(), header.end(), this);
        if (!parsed)
            fail("read_safetensors", "'{}': expected a JSON header, found invalid JSON ({})", source_, parse_error_);
        return std::move(result_);
    }

    // The event interface nlohmann::json's parser calls.
    bool null() { return add(Json(nullptr)); }
    bool boolean(bool v) { return add(Json(v)); }
    bool number_integer(Json::number_integer_t v) { return add(Json(v)); }
    bool number_unsigned(Json::number_unsigned_t v) { return add(Json(v)); }
    bool number_float(Json::number_float_t v, const Json::string_t&) { return add(Json(v)); }
    bool string(Json::string_t& v) { return add(Json(std::move(v))); }
    bool binary(Json::binary_t&) { return add(Json()); }  // not produced by the text parser
    bool start_object(std::size_t) { return open(Json::object()); }
    bool start_array(std::size_t) { return open(Json::array()); }
    bool end_object() { return close(); }
    bool end_array() { return close(); }
    bool key(Json::string_t& key) {
        if (depth_ == 1) {
            if (!names_.insert(key).second)
                fail("read_safetensors", "'{}': expected every name once in the header, found '{}' twice", source_,
                     escaped(key, 80));
            name_ = std::move(key);
            field_.clear();
            return true;
        }
        if (!in_metadata() && stack_.back()->contains(key))  // metadata: checked as it is stored
            fail("read_safetensors", "'{}': expected every key once in '{}', found '{}' twice", source_,
                 escaped(name_, 80), escaped(key, 80));
        if (depth_ == 2) field_ = key;
        key_ = std::move(key);
        return true;
    }
    bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) {
        parse_error_ = escaped(e.what(), 240);
        return false;
    }

private:
    static constexpr int kMaxNesting = 3;
    static constexpr std::size_t kMaxArrayItems = static_cast<std::size_t>(kMaxRank);

    /// Places a value where the parser is: a top-level entry's value, an
    /// array element or an object member. The pointers on the stack stay
    /// valid: a container only grows after its open children are closed.
    Json* place(Json&& value) {
        if (depth_ == 0) {
            // Unreachable while the header must start with '{'; kept for safety.
            fail("read_safetensors", "'{}': expected a JSON object as the header, found {}", source_,
                 value.type_name());
        }
        if (depth_ == 1) return &(entry_ = std::move(value));
        if (in_metadata()) {
            // Straight into the result: no second copy of a large metadata object.
            VGT_CHECK(value.is_string(), "read_safetensors",
                      "'{}': expected string values in '__metadata__', found {} for '{}'", source_, json_excerpt(value),
                      escaped(key_, 80));
            if (!result_.metadata.emplace(key_, std::move(value.get_ref<std::string&>())).second)
                fail("read_safetensors", "'{}': expected every key once in '__metadata__', found '{}' twice", source_,
                     escaped(key_, 80));
            return nullptr;  // a string: never a container to descend into
        }
        Json& parent = *stack_.back();
        if (parent.is_array()) {
            if (parent.size() >= kMaxArrayItems)
                fail("read_safetensors",
                     "'{}': expected arrays of at most {} numbers (a 'shape' of rank at most {}, or "
                     "'data_offsets'), found a longer array under {}",
                     source_, kMaxArrayItems, kMaxRank, where());
            parent.push_back(std::move(value));
            return &parent.back();
        }
        return &(parent[key_] = std::move(value));
    }

    /// Inside the "__metadata__" object, where values are strings.
    bool in_metadata() const { return depth_ == 2 && name_ == kSafetensorsMetadataKey && stack_.back()->is_object(); }

    bool add(Json&& value) {
        place(std::move(value));
        if (depth_ == 1) finish_entry();
        return true;
    }

    bool open(Json&& container) {
        if (depth_ == 0 && container.is_object()) {
            depth_ = 1;  // the top-level object itself is not built
            return true;
        }
        if (depth_ >= kMaxNesting)
            fail("read_safetensors",
                 "'{}': expected at most {} levels of nesting (name, field, shape), found deeper nesting under {}",
                 source_, kMaxNesting, where());
        stack_.push_back(place(std::move(container)));
        ++depth_;
        return true;
    }

    bool close() {
        if (!stack_.empty()) stack_.pop_back();
        if (--depth_ == 1) finish_entry();
        return true;
    }

    void finish_entry() {
        if (name_ == kSafetensorsMetadataKey) {
            VGT_CHECK(entry_.is_object(), "read_safetensors",
                      "'{}': expected '__metadata__' to be an object of strings, found {}", source_,
                      entry_.type_name());  // its strings went to the result as they came
        } else {
            result_.tensors.push_back(parse_safetensors_entry(name_, entry_, buffer_size_, source_));
        }
        entry_ = Json();
    }

    std::string where() const {
        if (field_.empty() || depth_ < 2) return fmt::format("'{}'", escaped(name_, 80));
        return fmt::format("'{}' key '{}'", escaped(name_, 80), escaped(field_, 80));
    }

    std::uint64_t buffer_size_;
    std::string_view source_;
    SafetensorsHeader result_;
    std::unordered_set<std::string> names_;
    Json entry_;                // the value of the top-level entry being read
    std::vector<Json*> stack_;  // its open containers
    int depth_ = 0;             // 1 inside the top-level object
    std::string name_, field_, key_;
    std::string parse_error_;
};

/// The format demands that the tensors tile the data buffer exactly: no
/// byte shared by two tensors, none left over.
inline void check_safetensors_coverage(const std::vector<SafetensorsEntry>& entries, std::uint64_t buffer_size,
                                       std::string_view source) {
    std::vector<std::size_t> order(entries.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        return std::pair(entries[a].begin, entries[a].end) < std::pair(entries[b].begin, entries[b].end);
    });
    std::uint64_t covered = 0;
    const SafetensorsEntry* previous = nullptr;
    for (const std::size_t i : order) {
        const SafetensorsEntry& e = entries[i];
        if (e.begin < covered)
            fail("read_safetensors",
                 "'{}': expected tensors that do not overlap, found '{}' at [{}, {}) overlapping '{}' at [{}, {})",
                 source, escaped(e.name, 80), e.begin, e.end, escaped(previous->name, 80), previous->begin,
                 previous->end);
        if (e.begin > covered)
            fail("read_safetensors",
                 "'{}': expected tensors that cover the data buffer without holes, found bytes [{}, {}) that no "
                 "tensor covers (before '{}')",
                 source, covered, e.begin, escaped(e.name, 80));
        covered = e.end;
        previous = &e;
    }
    VGT_CHECK(covered == buffer_size, "read_safetensors",
              "'{}': expected tensors that cover the {}-byte data buffer, found bytes [{}, {}) after the last tensor "
              "that no tensor covers",
              source, buffer_size, covered, buffer_size);
}

/// True when `text` is valid UTF-8, as JSON requires.
inline bool is_utf8(const std::string& text) {
    try {
        (void)SafetensorsJson(text).dump();
        return true;
    } catch (const SafetensorsJson::type_error&) {
        return false;
    }
}

}  // namespace detail

/// Decodes the bytes of a safetensors file into owned CPU tensors;
/// `source_name` names it in errors.
inline SafetensorsFile parse_safetensors(std::span<const std::byte> bytes, std::string_view source_name) {
    using detail::escaped;
    const std::uint64_t size = bytes.size();
    VGT_CHECK(size >= 8, "read_safetensors", "'{}': expected at least 8 bytes (the header length), found {} bytes",
              source_name, size);
    std::uint64_t header_length = 0;
    for (int i = 0; i < 8; ++i)
        header_length |= static_cast<std::uint64_t>(bytes[static_cast<std::size_t>(i)]) << (8 * i);
    VGT_CHECK(header_length <= detail::kSafetensorsMaxHeader, "read_safetensors",
              "'{}': expected a header length of at most {} bytes, found {}", source_name,
              detail::kSafetensorsMaxHeader, header_length);
    VGT_CHECK(header_length <= size - 8, "read_safetensors",
              "'{}': truncated header: expected {} header bytes after the length, found {} (the file has {} bytes)",
              source_name, header_length, size - 8, size);
    const std::string_view header(reinterpret_cast<const char*>(bytes.data()) + 8,
                                  static_cast<std::size_t>(header_length));
    VGT_CHECK(!header.empty() && header.front() == '{', "read_safetensors",
              "'{}': expected a JSON header starting with '{{', found \"{}\"", source_name, escaped(header, 20));
    // The JSON parser would take a NUL byte for the end of its input and ignore what follows.
    const std::size_t nul = header.find('\0');
    VGT_CHECK(nul == std::string_view::npos, "read_safetensors",
              "'{}': expected a JSON header without NUL bytes, found one at header offset {}", source_name, nul);

    // The whole header is checked before any data is read.
    const std::uint64_t data_start = 8 + header_length;
    const std::uint64_t buffer_size = size - data_start;
    detail::SafetensorsHeader checked = detail::SafetensorsHeaderReader(buffer_size, source_name).read(header);
    detail::check_safetensors_coverage(checked.tensors, buffer_size, source_name);

    // Copies, not views into the file: the tensors outlive the mapping, can
    // be written to, and start aligned whatever the file's offsets are.
    SafetensorsFile file;
    file.source = std::string(source_name);
    file.metadata = std::move(checked.metadata);
    file.tensors.reserve(checked.tensors.size());
    const std::byte* data = bytes.data() + data_start;
    for (detail::SafetensorsEntry& e : checked.tensors) {
        Tensor t = Tensor::empty(e.shape, e.dtype);
        if (e.end > e.begin) std::memcpy(t.raw_data(), data + e.begin, static_cast<std::size_t>(e.end - e.begin));
        file.tensors.emplace_back(std::move(e.name), std::move(t));
    }
    return file;
}

/// The bytes of a safetensors file holding `tensors` (any CPU tensors;
/// strided views are written as their row-major values) and `metadata`.
/// The header lists the tensors in the given order; the data is laid out by
/// decreasing element size, so that every tensor starts aligned to its
/// element size for readers that map the file.
inline std::vector<std::byte> serialize_safetensors(const std::vector<std::pair<std::string, Tensor>>& tensors,
                                                    const std::map<std::string, std::string>& metadata = {}) {
    using detail::escaped;
    std::unordered_set<std::string_view> seen;
    for (const auto& [name, t] : tensors) {
        VGT_CHECK(name != detail::kSafetensorsMetadataKey, "write_safetensors",
                  "expected tensor names other than '__metadata__' (reserved for metadata), found it");
        VGT_CHECK(detail::is_utf8(name), "write_safetensors", "expected UTF-8 tensor names, found '{}'",
                  escaped(name, 80));
        VGT_CHECK(seen.insert(name).second, "write_safetensors", "expected unique tensor names, found '{}' twice",
                  escaped(name, 80));
        VGT_CHECK(t.defined(), "write_safetensors", "tensor '{}': expected a defined tensor, found an empty handle",
                  escaped(name, 80));
        VGT_CHECK(t.device().is_cpu(), "write_safetensors",
                  "tensor '{}': expected a CPU tensor, found {} (copy it with to(x, Device::cpu()))", escaped(name, 80),
                  t.str());
    }
    for (const auto& [key, value] : metadata)
        VGT_CHECK(detail::is_utf8(key) && detail::is_utf8(value), "write_safetensors",
                  "expected UTF-8 metadata, found '{}': '{}'", escaped(key, 80), escaped(value, 80));

    std::vector<std::size_t> layout(tensors.size());
    std::iota(layout.begin(), layout.end(), std::size_t{0});
    std::stable_sort(layout.begin(), layout.end(), [&](std::size_t a, std::size_t b) {
        return dtype_size(tensors[a].second.dtype()) > dtype_size(tensors[b].second.dtype());
    });
    std::vector<std::uint64_t> begin(tensors.size());
    std::uint64_t buffer_size = 0;
    for (const std::size_t i : layout) {
        begin[i] = buffer_size;
        buffer_size += tensors[i].second.nbytes();
    }

    // Top-level entries joined by hand, in the order given (a JSON object
    // would sort them); fields in the order the safetensors library writes.
    std::string header = "{";
    if (!metadata.empty()) {
        header += fmt::format("\"{}\":{}", detail::kSafetensorsMetadataKey, detail::SafetensorsJson(metadata).dump());
    }
    for (std::size_t i = 0; i < tensors.size(); ++i) {
        const Tensor& t = tensors[i].second;
        nlohmann::ordered_json entry = nlohmann::ordered_json::object();
        entry["dtype"] = detail::safetensors_dtype(t.dtype());
        entry["shape"] = t.shape().vec();
        entry["data_offsets"] = nlohmann::ordered_json::array({begin[i], begin[i] + t.nbytes()});
        if (header.size() > 1) header += ',';
        header += detail::SafetensorsJson(tensors[i].first).dump();
        header += ':';
        header += entry.dump();
    }
    header += '}';
    header.append((8 - header.size() % 8) % 8, ' ');  // the data starts 8-byte aligned
    VGT_CHECK(header.size() <= detail::kSafetensorsMaxHeader, "write_safetensors",
              "expected a header of at most {} bytes (what readers accept), found {}", detail::kSafetensorsMaxHeader,
              header.size());

    std::vector<std::byte> out(8 + header.size() + buffer_size);
    for (int i = 0; i < 8; ++i)
        out[static_cast<std::size_t>(i)] =
            static_cast<std::byte>((static_cast<std::uint64_t>(header.size()) >> (8 * i)) & 0xff);
    std::memcpy(out.data() + 8, header.data(), header.size());
    std::byte* data = out.data() + 8 + header.size();
    for (std::size_t i = 0; i < tensors.size(); ++i) {
        const Tensor t = vgt::detail::contiguous_data(tensors[i].second);
        if (t.nbytes() > 0) std::memcpy(data + begin[i], t.raw_data(), t.nbytes());
    }
    return out;
}

/// Reads a safetensors file into owned CPU tensors. The file is mapped into
/// memory and each tensor copied out of the mapping once.
inline SafetensorsFile read_safetensors(const std::string& path) {
    const detail::MappedFile mapped(path, "read_safetensors", "a .safetensors file");
    return parse_safetensors(mapped.bytes(), path);
}

/// Writes a safetensors file atomically: an interrupted or failed write
/// leaves any previous file at `path` intact.
inline void write_safetensors(const std::string& path, const std::vector<std::pair<std::string, Tensor>>& tensors,
                              const std::map<std::string, std::string>& metadata = {}) {
    const std::vector<std::byte> bytes = serialize_safetensors(tensors, metadata);
    detail::write_file_atomically(path, bytes, "write_safetensors");
}

}  // namespace vgt::io
