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

#include "vgt/ops/conv.hpp"
#include "vgt/ops/device_copy.hpp"
#include "vgt/ops/dropout.hpp"
#include "vgt/ops/elementwise.hpp"
#include "vgt/ops/embedding.hpp"
#include "vgt/ops/grid_sample.hpp"
#include "vgt/ops/join.hpp"
#include "vgt/ops/loss.hpp"
#include "vgt/ops/matmul.hpp"
#include "vgt/ops/norm.hpp"
#include "vgt/ops/pad.hpp"
#include "vgt/ops/pool.hpp"
#include "vgt/ops/reduce.hpp"
#include "vgt/ops/resample.hpp"
#include "vgt/ops/softmax.hpp"
#include "vgt/ops/view.hpp"

#include "vgt/autograd/backward.hpp"
#include "vgt/autograd/gradcheck.hpp"

#include "vgt/io/npy.hpp"
#include "vgt/io/safetensors.hpp"

#include "vgt/nn/attention.hpp"
#include "vgt/nn/conv.hpp"
#include "vgt/nn/group_norm.hpp"
#include "vgt/nn/init.hpp"
#include "vgt/nn/linear.hpp"
#include "vgt/nn/parameters.hpp"

#include "vgt/position/all.hpp"

#include "vgt/temporal/block_concepts.hpp"
#include "vgt/temporal/catalog.hpp"
#include "vgt/temporal/layout.hpp"
#include "vgt/temporal/options.hpp"
#include "vgt/temporal/sequential.hpp"
