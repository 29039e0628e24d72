#pragma once
// Reverse-mode differentiation: walks the nodes recorded by the forward pass
// from an output back to the leaves, in reverse topological order, and
// accumulates each leaf's gradient into its .grad(). Each node's backward
// function is released once it ran, so the graph is freed as it goes.

#include <memory>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "vgt/autograd/node.hpp"
#include "vgt/ops/elementwise.hpp"

namespace vgt {

namespace autograd::detail {

inline void accumulate(Tensor& slot, const Tensor& g) {
    slot = slot.defined() ? add(slot, g) : g;
}

/// Whether a gradient can become a leaf's .grad() as it is: a whole,
/// contiguous buffer held by `g` alone. Anything else is cloned first, so
/// that a leaf's gradient never aliases another tensor.
inline bool owns_its_storage(const Tensor& g) {
    const auto& impl = g.impl();
    return impl.use_count() == 1 && impl->storage.use_count() == 1 && g.is_contiguous() && g.offset() == 0 &&
           g.nbytes() == impl->storage->bytes();
}

/// Nodes reachable from `root`, each after every node that consumes it.
inline std::vector<Node*> topological_order(Node* root) {
    std::vector<Node*> order;
    std::unordered_set<Node*> visited;
    // Iterative depth-first search: deep graphs (long sequences) must not
    // overflow the stack.
    std::vector<std::pair<Node*, std::size_t>> stack;
    stack.emplace_back(root, 0);
    visited.insert(root);
    while (!stack.empty()) {
        auto& [node, next] = stack.back();
        if (next < node->inputs.size()) {
            Node* child = node->inputs[next++].node.get();
            if (child && visited.insert(child).second) stack.emplace_back(child, 0);
        } else {
            order.push_back(node);
            stack.pop_back();
        }
    }
    return {order.rbegin(), order.rend()};
}

}  // namespace autograd::detail

/// Computes d(output)/d(leaf) for every leaf that requires a gradient and adds
/// it to the leaf's .grad(). `grad_output` defaults to 1 for a one-element
/// output and is required otherwise.
inline void backward(const Tensor& output, const Tensor& grad_output = {}) {
    using namespace autograd;
    VGT_CHECK(output.requires_grad(), "backward",
              "expected an output that requires a gradient, found a tensor with no path to a parameter");
    Tensor seed = grad_output;
    if (!seed.defined()) {
        VGT_CHECK(output.numel() == 1, "backward",
                  "expected a one-element output or an explicit gradient, found shape {}", output.shape());
        seed = Tensor::ones(output.shape(), output.dtype(), output.device());
    }
    VGT_CHECK(seed.shape() == output.shape(), "backward", "expected a gradient of shape {}, found {}", output.shape(),
              seed.shape());

    NoGradGuard no_grad;
    if (output.is_leaf()) {
        Tensor grad(output.impl()->grad);
        autograd::detail::accumulate(grad, seed);
        output.impl()->grad = grad.impl();
        return;
    }

    Node* root = output.grad_fn().get();
    std::unordered_map<Node*, Tensor> grads;
    grads[root] = seed;
    // Clearing a node's edges may drop the last owner of a child that the
    // walk has yet to visit; the children live here until the walk ends.
    std::vector<std::shared_ptr<Node>> visited_children;
    for (Node* node : autograd::detail::topological_order(root)) {
        auto found = grads.find(node);
        if (found == grads.end()) continue;
        Tensor g = std::move(found->second);
        grads.erase(found);
        VGT_CHECK(node->backward, "backward",
                  "expected a live graph, found one already freed by an earlier backward through '{}'", node->name);
        std::vector<Tensor> input_grads = node->backward(g);
        node->backward = nullptr;
        VGT_CHECK(input_grads.size() == node->inputs.size(), "backward",
                  "operation '{}' returned {} gradients for {} inputs", node->name, input_grads.size(),
                  node->inputs.size());
        for (std::size_t i = 0; i < input_grads.size(); ++i) {
            const Edge& edge = node->inputs[i];
            const Tensor& gi = input_grads[i];
            if (!edge.wants_grad() || !gi.defined()) continue;
            VGT_CHECK(gi.shape() == node->input_shapes[i], "backward",
                      "operation '{}' returned a gradient of shape {} for input {} of shape {}", node->name,
                      gi.shape(), i, node->input_shapes[i]);
            if (edge.node) {
                autograd::detail::accumulate(grads[edge.node.get()], gi);
            } else {
                Tensor grad(edge.leaf->grad);
                // A leaf's .grad() is its own storage, never a view of another tensor.
                const bool own = !grad.defined() && autograd::detail::owns_its_storage(gi);
                autograd::detail::accumulate(grad, grad.defined() || own ? gi : clone(gi));
                edge.leaf->grad = grad.impl();
            }
        }
        for (Edge& edge : node->inputs)
            if (edge.node) visited_children.push_back(std::move(edge.node));
        node->inputs.clear();
    }
}

}  // namespace vgt
