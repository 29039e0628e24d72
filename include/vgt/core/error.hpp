#pragma once
// vgt::Error: the one exception type the toolkit throws for bad input.
// Messages name the operation, what was expected and what was found.

#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include <fmt/format.h>

namespace vgt {

class Error : public std::runtime_error {
public:
    explicit Error(const std::string& message) : std::runtime_error(message) {}
};

/// Throws vgt::Error with "op: <formatted message>".
template <class... Args>
[[noreturn]] void fail(std::string_view op, fmt::format_string<Args...> format, Args&&... args) {
    throw Error(fmt::format("{}: {}", op, fmt::format(format, std::forward<Args>(args)...)));
}

}  // namespace vgt

/// Checks a precondition of a public operation; on failure throws vgt::Error
/// whose message starts with the operation's name.
#define VGT_CHECK(condition, op, ...)                   \
    do {                                                \
        if (!(condition)) ::vgt::fail((op), __VA_ARGS__); \
    } while (false)
