#pragma once
// vgt's version. CMakeLists.txt reads its project version from this line,
// so the two cannot disagree.

#include <string_view>

namespace vgt {

inline constexpr std::string_view kVersion = "0.1.0";

}  // namespace vgt
