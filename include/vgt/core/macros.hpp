#pragma once
// Portability macros shared by every layer.

#if defined(__CUDACC__)
// Point-wise kernel bodies are written once and launched both by parallel_for
// on CPU threads and as CUDA grids.
#define VGT_HOST_DEVICE __host__ __device__
#else
#define VGT_HOST_DEVICE
#endif
