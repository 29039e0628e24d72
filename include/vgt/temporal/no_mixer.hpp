#pragma once
// NoMixer: y = x. The per-frame baseline every other mixer is measured against.

#include <cstdint>
#include <string>
#include <string_view>

#include "vgt/core/random.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/nn/parameters.hpp"
#include "vgt/temporal/layout.hpp"
#include "vgt/temporal/options.hpp"

namespace vgt::temporal {

class NoMixer {
public:
    static constexpr std::string_view name = "NoMixer";
    NoMixer(const MixerOptions&, Generator&) {}
    Tensor forward(const Tensor& video) const {
        VideoShape::of(video, "NoMixer");
        return video;
    }
    std::int64_t params() const { return 0; }
    double flops(const Shape&) const { return 0.0; }
    bool is_causal() const { return true; }
    void visit_parameters(const nn::ParameterVisitor&, const std::string&) {}
};

}  // namespace vgt::temporal
