#pragma once
// The tape: every operation that runs while gradients are wanted records a
// Node on its output. A node holds its backward function and an edge to each
// input; following edges from a loss back to the leaves replays the forward
// pass in reverse (autograd/backward.hpp).
//
// Adding an operation with its own (fused) backward takes one call:
//
//     Tensor out = /* compute the forward result with no_grad semantics */;
//     autograd::record(out, "my_op", {a, b}, [=](const Tensor& grad_out) {
//         return std::vector<Tensor>{grad_a, grad_b};   // one per input,
//     });                                              // undefined = no gradient
//
// The backward function runs with gradients off, so it may call any vgt
// operation; it must return tensors of its inputs' shapes.

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "vgt/core/error.hpp"
#include "vgt/core/tensor.hpp"

namespace vgt::autograd {

using BackwardFn = std::function<std::vector<Tensor>(const Tensor& grad_output)>;

/// Where the gradient of one input goes: into the node that produced it, or
/// into the `.grad()` of a leaf. Both empty: the input wants no gradient.
struct Edge {
    std::shared_ptr<Node> node;
    std::shared_ptr<TensorImpl> leaf;
    bool wants_grad() const { return node || leaf; }
};

struct Node {
    std::string name;
    std::vector<Edge> inputs;
    std::vector<Shape> input_shapes;
    BackwardFn backward;  // reset after it ran: the graph is freed by backward()
};

/// Whether operations record onto the tape on this thread.
inline bool& grad_mode_enabled() {
    thread_local bool enabled = true;
    return enabled;
}

/// Turns recording off for the lifetime of the scope (inference, optimizer
/// steps, backward functions themselves).
class NoGradGuard {
public:
    NoGradGuard() : previous_(grad_mode_enabled()) { grad_mode_enabled() = false; }
    ~NoGradGuard() { grad_mode_enabled() = previous_; }
    NoGradGuard(const NoGradGuard&) = delete;
    NoGradGuard& operator=(const NoGradGuard&) = delete;

private:
    bool previous_;
};

/// True when grad mode is on and any of the tensors wants a gradient.
inline bool any_requires_grad(std::initializer_list<Tensor> inputs) {
    if (!grad_mode_enabled()) return false;
    for (const Tensor& t : inputs)
        if (t.defined() && t.requires_grad()) return true;
    return false;
}
inline bool any_requires_grad(const std::vector<Tensor>& inputs) {
    if (!grad_mode_enabled()) return false;
    for (const Tensor& t : inputs)
        if (t.defined() && t.requires_grad()) return true;
    return false;
}

/// Attaches a node to `output` when grad mode is on and an input wants a
/// gradient; otherwise does nothing. Returns `output`.
inline Tensor& record(Tensor& output, std::string name, const std::vector<Tensor>& inputs, BackwardFn backward) {
    if (!any_requires_grad(inputs)) return output;
    auto node = std::make_shared<Node>();
    node->name = std::move(name);
    node->backward = std::move(backward);
    node->inputs.reserve(inputs.size());
    for (const Tensor& t : inputs) {
        Edge edge;
        if (t.defined() && t.requires_grad()) {
            if (t.grad_fn()) edge.node = t.grad_fn();
            else edge.leaf = t.impl();
        }
        node->inputs.push_back(std::move(edge));
        node->input_shapes.push_back(t.defined() ? t.shape() : Shape{});
    }
    output.impl()->requires_grad = true;
    output.impl()->grad_fn = std::move(node);
    return output;
}

}  // namespace vgt::autograd

namespace vgt {
using autograd::NoGradGuard;
}
