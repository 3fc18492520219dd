// Network ops in NHWC (tfjs layout) on ATen: convolutions and their gradients, pooling,
// batch-norm, resizing, padding and matrix products. Convolutions run either on NCHW views
// of the NHWC data, which ATen treats as channels-last memory (no layout copy), or on
// contiguous NCHW copies, whichever conv_layout.cc says is faster for the pass and shape.
#include <cmath>

#include "common.h"
#include "conv_layout.h"
#include "layout_copy.h"

namespace dentseg {
namespace {

using at::IntArrayRef;

struct Pad4 {
  int64_t top, bottom, left, right;
  bool symmetric() const { return top == bottom && left == right; }
};

Pad4 pad_of(const Attrs& a) { return {a.i("padTop"), a.i("padBottom"), a.i("padLeft"), a.i("padRight")}; }

/** Pads an NCHW tensor on H/W when the padding is asymmetric (ATen only pads symmetrically). */
at::Tensor pad_nchw(const at::Tensor& x, const Pad4& p, double value) {
  return at::constant_pad_nd(x, {p.left, p.right, p.top, p.bottom}, value);
}

/** tfjs filter [kh, kw, in, out] -> ATen weight [out, in, kh, kw] in the layout's memory. */
at::Tensor weight_oihw(const at::Tensor& w, bool nchw) {
  return contiguous_fast(w.permute({3, 2, 0, 1}), nchw ? at::MemoryFormat::Contiguous : at::MemoryFormat::ChannelsLast);
}

/** NHWC tensor as NCHW: a channels-last view, or a contiguous copy for the NCHW path. */
at::Tensor nchw_in(const at::Tensor& x, bool nchw) {
  at::Tensor v = to_nchw(x);
  return nchw ? contiguous_fast(v) : v;
}

/** Applies a fused activation in place: y must be a fresh tensor the op owns. */
at::Tensor activation_(at::Tensor& y, const std::string& act, const at::Tensor* prelu, double alpha) {
  if (act == "linear" || act.empty()) return y;
  if (act == "relu") return at::relu_(y);
  if (act == "relu6") return at::clamp_(y, 0, 6);
  if (act == "elu") return at::elu_(y);
  if (act == "sigmoid") return at::sigmoid_(y);
  if (act == "leakyrelu") return at::leaky_relu_(y, alpha);
  if (act == "prelu" && prelu != nullptr) return at::where(y < 0, y * *prelu, y);
  throw std::invalid_argument("unsupported fused activation " + act);
}

/** conv(x, w [, bias]) in NHWC with tfjs padding; attrs strideH/W, dilationH/W, pad*. */
at::Tensor conv_nhwc(const at::Tensor& x, const at::Tensor& w, const c10::optional<at::Tensor>& bias,
                     const Attrs& a) {
  Pad4 p = pad_of(a);
  bool nchw = conv_use_nchw(ConvPass::Forward, x.size(0), x.size(3), w.size(3), x.size(1), x.size(2));
  at::Tensor xn = nchw_in(x, nchw);
  std::vector<int64_t> padding{p.top, p.left};
  if (!p.symmetric()) {
    xn = pad_nchw(xn, p, 0.0);
    padding = {0, 0};
  }
  at::Tensor y = at::convolution(xn, weight_oihw(w, nchw), bias, {a.i("strideH"), a.i("strideW")}, padding,
                                 {a.i("dilationH"), a.i("dilationW")}, false, {0, 0}, 1);
  return to_nhwc(y);
}

Tensors op_conv2d(const Tensors& in, const Attrs& a) { return {conv_nhwc(in[0], in[1], c10::nullopt, a)}; }

// inputs: x, filter, [bias], [preluWeights]; attrs: hasBias, hasPrelu, activation, leakyreluAlpha
Tensors op_fused_conv2d(const Tensors& in, const Attrs& a) {
  size_t k = 2;
  c10::optional<at::Tensor> bias;
  at::Tensor extra_bias;
  if (a.b("hasBias")) {
    const at::Tensor& b = in[k++];
    int64_t cout = in[1].size(3);
    if (b.numel() == cout) bias = b.reshape({cout});
    else extra_bias = b;
  }
  // The bias goes into the convolution (oneDNN adds it while writing the output); the
  // activation then runs in place on that fresh output rather than allocating another.
  at::Tensor y = conv_nhwc(in[0], in[1], bias, a);
  if (extra_bias.defined()) y = y + extra_bias;
  const at::Tensor* prelu = a.b("hasPrelu") ? &in[k] : nullptr;
  return {activation_(y, a.s("activation"), prelu, a.has("leakyreluAlpha") ? a.f("leakyreluAlpha") : 0.2)};
}

// inputs: dy, filter; attrs: inShape [n,h,w,c], strides, pads
Tensors op_conv2d_backprop_input(const Tensors& in, const Attrs& a) {
  Pad4 p = pad_of(a);
  std::vector<int64_t> s = a.ints("inShape");
  const at::Tensor& dy = in[0];
  bool nchw = conv_use_nchw(ConvPass::InputGrad, s[0], s[3], dy.size(3), s[1], s[2]);
  auto format = nchw ? at::MemoryFormat::Contiguous : at::MemoryFormat::ChannelsLast;
  // Symmetric padding is ATen's own: dx comes out at x's size with no crop (and, in
  // channels-last, no copy back to NHWC). Otherwise dx of the padded input is cropped.
  bool sym = p.symmetric();
  int64_t hp = sym ? s[1] : s[1] + p.top + p.bottom, wp = sym ? s[2] : s[2] + p.left + p.right;
  std::vector<int64_t> padding = sym ? std::vector<int64_t>{p.top, p.left} : std::vector<int64_t>{0, 0};
  at::Tensor proto = at::empty({s[0], s[3], hp, wp}, dy.options().memory_format(format));
  auto grads = at::convolution_backward(nchw_in(dy, nchw), proto, weight_oihw(in[1], nchw), c10::nullopt,
                                        {a.i("strideH"), a.i("strideW")}, padding, {1, 1}, false, {0, 0}, 1,
                                        {true, false, false});
  at::Tensor dx = std::get<0>(grads);
  if (!sym) dx = dx.narrow(2, p.top, s[1]).narrow(3, p.left, s[2]);
  return {to_nhwc(dx)};
}

/**
 * The weight gradient that op_conv2d_backprop_pair computed together with an input
 * gradient, kept (with the x and dy it came from) until the filter-gradient call of the
 * same convolution asks for it. One slot per thread: ops of one JS thread run in order,
 * and tfjs asks for a convolution's two gradients one right after the other.
 */
struct PairedWeightGrad {
  at::Tensor x, dy, dw;
  std::vector<int64_t> key;  // filter shape, strides, pads
};
thread_local PairedWeightGrad t_paired;

std::vector<int64_t> pair_key(const std::vector<int64_t>& filter_shape, const Attrs& a) {
  std::vector<int64_t> k(filter_shape);
  for (const char* name : {"strideH", "strideW", "padTop", "padBottom", "padLeft", "padRight"}) k.push_back(a.i(name));
  return k;
}

/** Same tensor data: the slot holds references, so equal pointers cannot be reused memory. */
bool same_data(const at::Tensor& a, const at::Tensor& b) {
  return a.defined() && b.defined() && a.data_ptr() == b.data_ptr() && a.sizes().equals(b.sizes()) &&
         a.strides().equals(b.strides()) && a.scalar_type() == b.scalar_type();
}

// inputs: dy, filter, x; attrs: strides, pads. The input gradient of conv(x, filter), with
// the weight gradient computed in the same ATen call and kept for the Conv2DBackpropFilter
// call that follows: one call shares the layout copies of dy and x (NCHW path) and oneDNN's
// set-up, which made the deep layers' two gradients 20-30 % cheaper (conv_layout.cc).
Tensors op_conv2d_backprop_pair(const Tensors& in, const Attrs& a) {
  Pad4 p = pad_of(a);
  const at::Tensor& dy = in[0];
  const at::Tensor& w = in[1];
  const at::Tensor& x = in[2];
  t_paired = {};  // an unclaimed gradient from an earlier pair is stale now
  bool nchw = conv_use_nchw(ConvPass::BothGrads, x.size(0), x.size(3), w.size(3), x.size(1), x.size(2));
  at::Tensor xn = nchw_in(x, nchw);
  bool sym = p.symmetric();
  std::vector<int64_t> padding{p.top, p.left};
  if (!sym) {
    xn = pad_nchw(xn, p, 0.0);
    padding = {0, 0};
  }
  auto grads = at::convolution_backward(nchw_in(dy, nchw), xn, weight_oihw(w, nchw), c10::nullopt,
                                        {a.i("strideH"), a.i("strideW")}, padding, {1, 1}, false, {0, 0}, 1,
                                        {true, true, false});
  at::Tensor dx = std::get<0>(grads);
  if (!sym) dx = dx.narrow(2, p.top, x.size(1)).narrow(3, p.left, x.size(2));
  t_paired = {x, dy, std::get<1>(grads).permute({2, 3, 1, 0}), pair_key(w.sizes().vec(), a)};
  return {to_nhwc(dx)};
}

// inputs: x, dy; attrs: filterShape [kh,kw,in,out], strides, pads
Tensors op_conv2d_backprop_filter(const Tensors& in, const Attrs& a) {
  Pad4 p = pad_of(a);
  std::vector<int64_t> f = a.ints("filterShape");
  const at::Tensor& x = in[0];
  // The gradient op_conv2d_backprop_pair computed for this x and dy, if it is waiting.
  if (t_paired.dw.defined()) {
    bool hit = same_data(t_paired.x, x) && same_data(t_paired.dy, in[1]) && t_paired.key == pair_key(f, a);
    at::Tensor dw = hit ? t_paired.dw : at::Tensor();
    t_paired = {};
    if (hit) return {dw};
  }
  bool nchw = conv_use_nchw(ConvPass::WeightGrad, x.size(0), x.size(3), f[3], x.size(1), x.size(2));
  auto format = nchw ? at::MemoryFormat::Contiguous : at::MemoryFormat::ChannelsLast;
  at::Tensor xn = nchw_in(x, nchw);
  // Symmetric padding is passed to ATen, which pads inside oneDNN; only asymmetric
  // padding needs the padded copy of x.
  std::vector<int64_t> padding{p.top, p.left};
  if (!p.symmetric()) {
    xn = pad_nchw(xn, p, 0.0);
    padding = {0, 0};
  }
  at::Tensor proto = at::empty({f[3], f[2], f[0], f[1]}, x.options().memory_format(format));
  auto grads = at::convolution_backward(nchw_in(in[1], nchw), xn, proto, c10::nullopt,
                                        {a.i("strideH"), a.i("strideW")}, padding, {1, 1}, false, {0, 0}, 1,
                                        {false, true, false});
  return {std::get<1>(grads).permute({2, 3, 1, 0})};
}

/** max pool with indices on NCHW; asymmetric padding is applied with -inf. */
std::tuple<at::Tensor, at::Tensor, at::Tensor> max_pool(const at::Tensor& x, const Attrs& a) {
  Pad4 p = pad_of(a);
  at::Tensor xn = to_nchw(x);
  xn = pad_nchw(xn, p, -std::numeric_limits<double>::infinity());
  auto r = at::max_pool2d_with_indices(xn, {a.i("filterH"), a.i("filterW")}, {a.i("strideH"), a.i("strideW")},
                                       {0, 0}, {1, 1}, false);
  return {std::get<0>(r), std::get<1>(r), xn};
}

Tensors op_max_pool(const Tensors& in, const Attrs& a) { return {to_nhwc(std::get<0>(max_pool(in[0], a)))}; }

// inputs: dy, x
Tensors op_max_pool_grad(const Tensors& in, const Attrs& a) {
  Pad4 p = pad_of(a);
  auto [y, idx, xn] = max_pool(in[1], a);
  at::Tensor dx = at::max_pool2d_with_indices_backward(to_nchw(in[0]), xn, {a.i("filterH"), a.i("filterW")},
                                                       {a.i("strideH"), a.i("strideW")}, {0, 0}, {1, 1}, false, idx);
  dx = dx.narrow(2, p.top, in[1].size(1)).narrow(3, p.left, in[1].size(2));
  return {to_nhwc(dx)};
}

Tensors op_avg_pool(const Tensors& in, const Attrs& a) {
  Pad4 p = pad_of(a);
  if (!p.symmetric()) throw std::invalid_argument("AvgPool with asymmetric padding is not supported");
  at::Tensor y = at::avg_pool2d(to_nchw(in[0]), {a.i("filterH"), a.i("filterW")}, {a.i("strideH"), a.i("strideW")},
                                {p.top, p.left}, false, false);
  return {to_nhwc(y)};
}

// inputs: dy, x
Tensors op_avg_pool_grad(const Tensors& in, const Attrs& a) {
  Pad4 p = pad_of(a);
  if (!p.symmetric()) throw std::invalid_argument("AvgPoolGrad with asymmetric padding is not supported");
  // tfjs' AvgPoolGrad divides by the full window even where the forward pass excluded
  // padding (count_include_pad = true here); matched so both backends train alike.
  at::Tensor dx = at::avg_pool2d_backward(to_nchw(in[0]), to_nchw(in[1]), {a.i("filterH"), a.i("filterW")},
                                          {a.i("strideH"), a.i("strideW")}, {p.top, p.left}, false, true,
                                          c10::nullopt);
  return {to_nhwc(dx)};
}

// inputs: x, mean, variance, [offset], [scale]; attrs: hasOffset, hasScale, varianceEpsilon
Tensors op_batch_norm(const Tensors& in, const Attrs& a) {
  at::Tensor inv = at::rsqrt(in[2] + a.f("varianceEpsilon"));
  size_t k = 3;
  at::Tensor offset = a.b("hasOffset") ? in[k++] : at::Tensor();
  if (a.b("hasScale")) inv = inv * in[k];
  at::Tensor y = (in[0] - in[1]) * inv;
  if (offset.defined()) y = y + offset;
  return {y};
}

/** Source rows for tfjs' resize formulas along one axis (legacy or half-pixel). */
struct Axis {
  at::Tensor lo, hi, frac, nearest;
};

Axis resize_axis(int64_t in_size, int64_t out_size, bool align, bool half) {
  double eff_in = (align && out_size > 1) ? in_size - 1 : in_size;
  double eff_out = (align && out_size > 1) ? out_size - 1 : out_size;
  double ratio = eff_in / eff_out;
  std::vector<int64_t> lo(out_size), hi(out_size), nearest(out_size);
  std::vector<float> frac(out_size);
  for (int64_t r = 0; r < out_size; r++) {
    double src = half ? ratio * (r + 0.5) - 0.5 : ratio * r;
    double fl = std::max(0.0, std::floor(src));
    lo[r] = static_cast<int64_t>(fl);
    hi[r] = std::min<int64_t>(in_size - 1, static_cast<int64_t>(std::ceil(src)));
    frac[r] = static_cast<float>(src - fl);
    double nsrc = half ? ratio * (r + 0.5) : ratio * r;
    int64_t n = std::min<int64_t>(in_size - 1, static_cast<int64_t>(align ? std::round(nsrc) : std::floor(nsrc)));
    nearest[r] = half ? std::max<int64_t>(0, n) : n;
  }
  auto li = at::TensorOptions().dtype(at::kLong);
  return {at::tensor(lo, li), at::tensor(hi, li), at::tensor(frac, at::TensorOptions().dtype(at::kFloat)),
          at::tensor(nearest, li)};
}

// inputs: images [n,h,w,c]; attrs: newH, newW, alignCorners, halfPixelCenters
Tensors op_resize_bilinear(const Tensors& in, const Attrs& a) {
  const at::Tensor& x = in[0];
  Axis ry = resize_axis(x.size(1), a.i("newH"), a.b("alignCorners"), a.b("halfPixelCenters"));
  Axis rx = resize_axis(x.size(2), a.i("newW"), a.b("alignCorners"), a.b("halfPixelCenters"));
  at::Tensor fy = ry.frac.view({1, -1, 1, 1}), fx = rx.frac.view({1, 1, -1, 1});
  at::Tensor top = x.index_select(1, ry.lo), bottom = x.index_select(1, ry.hi);
  at::Tensor tl = top.index_select(2, rx.lo), tr = top.index_select(2, rx.hi);
  at::Tensor bl = bottom.index_select(2, rx.lo), br = bottom.index_select(2, rx.hi);
  at::Tensor t = tl + (tr - tl) * fx;
  at::Tensor b = bl + (br - bl) * fx;
  return {t + (b - t) * fy};
}

// inputs: images, dy; attrs: alignCorners (tfjs' gradient uses the legacy mapping)
Tensors op_resize_bilinear_grad(const Tensors& in, const Attrs& a) {
  const at::Tensor& x = in[0];
  const at::Tensor& dy = in[1];
  Axis ry = resize_axis(x.size(1), dy.size(1), a.b("alignCorners"), false);
  Axis rx = resize_axis(x.size(2), dy.size(2), a.b("alignCorners"), false);
  at::Tensor fx = rx.frac.view({1, 1, -1, 1}), fy = ry.frac.view({1, -1, 1, 1});
  at::Tensor cols = at::zeros({dy.size(0), dy.size(1), x.size(2), dy.size(3)}, dy.options());
  cols.index_add_(2, rx.lo, dy * (1 - fx));
  cols.index_add_(2, rx.hi, dy * fx);
  at::Tensor dx = at::zeros(x.sizes(), dy.options());
  dx.index_add_(1, ry.lo, cols * (1 - fy));
  dx.index_add_(1, ry.hi, cols * fy);
  return {dx};
}

Tensors op_resize_nearest(const Tensors& in, const Attrs& a) {
  const at::Tensor& x = in[0];
  Axis ry = resize_axis(x.size(1), a.i("newH"), a.b("alignCorners"), a.b("halfPixelCenters"));
  Axis rx = resize_axis(x.size(2), a.i("newW"), a.b("alignCorners"), a.b("halfPixelCenters"));
  return {x.index_select(1, ry.nearest).index_select(2, rx.nearest)};
}

Tensors op_resize_nearest_grad(const Tensors& in, const Attrs& a) {
  const at::Tensor& x = in[0];
  const at::Tensor& dy = in[1];
  Axis ry = resize_axis(x.size(1), dy.size(1), a.b("alignCorners"), false);
  Axis rx = resize_axis(x.size(2), dy.size(2), a.b("alignCorners"), false);
  at::Tensor cols = at::zeros({dy.size(0), dy.size(1), x.size(2), dy.size(3)}, dy.options());
  cols.index_add_(2, rx.nearest, dy);
  at::Tensor dx = at::zeros(x.sizes(), dy.options());
  dx.index_add_(1, ry.nearest, cols);
  return {dx};
}

// attrs: transposeA, transposeB
Tensors op_batch_matmul(const Tensors& in, const Attrs& a) {
  at::Tensor A = a.b("transposeA") ? in[0].transpose(-1, -2) : in[0];
  at::Tensor B = a.b("transposeB") ? in[1].transpose(-1, -2) : in[1];
  return {at::matmul(A, B)};
}

// inputs: a, b, [bias], [prelu]; attrs as BatchMatMul plus hasBias, hasPrelu, activation
Tensors op_fused_matmul(const Tensors& in, const Attrs& a) {
  at::Tensor y = op_batch_matmul(in, a)[0];
  size_t k = 2;
  if (a.b("hasBias")) y = y + in[k++];
  const at::Tensor* prelu = a.b("hasPrelu") ? &in[k] : nullptr;
  return {activation_(y, a.s("activation"), prelu, a.has("leakyreluAlpha") ? a.f("leakyreluAlpha") : 0.2)};
}

// attrs: pads (flat [before0, after0, ...] in tfjs axis order), value
Tensors op_pad(const Tensors& in, const Attrs& a) {
  std::vector<int64_t> p = a.ints("pads");
  std::vector<int64_t> torch_pad;
  for (int64_t d = static_cast<int64_t>(p.size()) / 2 - 1; d >= 0; d--) {
    torch_pad.push_back(p[2 * d]);
    torch_pad.push_back(p[2 * d + 1]);
  }
  return {at::constant_pad_nd(in[0], torch_pad, a.f("value"))};
}

// attrs: pads, mode ('reflect' | 'symmetric')
Tensors op_mirror_pad(const Tensors& in, const Attrs& a) {
  std::vector<int64_t> p = a.ints("pads");
  int64_t off = a.s("mode") == "reflect" ? 1 : 0;
  at::Tensor y = in[0];
  for (size_t d = 0; d < p.size() / 2; d++) {
    int64_t before = p[2 * d], after = p[2 * d + 1], n = y.size(static_cast<int64_t>(d));
    std::vector<at::Tensor> parts;
    if (before > 0) parts.push_back(y.narrow(static_cast<int64_t>(d), off, before).flip({static_cast<int64_t>(d)}));
    parts.push_back(y);
    if (after > 0)
      parts.push_back(y.narrow(static_cast<int64_t>(d), n - after - off, after).flip({static_cast<int64_t>(d)}));
    if (parts.size() > 1) y = at::cat(parts, static_cast<int64_t>(d));
  }
  return {y};
}

Tensors op_softmax(const Tensors& in, const Attrs& a) { return {at::softmax(in[0], a.i("dim"))}; }

// inputs: dy, x. The ReLU gradient, dy where x > 0 else 0, in one pass: tfjs' own
// (dy * step(x)) is two full-size kernels and a temporary per activation.
Tensors op_relu_grad(const Tensors& in, const Attrs&) { return {at::threshold_backward(in[0], in[1], 0)}; }

}  // namespace

void register_nn_ops() {
  register_op("reluGrad", op_relu_grad);
  register_op("conv2d", op_conv2d);
  register_op("fusedConv2d", op_fused_conv2d);
  register_op("conv2dBackpropInput", op_conv2d_backprop_input);
  register_op("conv2dBackpropFilter", op_conv2d_backprop_filter);
  register_op("conv2dBackpropPair", op_conv2d_backprop_pair);
  register_op("maxPool", op_max_pool);
  register_op("maxPoolGrad", op_max_pool_grad);
  register_op("avgPool", op_avg_pool);
  register_op("avgPoolGrad", op_avg_pool_grad);
  register_op("batchNorm", op_batch_norm);
  register_op("resizeBilinear", op_resize_bilinear);
  register_op("resizeBilinearGrad", op_resize_bilinear_grad);
  register_op("resizeNearest", op_resize_nearest);
  register_op("resizeNearestGrad", op_resize_nearest_grad);
  register_op("batchMatMul", op_batch_matmul);
  register_op("fusedMatMul", op_fused_matmul);
  register_op("pad", op_pad);
  register_op("mirrorPad", op_mirror_pad);
  register_op("softmax", op_softmax);
}

}  // namespace dentseg
