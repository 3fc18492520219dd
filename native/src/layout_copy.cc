// A layout copy that moves 4-byte elements in tiles. ATen's own copy of a permuted tensor
// (TensorIterator, element by element along the destination) ran at 1.6 GB/s on the 2-core
// machines: 2.5 ms for one [2, 32, 32, 512] NHWC -> NCHW copy against 0.09 ms for a plain
// clone, and a training step makes ~100 ms of such copies that PyTorch in NCHW never makes
// (each filter HWIO -> OIHW or OHWI per call, each weight gradient back, the activations
// of the layers whose convolutions run in NCHW, every result's NCHW -> NHWC view).
// Copying 32 x 32 tiles keeps both sides' cache lines in L1.
#include "layout_copy.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cstdint>

namespace dentseg {
namespace {

constexpr int64_t kTile = 32;

struct Dim {
  int64_t size, src, dst;  // size and the two strides, in elements
};

/**
 * The copy's dimensions in the destination's order (outermost first), size-1 ones dropped
 * and neighbours merged where both sides step over them as one: a filter's kh and kw, or
 * HWI of an OHWI copy, become one dimension, so most layout copies are 2-D transposes.
 */
std::vector<Dim> coalesced(const at::Tensor& src, const at::Tensor& dst) {
  std::vector<Dim> dims;
  for (int64_t d = 0; d < src.dim(); d++) {
    if (src.size(d) > 1) dims.push_back({src.size(d), src.stride(d), dst.stride(d)});
  }
  std::stable_sort(dims.begin(), dims.end(), [](const Dim& a, const Dim& b) { return a.dst > b.dst; });
  std::vector<Dim> out;
  for (const Dim& d : dims) {
    if (!out.empty()) {
      Dim& o = out.back();
      if (o.dst == d.dst * d.size && o.src == d.src * d.size) {
        o = {o.size * d.size, d.src, d.dst};
        continue;
      }
    }
    out.push_back(d);
  }
  return out;
}

}  // namespace

bool tiled_copy(const at::Tensor& src, at::Tensor& dst) {
  if (src.element_size() != 4 || dst.element_size() != 4 || src.scalar_type() != dst.scalar_type() ||
      !src.sizes().equals(dst.sizes()) || !dst.is_non_overlapping_and_dense()) {
    return false;
  }
  std::vector<Dim> dims = coalesced(src, dst);
  if (dims.size() < 2 || dims.size() > 4) return false;
  // a: the destination's unit-stride dimension; b: the source's. Tiles span both.
  const Dim a = dims.back();
  auto bi = std::find_if(dims.begin(), dims.end() - 1, [](const Dim& d) { return d.src == 1; });
  if (a.dst != 1 || bi == dims.end() - 1) return false;
  const Dim b = *bi;
  std::vector<Dim> outer;
  for (auto it = dims.begin(); it != dims.end() - 1; ++it) {
    if (it != bi) outer.push_back(*it);
  }
  int64_t n_outer = 1;
  for (const Dim& d : outer) n_outer *= d.size;
  const int64_t ta = (a.size + kTile - 1) / kTile, tb = (b.size + kTile - 1) / kTile;
  const auto* s = static_cast<const uint32_t*>(src.data_ptr());
  auto* t = static_cast<uint32_t*>(dst.data_ptr());
  const int64_t work = n_outer * ta * tb;
  at::parallel_for(0, work, std::max<int64_t>(1, 4096 / (kTile * kTile)), [&](int64_t begin, int64_t end) {
    for (int64_t w = begin; w < end; w++) {
      int64_t rest = w / (ta * tb), tile = w % (ta * tb);
      int64_t so = 0, to = 0;
      for (auto it = outer.rbegin(); it != outer.rend(); ++it) {
        int64_t i = rest % it->size;
        rest /= it->size;
        so += i * it->src;
        to += i * it->dst;
      }
      const int64_t a0 = (tile / tb) * kTile, b0 = (tile % tb) * kTile;
      const int64_t a1 = std::min(a.size, a0 + kTile), b1 = std::min(b.size, b0 + kTile);
      for (int64_t ib = b0; ib < b1; ib++) {
        const uint32_t* sp = s + so + ib;
        uint32_t* tp = t + to + ib * b.dst;
        for (int64_t ia = a0; ia < a1; ia++) tp[ia] = sp[ia * a.src];
      }
    }
  });
  return true;
}

at::Tensor contiguous_fast(const at::Tensor& t, at::MemoryFormat format) {
  if (t.is_contiguous(format)) return t;
  at::Tensor out = at::empty(t.sizes(), t.options().memory_format(format));
  if (!tiled_copy(t, out)) out.copy_(t);
  return out;
}

}  // namespace dentseg
