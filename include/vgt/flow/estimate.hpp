#pragma once
// Choosing a flow estimator by name at run time (the `vgt flow` command,
// metrics that need some flow): each method with its default options.

#include <string>
#include <string_view>

#include "vgt/core/error.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/flow/horn_schunck.hpp"
#include "vgt/flow/lucas_kanade.hpp"

namespace vgt::flow {

enum class FlowMethod {
    HornSchunck,  // horn_schunck.hpp
    LucasKanade,  // lucas_kanade.hpp
};

/// "hs" or "horn_schunck", "lk" or "lucas_kanade".
inline FlowMethod parse_flow_method(std::string_view name) {
    if (name == "hs" || name == "horn_schunck") return FlowMethod::HornSchunck;
    if (name == "lk" || name == "lucas_kanade") return FlowMethod::LucasKanade;
    fail("parse_flow_method", "expected a flow method hs (horn_schunck) or lk (lucas_kanade), found '{}'",
         std::string(name));
}

inline std::string_view flow_method_name(FlowMethod method) {
    return method == FlowMethod::HornSchunck ? "horn_schunck" : "lucas_kanade";
}

/// The flow from frame a to frame b by `method` with its default options
/// (frames and result as horn_schunck and lucas_kanade take and give them).
inline Tensor estimate_flow(const Tensor& a, const Tensor& b, FlowMethod method = FlowMethod::HornSchunck) {
    return method == FlowMethod::HornSchunck ? horn_schunck(a, b) : lucas_kanade(a, b);
}

}  // namespace vgt::flow
