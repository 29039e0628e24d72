#pragma once
// Named parameters. A block exposes its trainable tensors through
// `visit_parameters(visitor, prefix)`, calling the visitor with each tensor's
// dotted name (PyTorch's naming, e.g. "qkv.weight") and a reference to the
// member. Optimisers, checkpoints, device moves and tests all go through it,
// so a block declares its parameters in exactly one place.

#include <cstdint>
#include <cstring>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "vgt/core/error.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/ops/device_copy.hpp"
#include "vgt/ops/view.hpp"

namespace vgt::nn {

using ParameterVisitor = std::function<void(const std::string& name, Tensor& parameter)>;

/// "prefix.name", or just "name" under an empty prefix.
inline std::string join_name(std::string_view prefix, std::string_view name) {
    if (prefix.empty()) return std::string(name);
    std::string out(prefix);
    out += '.';
    out += name;
    return out;
}

template <class Block>
concept HasParameters = requires(Block& block, const ParameterVisitor& visitor, const std::string& prefix) {
    block.visit_parameters(visitor, prefix);
};

/// Visits the parameters of a const block. Visitors passed here must not
/// reassign the tensors; the const_cast is confined to this one place so
/// that blocks write a single, non-const visit_parameters.
template <HasParameters Block>
void visit_parameters(const Block& block, const std::function<void(const std::string&, const Tensor&)>& visitor,
                      const std::string& prefix = "") {
    const_cast<Block&>(block).visit_parameters(
        [&](const std::string& name, Tensor& p) { visitor(name, p); }, prefix);
}

template <HasParameters Block>
std::vector<std::pair<std::string, Tensor>> named_parameters(const Block& block, const std::string& prefix = "") {
    std::vector<std::pair<std::string, Tensor>> out;
    visit_parameters(block, [&](const std::string& name, const Tensor& p) { out.emplace_back(name, p); }, prefix);
    return out;
}

/// Number of scalar parameters.
template <HasParameters Block>
std::int64_t count_parameters(const Block& block) {
    std::int64_t total = 0;
    visit_parameters(block, [&](const std::string&, const Tensor& p) { total += p.numel(); });
    return total;
}

/// Copies values into a block's parameters in place (so references held by an
/// optimiser stay valid). Every parameter under `prefix` must be present with
/// its exact shape; with `strict`, tensors under the prefix that the block
/// does not have are an error too. Values are converted to the parameter's
/// dtype.
template <HasParameters Block>
void load_parameters(Block& block, const std::vector<std::pair<std::string, Tensor>>& values,
                     const std::string& prefix = "", bool strict = true) {
    std::map<std::string, const Tensor*> by_name;
    for (const auto& [name, t] : values) by_name[name] = &t;
    std::set<std::string> used;
    std::vector<std::string> missing;
    block.visit_parameters(
        [&](const std::string& name, Tensor& p) {
            auto it = by_name.find(name);
            if (it == by_name.end()) {
                missing.push_back(name);
                return;
            }
            const Tensor& src = *it->second;
            VGT_CHECK(src.shape() == p.shape(), "load_parameters", "expected parameter '{}' of shape {}, found {}",
                      name, p.shape(), src.shape());
            const Tensor value = contiguous(to(to(detach(src), p.dtype()), Device::cpu()));
            VGT_CHECK(p.device().is_cpu() && p.is_contiguous(), "load_parameters",
                      "expected contiguous CPU parameter '{}', found one on {}", name, p.device().str());
            std::memcpy(p.raw_data(), value.raw_data(), p.nbytes());
            used.insert(name);
        },
        prefix);
    if (!missing.empty()) {
        std::string list;
        for (std::size_t i = 0; i < missing.size() && i < 8; ++i) list += (i ? ", " : "") + missing[i];
        if (missing.size() > 8) list += fmt::format(", ... ({} in all)", missing.size());
        throw Error(fmt::format("load_parameters: expected parameters that were not found: {}", list));
    }
    if (strict) {
        for (const auto& [name, t] : values) {
            const bool under_prefix = prefix.empty() || name.rfind(prefix + ".", 0) == 0;
            VGT_CHECK(!under_prefix || used.count(name), "load_parameters",
                      "expected only parameters of the block under '{}', found an unknown one: '{}'", prefix, name);
        }
    }
}

/// Moves every parameter to `device` (a copy that keeps requires_grad).
template <HasParameters Block>
void move_parameters(Block& block, Device device) {
    block.visit_parameters(
        [&](const std::string&, Tensor& p) {
            if (p.device() == device) return;
            Tensor moved = detach(to(detach(p), device));
            moved.set_requires_grad(p.requires_grad());
            p = moved;
        },
        "");
}

/// Clears the gradients accumulated in every parameter.
template <HasParameters Block>
void zero_grad(Block& block) {
    block.visit_parameters([](const std::string&, Tensor& p) { p.zero_grad(); }, "");
}

}  // namespace vgt::nn
