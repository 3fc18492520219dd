// Layout copies in tiles (layout_copy.cc): what the convolutions' NHWC <-> NCHW and
// filter copies go through instead of ATen's element-by-element copy of a permuted view.
#pragma once

#include <ATen/ATen.h>

namespace dentseg {

/**
 * Copies src into dst (same sizes, 4-byte elements, dst dense) when the copy is a
 * transpose of two dimensions around at most two others, in 32 x 32 tiles on ATen's
 * threads; returns false, copying nothing, for any other case.
 */
bool tiled_copy(const at::Tensor& src, at::Tensor& dst);

/** t with contiguous memory in `format`: t itself when it already is, else a tiled copy. */
at::Tensor contiguous_fast(const at::Tensor& t, at::MemoryFormat format = at::MemoryFormat::Contiguous);

}  // namespace dentseg
