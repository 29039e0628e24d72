#pragma once
// A VideoUNet preset chosen at run time. The presets are distinct
// compile-time types (models/unet_presets.hpp); a text-to-video model that a
// config names holds one of them behind this small interface, so the rest
// of the pipeline (loss, sampling, checkpoints, the trainer) compiles once.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "vgt/core/random.hpp"
#include "vgt/core/shape.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/models/unet_presets.hpp"
#include "vgt/models/video_unet.hpp"
#include "vgt/nn/parameters.hpp"

namespace vgt::experiment {

/// What the pipeline needs of a VideoUNet<Stage, Mixer>.
class UNetModel {
public:
    virtual ~UNetModel() = default;
    /// VideoUNet::forward: x [B, T, C, H, W], time embedding [B, D], context [B, L, d], mask [B, L].
    virtual Tensor forward(const Tensor& x, const Tensor& time_embedding, const Tensor& context,
                           const Tensor& context_mask, const models::UNetForwardOptions& run) const = 0;
    virtual void visit_parameters(const nn::ParameterVisitor& visit, const std::string& prefix) = 0;
    virtual std::int64_t params() const = 0;
    /// Forward FLOPs for a video of `video` shape and `context_length` context tokens.
    virtual double flops(const Shape& video, std::int64_t context_length) const = 0;
    virtual bool is_causal() const = 0;
    /// Whether the mixers take an external flow (UNetForwardOptions::flow).
    virtual bool takes_flow() const = 0;
    virtual const std::string& name() const = 0;
};

/// One preset behind the interface.
template <class UNet>
class UNetHolder final : public UNetModel {
public:
    UNetHolder(std::string name, const models::VideoUNetOptions& options, Generator& gen)
        : name_(std::move(name)), unet_(options, gen) {}

    Tensor forward(const Tensor& x, const Tensor& time_embedding, const Tensor& context, const Tensor& context_mask,
                   const models::UNetForwardOptions& run) const override {
        return unet_.forward(x, time_embedding, context, context_mask, run);
    }
    void visit_parameters(const nn::ParameterVisitor& visit, const std::string& prefix) override {
        unet_.visit_parameters(visit, prefix);
    }
    std::int64_t params() const override { return unet_.params(); }
    double flops(const Shape& video, std::int64_t context_length) const override {
        return unet_.flops(video, context_length);
    }
    bool is_causal() const override { return unet_.is_causal(); }
    bool takes_flow() const override { return UNet::takes_flow; }
    const std::string& name() const override { return name_; }

    UNet& unet() { return unet_; }

private:
    std::string name_;
    UNet unet_;
};

/// Makes the UNet of a model whose type is chosen elsewhere (an ablation's
/// variant) from the config's options, drawing its weights from `gen`.
using UNetFactory = std::function<std::unique_ptr<UNetModel>(const models::VideoUNetOptions&, Generator&)>;

/// A factory for one compile-time UNet type, called `name`.
template <class UNet>
UNetFactory unet_factory(std::string name) {
    return [name = std::move(name)](const models::VideoUNetOptions& options, Generator& gen) {
        return std::unique_ptr<UNetModel>(std::make_unique<UNetHolder<UNet>>(name, options, gen));
    };
}

/// The preset called `name` (models::unet_names()), initialised from `gen`;
/// an unknown name is a vgt::Error listing the valid ones.
inline std::unique_ptr<UNetModel> make_unet(std::string_view name, const models::VideoUNetOptions& options,
                                            Generator& gen) {
    std::unique_ptr<UNetModel> out;
    models::visit_unet(name, [&]<class UNet>() { out = std::make_unique<UNetHolder<UNet>>(std::string(name), options, gen); });
    return out;
}

}  // namespace vgt::experiment
