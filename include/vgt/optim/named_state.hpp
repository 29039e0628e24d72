#pragma once
// What the optimisation tools share: the trainable parameters of a block as
// named handles, the checks before a tensor is updated in place, and the
// checked loading of named state tensors (optimiser moments, EMA weights,
// loss scale) from a checkpoint. State travels as named tensors so that it
// is saved in the same safetensors file as the model and resumes bit-exact.

#include <algorithm>
#include <cstdint>
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
#include "vgt/nn/parameters.hpp"
#include "vgt/ops/view.hpp"

namespace vgt::optim {

/// Named tensors in a fixed order: parameters, or the state a checkpoint holds.
using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

/// The parameters of `block` that require a gradient, as handles that share
/// the block's tensors (writes through them change the block).
template <nn::HasParameters Block>
NamedTensors trainable_parameters(const Block& block) {
    NamedTensors out;
    nn::visit_parameters(block, [&](const std::string& name, const Tensor& p) {
        if (p.requires_grad()) out.emplace_back(name, p);
    });
    return out;
}

namespace detail {

/// A tensor the tools write element by element: contiguous, float32 or
/// float64, and on the CPU unless the caller has a CUDA launcher too.
inline void check_writable(std::string_view op, std::string_view what, const std::string& name, const Tensor& t,
                           bool runs_on_cuda = false) {
    VGT_CHECK(t.device().is_cpu() || (runs_on_cuda && t.device().is_cuda()), op,
              "{} '{}': expected a CPU tensor, found one on {}", what, name, t.device().str());
    VGT_CHECK(t.dtype() == DType::Float32 || t.dtype() == DType::Float64, op,
              "{} '{}': expected float32 or float64, found {}", what, name, dtype_name(t.dtype()));
    VGT_CHECK(t.is_contiguous(), op, "{} '{}': expected a contiguous tensor, found strides {}", what, name,
              t.strides());
}

/// The gradient of `parameter` as a tensor sharing its storage, made
/// contiguous in place first if backward left a strided view; undefined
/// when the parameter has no gradient.
inline Tensor writable_grad(const Tensor& parameter) {
    Tensor grad = parameter.grad();
    if (!grad.defined() || grad.is_contiguous()) return grad;
    Tensor dense = detach(clone(grad));
    parameter.impl()->grad = dense.impl();
    return dense;
}

/// "a, b, c" for at most `shown` items, then "... (n in all)".
inline std::string short_list(const std::vector<std::string>& items, std::size_t shown = 8) {
    std::string out;
    for (std::size_t i = 0; i < items.size() && i < shown; ++i) out += (i ? ", " : "") + items[i];
    if (items.size() > shown) out += fmt::format(", ... ({} in all)", items.size());
    return out;
}

/// A rank-0 int64 tensor.
inline Tensor count_tensor(std::int64_t value) {
    Tensor t = Tensor::empty(Shape{}, DType::Int64);
    *t.data<std::int64_t>() = value;
    return t;
}

/// The value of a rank-0 int64 state tensor that was checked by load_state_tensors.
inline std::int64_t count_value(const Tensor& t) { return *contiguous(t).data<std::int64_t>(); }

}  // namespace detail

/// The parameter names an optimiser or EMA was made for, in order, and the
/// matching of named parameter handles against them on every step.
class ParameterNames {
public:
    ParameterNames() = default;
    ParameterNames(std::string_view op, const NamedTensors& parameters) {
        for (const auto& [name, p] : parameters) {
            VGT_CHECK(index_.emplace(name, names_.size()).second, op,
                      "expected unique parameter names, found '{}' twice", name);
            names_.push_back(name);
        }
    }

    std::size_t size() const { return names_.size(); }
    const std::string& operator[](std::size_t i) const { return names_[i]; }

    /// The position of `name`; a vgt::Error naming it when it is not one of them.
    std::size_t at(std::string_view op, const std::string& name) const {
        const auto it = index_.find(name);
        VGT_CHECK(it != index_.end(), op, "expected the name of a parameter it was made for, found '{}'", name);
        return it->second;
    }

    /// Calls f(position, parameter) for each handle in `parameters` with one
    /// of its names. Every name must be there once; a parameter with another
    /// name is skipped when it is frozen (no requires_grad) and otherwise a
    /// vgt::Error naming it, as are repeated and missing names.
    template <class F>
    void match(std::string_view op, const NamedTensors& parameters, F&& f) const {
        std::vector<bool> visited(names_.size(), false);
        for (const auto& [name, p] : parameters) {
            const auto it = index_.find(name);
            if (it == index_.end() && !p.requires_grad()) continue;
            VGT_CHECK(it != index_.end(), op,
                      "expected the parameters it was made for, found a new trainable one: '{}' (did the model "
                      "change?)",
                      name);
            VGT_CHECK(!visited[it->second], op, "expected each parameter once, found '{}' twice", name);
            visited[it->second] = true;
            f(it->second, p);
        }
        for (std::size_t i = 0; i < names_.size(); ++i)
            VGT_CHECK(visited[i], op, "expected parameter '{}' that it was made for, found no such parameter",
                      names_[i]);
    }

private:
    std::vector<std::string> names_;
    std::map<std::string, std::size_t, std::less<>> index_;
};

/// One tensor a state load expects: its full name, shape and dtype, and
/// where its value goes.
struct ExpectedState {
    std::string name;
    Shape shape;
    DType dtype;
    Tensor* destination;
};

/// Loads the tensors named "<prefix>.…" from `tensors` into the expected
/// destinations (each gets a contiguous copy). Tensors outside the prefix are
/// ignored, so one checkpoint can hold the model, the optimiser and the EMA.
/// Every expected name must be present with its exact shape and dtype (a
/// resume is bit-exact only in the dtype it was saved in), and nothing else
/// may be under the prefix; otherwise one vgt::Error lists every missing,
/// unknown and mismatched name, and no destination is changed.
inline void load_state_tensors(std::string_view op, const NamedTensors& tensors, const std::string& prefix,
                               const std::vector<ExpectedState>& expected) {
    std::map<std::string, const ExpectedState*> by_name;
    for (const ExpectedState& e : expected) by_name[e.name] = &e;
    const std::string under = prefix + ".";
    std::map<std::string, const Tensor*> found;
    std::set<std::string> seen;  // expected names present, matching or not
    std::vector<std::string> unknown, mismatched, missing;
    for (const auto& [name, t] : tensors) {
        if (name.rfind(under, 0) != 0) continue;
        const auto it = by_name.find(name);
        if (it == by_name.end()) {
            unknown.push_back(fmt::format("'{}'", name));
            continue;
        }
        seen.insert(name);
        const ExpectedState& e = *it->second;
        if (!t.defined() || t.shape() != e.shape || t.dtype() != e.dtype || !t.device().is_cpu()) {
            mismatched.push_back(fmt::format("'{}' (expected {} {}, found {})", name, dtype_name(e.dtype), e.shape,
                                             t.defined() ? t.str() : std::string("an empty handle")));
            continue;
        }
        found[name] = &t;
    }
    for (const ExpectedState& e : expected)
        if (!seen.count(e.name)) missing.push_back(fmt::format("'{}'", e.name));
    if (!unknown.empty() || !mismatched.empty() || !missing.empty()) {
        std::vector<std::string> problems;
        if (!missing.empty()) problems.push_back("missing: " + detail::short_list(missing));
        if (!mismatched.empty()) problems.push_back("wrong shape or dtype: " + detail::short_list(mismatched));
        if (!unknown.empty()) problems.push_back("unknown: " + detail::short_list(unknown));
        fail(op, "expected the {} state tensors under '{}' that match the parameters, found {}", expected.size(),
             prefix, fmt::join(problems, "; "));
    }
    for (const ExpectedState& e : expected) *e.destination = detach(clone(*found.at(e.name)));
}

}  // namespace vgt::optim
