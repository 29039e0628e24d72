#pragma once
// Tensor: a shared handle to a strided view of a Storage.
//
// Copying a Tensor copies the handle, not the data (as in PyTorch). The
// handle carries what autograd needs (requires_grad, the gradient and the
// node that produced it); the operations that record onto the tape live in
// ops/, and everything here is bookkeeping that records nothing.

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "vgt/core/cuda_error.hpp"
#include "vgt/core/device.hpp"
#include "vgt/core/dtype.hpp"
#include "vgt/core/error.hpp"
#include "vgt/core/shape.hpp"
#include "vgt/core/storage.hpp"
#include "vgt/cuda/launchers.hpp"

namespace vgt {

namespace autograd {
struct Node;
}

/// The state behind a Tensor handle.
struct TensorImpl {
    std::shared_ptr<Storage> storage;
    std::int64_t offset = 0;  // in elements
    Shape shape;
    Strides strides;  // in elements
    DType dtype = DType::Float32;

    bool requires_grad = false;
    std::shared_ptr<TensorImpl> grad;          // accumulated gradient of a leaf
    std::shared_ptr<autograd::Node> grad_fn;   // the node that produced this tensor, if any
};

class Tensor {
public:
    Tensor() = default;
    explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

    // ----- creation -----------------------------------------------------
    /// Uninitialised contiguous tensor.
    static Tensor empty(const Shape& shape, DType dtype = DType::Float32, Device device = Device::cpu()) {
        for (int i = 0; i < shape.rank(); ++i)
            VGT_CHECK(shape[i] >= 0, "Tensor::empty", "expected non-negative extents, found shape {}", shape);
        auto impl = std::make_shared<TensorImpl>();
        impl->storage = Storage::allocate(static_cast<std::size_t>(shape.numel()) * dtype_size(dtype), device);
        impl->shape = shape;
        impl->strides = contiguous_strides(shape);
        impl->dtype = dtype;
        return Tensor(std::move(impl));
    }
    static Tensor zeros(const Shape& shape, DType dtype = DType::Float32, Device device = Device::cpu()) {
        Tensor t = empty(shape, dtype, device);
        if (device.is_cpu()) {
            std::memset(t.raw_data(), 0, t.nbytes());
        } else {
#if defined(VGT_WITH_CUDA)
            VGT_CUDA_CHECK(cudaMemset(t.raw_data(), 0, t.nbytes()));
#endif
        }
        return t;
    }
    static Tensor full(const Shape& shape, double value, DType dtype = DType::Float32,
                       Device device = Device::cpu()) {
        Tensor t = empty(shape, dtype, device);
        t.fill_(value);
        return t;
    }
    static Tensor ones(const Shape& shape, DType dtype = DType::Float32, Device device = Device::cpu()) {
        return full(shape, 1.0, dtype, device);
    }
    /// A rank-0 tensor holding one value.
    static Tensor scalar(double value, DType dtype = DType::Float32) { return full(Shape{}, value, dtype); }

    /// Copies `values` (row-major) into a new tensor of the given shape.
    template <class T>
    static Tensor from_vector(std::span<const T> values, const Shape& shape) {
        VGT_CHECK(static_cast<std::int64_t>(values.size()) == shape.numel(), "Tensor::from_vector",
                  "expected {} values for shape {}, found {}", shape.numel(), shape, values.size());
        Tensor t = empty(shape, dtype_of<T>());
        std::copy(values.begin(), values.end(), t.data<T>());
        return t;
    }
    template <class T>
    static Tensor from_vector(const std::vector<T>& values, const Shape& shape) {
        return from_vector(std::span<const T>(values), shape);
    }
    template <class T>
    static Tensor from_vector(const std::vector<T>& values) {
        return from_vector(std::span<const T>(values), Shape{static_cast<std::int64_t>(values.size())});
    }

    // ----- metadata -----------------------------------------------------
    bool defined() const { return impl_ != nullptr; }
    const Shape& shape() const { return checked()->shape; }
    const Strides& strides() const { return checked()->strides; }
    std::int64_t offset() const { return checked()->offset; }
    int rank() const { return shape().rank(); }
    std::int64_t size(int dim) const { return shape()[shape().normalize_dim(dim, "Tensor::size")]; }
    std::int64_t numel() const { return shape().numel(); }
    DType dtype() const { return checked()->dtype; }
    Device device() const { return checked()->storage->device(); }
    std::size_t nbytes() const { return static_cast<std::size_t>(numel()) * dtype_size(dtype()); }

    bool is_contiguous() const {
        const auto& s = shape();
        const auto& st = strides();
        std::int64_t expected = 1;
        for (int i = s.rank() - 1; i >= 0; --i) {
            if (s[i] != 1 && st[i] != expected) return false;
            expected *= std::max<std::int64_t>(s[i], 1);  // as contiguous_strides counts zero extents
        }
        return true;
    }

    // ----- data access ----------------------------------------------------
    /// Pointer to the first element (at the view's offset); checks the type.
    template <class T>
    T* data() const {
        VGT_CHECK(dtype() == dtype_of<T>(), "Tensor::data", "expected element type {}, found {}",
                  dtype_name(dtype_of<T>()), dtype_name(dtype()));
        return static_cast<T*>(impl_->storage->data()) + impl_->offset;
    }
    void* raw_data() const {
        return static_cast<char*>(checked()->storage->data()) + impl_->offset * dtype_size(impl_->dtype);
    }

    /// The value of a one-element tensor, converted to T.
    template <class T = double>
    T item() const {
        require_cpu("Tensor::item");
        VGT_CHECK(numel() == 1, "Tensor::item", "expected a tensor with one element, found shape {}", shape());
        return static_cast<T>(read_as_double(raw_data(), dtype()));
    }

    /// Every element in row-major order, converted to T.
    template <class T = double>
    std::vector<T> to_vector() const {
        require_cpu("Tensor::to_vector");
        std::vector<T> out;
        out.reserve(static_cast<std::size_t>(numel()));
        for_each_offset([&](std::int64_t off) {
            const char* base = static_cast<const char*>(impl_->storage->data());
            out.push_back(static_cast<T>(read_as_double(base + off * dtype_size(dtype()), dtype())));
        });
        return out;
    }

    /// Sets every element (of this view) to `value`; records nothing.
    Tensor& fill_(double value) {
        if (device().is_cuda()) {
            fill_on_device(value);
            return *this;
        }
        char* base = static_cast<char*>(checked()->storage->data());
        const DType dt = dtype();
        for_each_offset([&](std::int64_t off) { write_from_double(base + off * dtype_size(dt), dt, value); });
        return *this;
    }

    // ----- autograd state ------------------------------------------------------
    bool requires_grad() const { return checked()->requires_grad; }
    /// Marks a leaf tensor as a parameter or input whose gradient is wanted.
    Tensor& set_requires_grad(bool value = true) {
        VGT_CHECK(!value || is_floating(dtype()), "Tensor::set_requires_grad",
                  "expected a floating-point tensor, found {}", dtype_name(dtype()));
        VGT_CHECK(!impl_->grad_fn, "Tensor::set_requires_grad",
                  "expected a leaf tensor, found the output of an operation (use detach())");
        impl_->requires_grad = value;
        return *this;
    }
    /// Accumulated gradient of a leaf tensor (undefined until a backward pass reaches it).
    Tensor grad() const { return Tensor(checked()->grad); }
    void zero_grad() { checked()->grad.reset(); }
    bool is_leaf() const { return !checked()->grad_fn; }
    const std::shared_ptr<autograd::Node>& grad_fn() const { return checked()->grad_fn; }

    const std::shared_ptr<TensorImpl>& impl() const { return impl_; }
    bool same_storage(const Tensor& other) const { return impl_->storage == other.impl_->storage; }

    /// A new handle onto the same storage with a different shape, strides and
    /// offset. No autograd: the view operations in ops/view.hpp use it.
    Tensor alias(const Shape& shape, const Strides& strides, std::int64_t offset) const {
        auto impl = std::make_shared<TensorImpl>();
        impl->storage = checked()->storage;
        impl->offset = offset;
        impl->shape = shape;
        impl->strides = strides;
        impl->dtype = impl_->dtype;
        return Tensor(std::move(impl));
    }

    /// Calls f(storage offset) for every element in row-major order.
    template <class F>
    void for_each_offset(F&& f) const {
        const Shape& s = shape();
        const Strides& st = strides();
        const std::int64_t n = s.numel();
        if (n == 0) return;
        std::int64_t index[kMaxRank] = {};
        std::int64_t off = impl_->offset;
        for (std::int64_t i = 0; i < n; ++i) {
            f(off);
            for (int d = s.rank() - 1; d >= 0; --d) {
                if (++index[d] < s[d]) {
                    off += st[d];
                    break;
                }
                off -= st[d] * (s[d] - 1);
                index[d] = 0;
            }
        }
    }

    std::string str() const;

private:
    void fill_on_device([[maybe_unused]] double value) {
#if defined(VGT_WITH_CUDA)
        VGT_CHECK(dtype() == DType::Float32 || dtype() == DType::Float64, "Tensor::fill_",
                  "expected a float32 or float64 CUDA tensor, found {}", dtype_name(dtype()));
        VGT_CHECK(rank() <= cuda::kMaxRank, "Tensor::fill_", "expected at most {} dimensions on CUDA, found {}",
                  cuda::kMaxRank, shape());
        if (numel() == 0) return;
        cuda::StridedArgs<1> walk;
        walk.rank = rank();
        walk.numel = numel();
        for (int d = 0; d < rank(); ++d) walk.shape[d] = shape()[d], walk.strides[0][d] = strides()[d];
        VGT_CUDA_CHECK(cudaSetDevice(device().index));
        const cuda::Status status = cuda::fill(dtype() == DType::Float64 ? cuda::Scalar::Float64 : cuda::Scalar::Float32,
                                               walk, value, raw_data());
        if (!status.ok()) fail("Tensor::fill_", "expected {} to succeed, found: {}", status.call, status.message);
#else
        fail("Tensor::fill_", "expected a CPU tensor, found one on {}", device().str());
#endif
    }

    void require_cpu(std::string_view op) const {
        VGT_CHECK(device().is_cpu(), op, "expected a CPU tensor, found one on {} (copy it with to(x, Device::cpu()))",
                  device().str());
    }

    TensorImpl* checked() const {
        if (!impl_) throw Error("Tensor: expected a defined tensor, found an empty handle");
        return impl_.get();
    }

    static double read_as_double(const void* p, DType dt) {
        switch (dt) {
            case DType::Float32: return *static_cast<const float*>(p);
            case DType::Float64: return *static_cast<const double*>(p);
            case DType::Int64: return static_cast<double>(*static_cast<const std::int64_t*>(p));
            case DType::UInt8: return *static_cast<const std::uint8_t*>(p);
            default: fail("Tensor", "expected a CPU element type, found {}", dtype_name(dt));
        }
    }
    static void write_from_double(void* p, DType dt, double v) {
        switch (dt) {
            case DType::Float32: *static_cast<float*>(p) = static_cast<float>(v); return;
            case DType::Float64: *static_cast<double*>(p) = v; return;
            case DType::Int64: *static_cast<std::int64_t*>(p) = static_cast<std::int64_t>(v); return;
            case DType::UInt8: *static_cast<std::uint8_t*>(p) = static_cast<std::uint8_t>(v); return;
            default: fail("Tensor", "expected a CPU element type, found {}", dtype_name(dt));
        }
    }

    std::shared_ptr<TensorImpl> impl_;
};

/// "Tensor(float32, [2, 3])": for error messages and debugging.
inline std::string Tensor::str() const {
    if (!defined()) return "Tensor(undefined)";
    return fmt::format("Tensor({}, {}{})", dtype_name(dtype()), shape(), device().is_cpu() ? "" : ", " + device().str());
}

}  // namespace vgt
