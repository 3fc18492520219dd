// Which memory layout each convolution pass runs in: channels-last views of dentseg's NHWC
// tensors (no copy) or contiguous NCHW copies. oneDNN's speed in each differs by CPU
// (AVX-512 vs AVX2) and by layer shape, so the choice is made per call; see conv_layout.cc.
#pragma once

#include <cstdint>
#include <string>

namespace dentseg {

/** BothGrads: input and weight gradient in one ATen call (ops_nn.cc's paired gradient). */
enum class ConvPass { Forward, InputGrad, WeightGrad, BothGrads };

/**
 * True when a 2-D convolution pass of batch n, cin → cout channels, on an h × w input
 * should run in contiguous NCHW (with the layout copies) rather than channels-last.
 */
bool conv_use_nchw(ConvPass pass, int64_t n, int64_t cin, int64_t cout, int64_t h, int64_t w);

/** Sets the policy: "auto" (by CPU and shape), "nhwc" or "nchw" (always). Throws otherwise. */
void set_conv_layout(const std::string& mode);
/** The policy in force. */
std::string conv_layout();
/** The CPU class `auto` decides by: "avx512" or "avx2" (oneDNN's ISA cap honoured). */
std::string conv_cpu_class();

}  // namespace dentseg
