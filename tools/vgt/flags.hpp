#pragma once
// Flag parsing shared by the vgt program's commands: `--name value` pairs
// and bare `--name` switches; every flag given must be read by the command,
// so a misspelt flag is an error rather than a silent default.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <exception>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "vgt/core/error.hpp"
#include "vgt/core/parallel.hpp"
#include "vgt/core/shape.hpp"

namespace vgt::cli {

/// A malformed command line (unknown command or flag, a flag without its
/// value, a missing required flag, a number that is not one): the program
/// exits with status 2 instead of 1, so scripts can tell the two apart.
class UsageError : public vgt::Error {
public:
    using vgt::Error::Error;
};

/// Command-line flags: `--name value` pairs and bare `--name` switches.
class Flags {
public:
    /// `positional`, when given, names the flag that a leading bare argument
    /// stands for: `vgt flow in.mp4 --out x.gif` reads as `--input in.mp4`.
    /// `command` names the command in messages ("train", "data preview").
    Flags(const std::vector<std::string>& args, const std::vector<std::string_view>& switches,
          std::string_view positional = {}, std::string_view command = {})
        : positional_(positional), command_(command) {
        for (std::size_t i = 0; i < args.size(); ++i) {
            const std::string& a = args[i];
            if (i == 0 && !positional.empty() && a.rfind("--", 0) != 0) {
                values_[std::string(positional)] = a;
                continue;
            }
            if (a.rfind("--", 0) != 0)
                throw UsageError(fmt::format("{}: expected a --flag, found '{}'", prefix(), a));
            const std::string name = a.substr(2);
            bool is_switch = false;
            for (auto s : switches) is_switch |= (s == name);
            if (is_switch) {
                values_[name] = "true";
            } else {
                if (i + 1 >= args.size())
                    throw UsageError(fmt::format("{}: expected a value after --{}", prefix(), name));
                values_[name] = args[++i];
            }
        }
    }

    std::optional<std::string> get(const std::string& name) {
        auto it = values_.find(name);
        if (it == values_.end()) return std::nullopt;
        used_.push_back(name);
        return it->second;
    }
    std::string text(const std::string& name, const std::string& fallback) { return get(name).value_or(fallback); }
    std::string required(const std::string& name) {
        auto v = get(name);
        if (!v && name == positional_)
            throw UsageError(
                fmt::format("{}: expected a file as the first argument (or --{}), found none", prefix(), name));
        if (!v) throw UsageError(fmt::format("{}: expected --{}", prefix(), name));
        return *v;
    }
    std::int64_t integer(const std::string& name, std::int64_t fallback, std::int64_t min = 1) {
        auto v = get(name);
        if (!v) return fallback;
        std::size_t used = 0;
        std::int64_t n = 0;
        try {
            n = std::stoll(*v, &used);
        } catch (const std::exception&) {
            used = 0;
        }
        if (used != v->size() || n < min)
            throw UsageError(
                fmt::format("{}: expected an integer ≥ {} for --{}, found '{}'", prefix(), min, name, *v));
        return n;
    }
    /// A finite number, or nothing when the flag is absent.
    std::optional<double> number(const std::string& name) {
        auto v = get(name);
        if (!v) return std::nullopt;
        std::size_t used = 0;
        double x = 0;
        try {
            x = std::stod(*v, &used);
        } catch (const std::exception&) {
            used = 0;
        }
        if (used == 0 || used != v->size() || !std::isfinite(x))
            throw UsageError(fmt::format("{}: expected a number for --{}, found '{}'", prefix(), name, *v));
        return x;
    }
    bool flag(const std::string& name) { return get(name).has_value(); }

    /// "vgt train": how messages name the command.
    std::string prefix() const { return command_.empty() ? std::string("vgt") : "vgt " + command_; }

    /// `--threads N`, when given, sets the size of vgt's CPU thread pool.
    void apply_threads() {
        if (!get("threads")) return;
        const std::int64_t n = integer("threads", 1, 1);
        if (n > 1024) throw UsageError(fmt::format("{}: expected --threads at most 1024, found {}", prefix(), n));
        set_num_threads(static_cast<int>(n));
    }

    /// Every flag given must have been read: a typo is an error, not a silent default.
    void require_all_used() const {
        for (const auto& [name, value] : values_) {
            bool used = false;
            for (const auto& u : used_) used |= (u == name);
            if (!used)
                throw UsageError(fmt::format("{}: unknown flag --{} (see `{} --help`)", prefix(), name, prefix()));
        }
    }

private:
    std::string positional_;
    std::string command_;
    std::map<std::string, std::string> values_;
    std::vector<std::string> used_;
};

inline Shape parse_shape(const std::string& text) {
    std::vector<std::int64_t> dims;
    std::size_t start = 0;
    while (start <= text.size()) {
        const std::size_t comma = std::min(text.find(',', start), text.size());
        const std::string part = text.substr(start, comma - start);
        std::size_t used = 0;
        std::int64_t n = 0;
        try {
            n = std::stoll(part, &used);
        } catch (const std::exception&) {
            used = 0;
        }
        if (part.empty() || used != part.size() || n < 1)
            throw UsageError(fmt::format("vgt: expected --shape B,T,C,H,W of positive integers, found '{}'", text));
        dims.push_back(n);
        start = comma + 1;
    }
    if (dims.size() != 5)
        throw UsageError(fmt::format("vgt: expected --shape with 5 extents B,T,C,H,W, found '{}'", text));
    return Shape(dims);
}

}  // namespace vgt::cli
