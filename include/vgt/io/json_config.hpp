#pragma once
// Options structs mirrored in JSON. A struct names its fields once, in a
// `visit_fields(visitor, options)` overload found by argument-dependent
// lookup, and gets both directions from it:
//
//   template <class Visitor> void visit_fields(Visitor& v, MyOptions& o) {
//       v("frames", o.frames);
//       v("speed", o.speed);
//   }
//   MyOptions o = vgt::io::options_from_json<MyOptions>(json, "model");
//   nlohmann::json j = vgt::io::options_to_json(o);
//
// Reading is strict, since a config that silently means something else
// costs a training run: unknown or duplicate keys, wrong types, integers out
// of their field's range and non-finite numbers are vgt::Errors that name
// the key's path ("model.blocks[2].channels") and say what was expected and
// found. Absent keys keep the struct's default; writing emits every field,
// so a checkpoint records the defaults it ran with.
//
// Field types: bool, integers, floating point, std::string, std::vector and
// std::optional of those, nested structs with their own visit_fields, and
// any type with a JsonCodec specialization (enums: see JsonEnumCodec).

#include <array>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "vgt/core/error.hpp"
#include "vgt/io/file.hpp"

namespace vgt::io {

/// Where a value sits in a config document, for error messages:
/// "data.moving_shapes.shapes[1]".
class ConfigPath {
public:
    explicit ConfigPath(std::string root) : text_(std::move(root)) {}
    ConfigPath key(std::string_view name) const {
        return ConfigPath(text_.empty() ? std::string(name) : text_ + "." + std::string(name));
    }
    ConfigPath index(std::size_t i) const { return ConfigPath(fmt::format("{}[{}]", text_, i)); }
    /// The path as messages print it; the document itself is "(top level)".
    std::string text() const { return text_.empty() ? "(top level)" : text_; }

private:
    std::string text_;
};

/// How a field of type T reads from and writes to JSON. Specialize it for a
/// type of your own with `static T read(const nlohmann::json&, const
/// ConfigPath&)` and `static nlohmann::json write(const T&)`.
template <class T>
struct JsonCodec;

namespace detail {

inline constexpr std::string_view kConfigOp = "config";

/// The JSON type of a value, as a message says it ("a string", "an array").
inline std::string json_kind(const nlohmann::json& j) {
    switch (j.type()) {
        case nlohmann::json::value_t::null: return "null";
        case nlohmann::json::value_t::boolean: return fmt::format("the boolean {}", j.get<bool>());
        case nlohmann::json::value_t::string: return fmt::format("the string {}", escaped(j.dump(), 60));
        case nlohmann::json::value_t::array: return fmt::format("an array of {}", j.size());
        case nlohmann::json::value_t::object: return "an object";
        default: return fmt::format("the number {}", escaped(j.dump(), 60));
    }
}

[[noreturn]] inline void config_type_error(const ConfigPath& path, std::string_view expected, const nlohmann::json& found) {
    fail(kConfigOp, "'{}': expected {}, found {}", path.text(), expected, json_kind(found));
}

/// Runs read(), adding the key's path to any error it throws that does not
/// already name a path (errors of nested fields do).
template <class F>
auto with_path(const ConfigPath& path, F&& read) -> decltype(read()) {
    try {
        return read();
    } catch (const Error& e) {
        const std::string message = e.what();
        if (message.rfind("config: '", 0) == 0) throw;
        fail(kConfigOp, "'{}': {}", path.text(), message);
    }
}

/// A visitor that does nothing: detects visit_fields for a struct without
/// instantiating a reader for it.
struct FieldProbe {
    template <class T>
    void operator()(std::string_view, T&) {}
};

template <class T>
concept VisitableOptions = std::is_class_v<T> && requires(FieldProbe& probe, T& t) { visit_fields(probe, t); };

/// Reads the fields of one JSON object into a struct, remembering which keys
/// it used so that the rest can be reported as unknown.
class FieldReader {
public:
    FieldReader(const nlohmann::json& object, ConfigPath path) : object_(object), path_(std::move(path)) {}

    template <class T>
    void operator()(std::string_view key, T& field) {
        known_.emplace_back(key);
        const auto it = object_.find(key);
        if (it == object_.end()) return;
        field = JsonCodec<T>::read(*it, path_.key(key));
    }

    /// Every key of the object must name a field.
    void reject_unknown_keys() const {
        for (const auto& [key, value] : object_.items()) {
            bool known = false;
            for (const std::string& k : known_) known |= (k == key);
            if (!known)
                fail(kConfigOp, "'{}': unknown key '{}' (expected one of: {})", path_.text(), escaped(key, 60),
                     fmt::join(known_, ", "));
        }
    }

private:
    const nlohmann::json& object_;
    ConfigPath path_;
    std::vector<std::string> known_;
};

/// Writes every field of a struct into one JSON object, in field order.
class FieldWriter {
public:
    template <class T>
    void operator()(std::string_view key, T& field) {
        object_[std::string(key)] = JsonCodec<T>::write(field);
    }
    nlohmann::json take() { return std::move(object_); }

private:
    nlohmann::json object_ = nlohmann::json::object();
};

}  // namespace detail

template <>
struct JsonCodec<bool> {
    static bool read(const nlohmann::json& j, const ConfigPath& path) {
        if (!j.is_boolean()) detail::config_type_error(path, "true or false", j);
        return j.get<bool>();
    }
    static nlohmann::json write(bool v) { return v; }
};

template <std::integral T>
struct JsonCodec<T> {
    static T read(const nlohmann::json& j, const ConfigPath& path) {
        constexpr auto lo = std::numeric_limits<T>::min();
        constexpr auto hi = std::numeric_limits<T>::max();
        const std::string expected = std::is_same_v<T, std::int64_t>    ? std::string("an integer")
                                     : std::is_same_v<T, std::uint64_t> ? std::string("an integer >= 0")
                                                                        : fmt::format("an integer in [{}, {}]", lo, hi);
        if (j.is_number_unsigned()) {
            const auto v = j.get<std::uint64_t>();
            if (v > static_cast<std::uint64_t>(hi)) detail::config_type_error(path, expected, j);
            return static_cast<T>(v);
        }
        if (j.is_number_integer()) {
            const auto v = j.get<std::int64_t>();
            if (std::cmp_less(v, lo) || std::cmp_greater(v, hi)) detail::config_type_error(path, expected, j);
            return static_cast<T>(v);
        }
        detail::config_type_error(path, expected, j);
    }
    static nlohmann::json write(T v) { return v; }
};

template <std::floating_point T>
struct JsonCodec<T> {
    static T read(const nlohmann::json& j, const ConfigPath& path) {
        if (!j.is_number()) detail::config_type_error(path, "a number", j);
        const double v = j.get<double>();
        const auto hi = static_cast<double>(std::numeric_limits<T>::max());
        if (!std::isfinite(v) || std::abs(v) > hi) detail::config_type_error(path, "a finite number", j);
        return static_cast<T>(v);
    }
    static nlohmann::json write(T v) {
        VGT_CHECK(std::isfinite(v), detail::kConfigOp, "expected finite numbers to write, found {}", v);
        return v;
    }
};

template <>
struct JsonCodec<std::string> {
    static std::string read(const nlohmann::json& j, const ConfigPath& path) {
        if (!j.is_string()) detail::config_type_error(path, "a string", j);
        return j.get<std::string>();
    }
    static nlohmann::json write(const std::string& v) { return v; }
};

template <class T>
struct JsonCodec<std::vector<T>> {
    static std::vector<T> read(const nlohmann::json& j, const ConfigPath& path) {
        if (!j.is_array()) detail::config_type_error(path, "an array", j);
        std::vector<T> out;
        out.reserve(j.size());
        for (std::size_t i = 0; i < j.size(); ++i) out.push_back(JsonCodec<T>::read(j[i], path.index(i)));
        return out;
    }
    static nlohmann::json write(const std::vector<T>& v) {
        nlohmann::json out = nlohmann::json::array();
        for (const T& x : v) out.push_back(JsonCodec<T>::write(x));
        return out;
    }
};

template <class T, std::size_t N>
struct JsonCodec<std::array<T, N>> {
    static std::array<T, N> read(const nlohmann::json& j, const ConfigPath& path) {
        if (!j.is_array() || j.size() != N) detail::config_type_error(path, fmt::format("an array of {}", N), j);
        std::array<T, N> out{};
        for (std::size_t i = 0; i < N; ++i) out[i] = JsonCodec<T>::read(j[i], path.index(i));
        return out;
    }
    static nlohmann::json write(const std::array<T, N>& v) {
        nlohmann::json out = nlohmann::json::array();
        for (const T& x : v) out.push_back(JsonCodec<T>::write(x));
        return out;
    }
};

/// null (or an absent key) is nullopt.
template <class T>
struct JsonCodec<std::optional<T>> {
    static std::optional<T> read(const nlohmann::json& j, const ConfigPath& path) {
        if (j.is_null()) return std::nullopt;
        return JsonCodec<T>::read(j, path);
    }
    static nlohmann::json write(const std::optional<T>& v) { return v ? JsonCodec<T>::write(*v) : nlohmann::json(nullptr); }
};

/// Nested options structs: a JSON object, read field by field.
template <detail::VisitableOptions T>
struct JsonCodec<T> {
    static T read(const nlohmann::json& j, const ConfigPath& path) {
        if (!j.is_object()) detail::config_type_error(path, "an object", j);
        T options{};
        detail::FieldReader reader(j, path);
        visit_fields(reader, options);
        reader.reject_unknown_keys();
        return options;
    }
    static nlohmann::json write(const T& options) {
        T copy = options;  // visit_fields takes a mutable struct; writing only reads it
        detail::FieldWriter writer;
        visit_fields(writer, copy);
        return writer.take();
    }
};

/// A codec for an enum stored as its name: JsonCodec<E> can derive from
/// JsonEnumCodec<E, name_of, parse> with the enum's own name functions;
/// parse's error, which lists the valid names, gets the key's path.
template <class E, auto name_of, auto parse>
struct JsonEnumCodec {
    static E read(const nlohmann::json& j, const ConfigPath& path) {
        if (!j.is_string()) detail::config_type_error(path, "a name (a string)", j);
        const std::string name = j.get<std::string>();
        return detail::with_path(path, [&] { return static_cast<E>(parse(name)); });
    }
    static nlohmann::json write(E v) { return std::string(name_of(v)); }
};

/// Limits on a config document: far beyond any real one, they bound what a
/// hostile file can make the parser allocate or recurse into.
inline constexpr std::size_t kMaxConfigBytes = std::size_t{16} << 20;
inline constexpr int kMaxConfigDepth = 64;

/// Parses JSON text as a config document. Syntax errors say where (byte
/// offset); duplicate keys in an object and nesting deeper than
/// kMaxConfigDepth are errors too. `source` names the text in messages.
inline nlohmann::json parse_json_config(std::string_view text, std::string_view source) {
    constexpr std::string_view op = detail::kConfigOp;
    VGT_CHECK(text.size() <= kMaxConfigBytes, op, "'{}': expected a config of at most {} bytes, found {}", source,
              kMaxConfigBytes, text.size());
    // The keys seen in each open object, innermost last.
    std::vector<std::set<std::string>> open_objects;
    auto callback = [&](int depth, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
        using Event = nlohmann::json::parse_event_t;
        if (depth >= kMaxConfigDepth)
            fail(op, "'{}': expected JSON nested at most {} deep, found deeper", source, kMaxConfigDepth);
        if (event == Event::object_start) open_objects.emplace_back();
        if (event == Event::object_end && !open_objects.empty()) open_objects.pop_back();
        if (event == Event::key && !open_objects.empty()) {
            const std::string key = parsed.get<std::string>();
            if (!open_objects.back().insert(key).second)
                fail(op, "'{}': expected each key once in an object, found '{}' twice", source,
                     detail::escaped(key, 60));
        }
        return true;
    };
    try {
        return nlohmann::json::parse(text.begin(), text.end(), callback);
    } catch (const nlohmann::json::exception& e) {
        // nlohmann's message says what it expected at which byte.
        fail(op, "'{}': expected a JSON document, found a syntax error: {}", source, e.what());
    }
}

/// Reads and parses a JSON config file.
inline nlohmann::json read_json_config(const std::string& path) {
    const std::vector<std::byte> bytes = detail::read_file(path, detail::kConfigOp, "a JSON config file");
    return parse_json_config(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()), path);
}

/// The options struct T from a JSON object: keys absent from `j` keep T's
/// defaults. `root` names the object in messages ("model", or "" for the top).
template <detail::VisitableOptions T>
T options_from_json(const nlohmann::json& j, std::string root = "") {
    return JsonCodec<T>::read(j, ConfigPath(std::move(root)));
}

/// Every field of an options struct as a JSON object.
template <detail::VisitableOptions T>
nlohmann::json options_to_json(const T& options) {
    return JsonCodec<T>::write(options);
}

}  // namespace vgt::io
