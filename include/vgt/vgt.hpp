#pragma once
// The one include for users who want everything.

#include "vgt/core/device.hpp"
#include "vgt/core/dispatch.hpp"
#include "vgt/core/dtype.hpp"
#include "vgt/core/error.hpp"
#include "vgt/core/parallel.hpp"
#include "vgt/core/philox.hpp"
#include "vgt/core/random.hpp"
#include "vgt/core/shape.hpp"
#include "vgt/core/storage.hpp"
#include "vgt/core/tensor.hpp"

#include "vgt/autograd/node.hpp"
#include "vgt/ops/elementwise.hpp"
#include "vgt/ops/reduce.hpp"
#include "vgt/ops/view.hpp"
#include "vgt/autograd/backward.hpp"
#include "vgt/autograd/gradcheck.hpp"
