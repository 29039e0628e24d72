#pragma once
// Turns CUDA runtime errors into vgt::Error naming the call that failed.
// Defined only in builds with the CUDA toolkit (VGT_WITH_CUDA).

#include "vgt/core/error.hpp"

#if defined(VGT_WITH_CUDA)
#include <cuda_runtime_api.h>

/// Runs a CUDA runtime call and throws vgt::Error with its text and the
/// runtime's error name when it does not return cudaSuccess.
#define VGT_CUDA_CHECK(call)                                                                               \
    do {                                                                                                   \
        const cudaError_t vgt_cuda_status = (call);                                                        \
        if (vgt_cuda_status != cudaSuccess) {                                                              \
            /* Clear the runtime's last-error slot so that a later launch check */                        \
            /* does not report this failure again. */                                                      \
            (void)cudaGetLastError();                                                                      \
            ::vgt::fail(#call, "expected cudaSuccess, found {} ({})", cudaGetErrorName(vgt_cuda_status), \
                        cudaGetErrorString(vgt_cuda_status));                                            \
        }                                                                                                  \
    } while (false)
#endif
