#pragma once
// Every position policy, and the list of them for code that iterates over
// all (the `vgt blocks` table, ablations, tests).

#include <tuple>

#include "vgt/position/alibi.hpp"
#include "vgt/position/learned.hpp"
#include "vgt/position/position_policy.hpp"
#include "vgt/position/relative_bias.hpp"
#include "vgt/position/rope.hpp"
#include "vgt/position/sinusoidal.hpp"
#include "vgt/position/xpos.hpp"

namespace vgt::position {

using AllPositions = std::tuple<NoPosition, Sinusoidal, Learned, RelativeBias, RoPE, ALiBi, XPos>;

}  // namespace vgt::position
