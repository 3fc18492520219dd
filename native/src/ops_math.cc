// Element-wise, reduction and shape ops of the tfjs kernel set on ATen. Unary and binary
// functions are table-driven (one name -> one ATen call); ATen broadcasting follows the
// same NumPy rules as tfjs. Axes arrive already normalised (non-negative) from TS.
#include <cmath>
#include <limits>
#include <stdexcept>
#include <unordered_map>

#include <ATen/Parallel.h>

#include "common.h"

namespace dentseg {
namespace {

using Unary = at::Tensor (*)(const at::Tensor&);
using Binary = at::Tensor (*)(const at::Tensor&, const at::Tensor&);

at::Tensor as_float(const at::Tensor& x) { return x.is_floating_point() ? x : x.to(at::kFloat); }

const std::unordered_map<std::string, Unary>& unary_table() {
  static const std::unordered_map<std::string, Unary> t = {
      {"Abs", [](const at::Tensor& x) { return at::abs(x); }},
      {"Acos", [](const at::Tensor& x) { return at::acos(as_float(x)); }},
      {"Acosh", [](const at::Tensor& x) { return at::acosh(as_float(x)); }},
      {"Asin", [](const at::Tensor& x) { return at::asin(as_float(x)); }},
      {"Asinh", [](const at::Tensor& x) { return at::asinh(as_float(x)); }},
      {"Atan", [](const at::Tensor& x) { return at::atan(as_float(x)); }},
      {"Atanh", [](const at::Tensor& x) { return at::atanh(as_float(x)); }},
      {"Ceil", [](const at::Tensor& x) { return at::ceil(x); }},
      {"Cos", [](const at::Tensor& x) { return at::cos(as_float(x)); }},
      {"Cosh", [](const at::Tensor& x) { return at::cosh(as_float(x)); }},
      {"Elu", [](const at::Tensor& x) { return at::elu(x); }},
      {"Erf", [](const at::Tensor& x) { return at::erf(as_float(x)); }},
      {"Exp", [](const at::Tensor& x) { return at::exp(as_float(x)); }},
      {"Expm1", [](const at::Tensor& x) { return at::expm1(as_float(x)); }},
      {"Floor", [](const at::Tensor& x) { return at::floor(x); }},
      {"IsFinite", [](const at::Tensor& x) { return at::isfinite(x); }},
      {"IsInf", [](const at::Tensor& x) { return at::isinf(x); }},
      {"IsNan", [](const at::Tensor& x) { return at::isnan(x); }},
      {"Log", [](const at::Tensor& x) { return at::log(as_float(x)); }},
      {"Log1p", [](const at::Tensor& x) { return at::log1p(as_float(x)); }},
      {"LogicalNot", [](const at::Tensor& x) { return at::logical_not(x); }},
      {"Neg", [](const at::Tensor& x) { return at::neg(x); }},
      {"Reciprocal", [](const at::Tensor& x) { return at::reciprocal(as_float(x)); }},
      {"Relu", [](const at::Tensor& x) { return at::relu(x); }},
      {"Relu6", [](const at::Tensor& x) { return at::clamp(x, 0, 6); }},
      {"Round", [](const at::Tensor& x) { return at::round(x); }},
      {"Rsqrt", [](const at::Tensor& x) { return at::rsqrt(as_float(x)); }},
      {"Selu", [](const at::Tensor& x) { return at::selu(x); }},
      {"Sigmoid", [](const at::Tensor& x) { return at::sigmoid(as_float(x)); }},
      {"Sign", [](const at::Tensor& x) { return at::sign(x); }},
      {"Sin", [](const at::Tensor& x) { return at::sin(as_float(x)); }},
      {"Sinh", [](const at::Tensor& x) { return at::sinh(as_float(x)); }},
      {"Softplus", [](const at::Tensor& x) { return at::softplus(as_float(x)); }},
      {"Sqrt", [](const at::Tensor& x) { return at::sqrt(as_float(x)); }},
      {"Square", [](const at::Tensor& x) { return at::square(x); }},
      {"Tan", [](const at::Tensor& x) { return at::tan(as_float(x)); }},
      {"Tanh", [](const at::Tensor& x) { return at::tanh(as_float(x)); }},
      {"ZerosLike", [](const at::Tensor& x) { return at::zeros_like(x); }},
      {"OnesLike", [](const at::Tensor& x) { return at::ones_like(x); }},
  };
  return t;
}

const std::unordered_map<std::string, Binary>& binary_table() {
  static const std::unordered_map<std::string, Binary> t = {
      {"Add", [](const at::Tensor& a, const at::Tensor& b) { return at::add(a, b); }},
      {"Sub", [](const at::Tensor& a, const at::Tensor& b) { return at::sub(a, b); }},
      {"Multiply", [](const at::Tensor& a, const at::Tensor& b) { return at::mul(a, b); }},
      {"RealDiv", [](const at::Tensor& a, const at::Tensor& b) { return at::div(a, b); }},
      {"FloorDiv", [](const at::Tensor& a, const at::Tensor& b) { return at::div(a, b, "floor").to(at::kInt); }},
      {"Maximum", [](const at::Tensor& a, const at::Tensor& b) { return at::maximum(a, b); }},
      {"Minimum", [](const at::Tensor& a, const at::Tensor& b) { return at::minimum(a, b); }},
      {"Mod", [](const at::Tensor& a, const at::Tensor& b) { return at::remainder(a, b); }},
      {"Pow", [](const at::Tensor& a, const at::Tensor& b) { return at::pow(a, b); }},
      {"Atan2", [](const at::Tensor& a, const at::Tensor& b) { return at::atan2(as_float(a), as_float(b)); }},
      {"SquaredDifference", [](const at::Tensor& a, const at::Tensor& b) { return at::square(a - b); }},
      {"Equal", [](const at::Tensor& a, const at::Tensor& b) { return at::eq(a, b); }},
      {"NotEqual", [](const at::Tensor& a, const at::Tensor& b) { return at::ne(a, b); }},
      {"Greater", [](const at::Tensor& a, const at::Tensor& b) { return at::gt(a, b); }},
      {"GreaterEqual", [](const at::Tensor& a, const at::Tensor& b) { return at::ge(a, b); }},
      {"Less", [](const at::Tensor& a, const at::Tensor& b) { return at::lt(a, b); }},
      {"LessEqual", [](const at::Tensor& a, const at::Tensor& b) { return at::le(a, b); }},
      {"LogicalAnd", [](const at::Tensor& a, const at::Tensor& b) { return at::logical_and(a, b); }},
      {"LogicalOr", [](const at::Tensor& a, const at::Tensor& b) { return at::logical_or(a, b); }},
      {"LogicalXor", [](const at::Tensor& a, const at::Tensor& b) { return at::logical_xor(a, b); }},
      {"Prelu", [](const at::Tensor& x, const at::Tensor& al) { return at::where(x < 0, x * al, x); }},
      {"EluGrad", [](const at::Tensor& dy, const at::Tensor& y) { return at::where(y < 0, dy * (y + 1), dy); }},
  };
  return t;
}

Tensors op_unary(const Tensors& in, const Attrs& a) {
  std::string fn = a.s("fn");
  auto it = unary_table().find(fn);
  if (it == unary_table().end()) throw std::invalid_argument("no unary function " + fn);
  return {it->second(in[0])};
}

Tensors op_binary(const Tensors& in, const Attrs& a) {
  std::string fn = a.s("fn");
  auto it = binary_table().find(fn);
  if (it == binary_table().end()) throw std::invalid_argument("no binary function " + fn);
  return {it->second(in[0], in[1])};
}

// attrs: fn (sum|mean|max|min|prod|any|all), axes (non-negative), keepDims
Tensors op_reduce(const Tensors& in, const Attrs& a) {
  std::string fn = a.s("fn");
  std::vector<int64_t> axes = a.ints("axes");
  bool keep = a.b("keepDims");
  at::Tensor x = in[0];
  if (fn == "sum" && x.scalar_type() == at::kBool) x = x.to(at::kInt);
  if (axes.empty()) return {fn == "mean" ? as_float(x).clone() : x.clone()};
  if (fn == "sum") return {at::sum(x, axes, keep)};
  if (fn == "mean") return {at::mean(as_float(x), axes, keep)};
  if (fn == "max") return {at::amax(x, axes, keep)};
  if (fn == "min") return {at::amin(x, axes, keep)};
  std::sort(axes.rbegin(), axes.rend());
  at::Tensor y = x;
  for (int64_t d : axes) {
    if (fn == "prod") y = at::prod(y, d, keep);
    else if (fn == "any") y = at::any(y, d, keep);
    else if (fn == "all") y = at::all(y, d, keep);
    else throw std::invalid_argument("no reduction " + fn);
  }
  return {y};
}

Tensors op_arg(const Tensors& in, const Attrs& a) {
  int64_t axis = a.i("axis");
  return {a.s("fn") == "max" ? at::argmax(in[0], axis) : at::argmin(in[0], axis)};
}

/** Exclusive scan from an inclusive one: shift by one along `axis`, `fill` first. */
at::Tensor shift_exclusive(const at::Tensor& incl, int64_t axis, double fill) {
  int64_t n = incl.size(axis);
  if (n == 0) return incl;
  at::Tensor head = at::full_like(incl.narrow(axis, 0, 1), fill);
  return at::cat({head, incl.narrow(axis, 0, n - 1)}, axis);
}

// attrs: fn (sum|prod), axis, exclusive, reverse
Tensors op_scan(const Tensors& in, const Attrs& a) {
  int64_t axis = a.i("axis");
  bool prod = a.s("fn") == "prod";
  at::Tensor x = a.b("reverse") ? in[0].flip({axis}) : in[0];
  at::Tensor y = prod ? at::cumprod(x, axis) : at::cumsum(x, axis);
  if (a.b("exclusive")) y = shift_exclusive(y, axis, prod ? 1.0 : 0.0);
  return {a.b("reverse") ? y.flip({axis}) : y};
}

// inputs: x, segmentIds; attrs: numSegments. Ids outside [0, numSegments) are dropped.
Tensors op_segment_sum(const Tensors& in, const Attrs& a) {
  int64_t segments = a.i("numSegments");
  at::Tensor ids = in[1].to(at::kLong).reshape({-1});
  std::vector<int64_t> rest(in[0].sizes().begin() + in[1].dim(), in[0].sizes().end());
  at::Tensor x = in[0].reshape({ids.size(0), -1});
  at::Tensor valid = (ids >= 0).logical_and(ids < segments);
  std::vector<int64_t> shape{segments};
  shape.insert(shape.end(), rest.begin(), rest.end());
  at::Tensor out = at::zeros({segments, x.size(1)}, x.options());
  out.index_add_(0, ids.masked_select(valid), x.index({valid}));
  return {out.reshape(shape)};
}

// attrs: k, sorted. Values and int32 indices along the last axis, largest first.
Tensors op_topk(const Tensors& in, const Attrs& a) {
  auto r = at::topk(in[0], a.i("k"), -1, true, true);
  return {std::get<0>(r), std::get<1>(r)};
}

Tensors op_linspace(const Tensors&, const Attrs& a) {
  return {at::linspace(a.f("start"), a.f("stop"), a.i("num"), at::TensorOptions().dtype(at::kFloat))};
}

Tensors op_cast(const Tensors& in, const Attrs& a) {
  at::ScalarType t = dtype_from_name(a.s("dtype"));
  if (t == at::kBool) return {in[0] != 0};
  return {in[0].to(t)};
}

Tensors op_transpose(const Tensors& in, const Attrs& a) { return {in[0].permute(a.ints("perm"))}; }

// attrs: begin, size (resolved, non-negative)
Tensors op_slice(const Tensors& in, const Attrs& a) {
  std::vector<int64_t> begin = a.ints("begin"), size = a.ints("size");
  at::Tensor y = in[0];
  for (size_t d = 0; d < begin.size(); d++) y = y.narrow(static_cast<int64_t>(d), begin[d], size[d]);
  return {y};
}

// attrs: begin, end, strides (resolved by tfjs' slice_util, positive strides only)
Tensors op_strided_slice(const Tensors& in, const Attrs& a) {
  std::vector<int64_t> begin = a.ints("begin"), end = a.ints("end"), strides = a.ints("strides");
  at::Tensor y = in[0];
  for (size_t d = 0; d < begin.size(); d++)
    y = y.slice(static_cast<int64_t>(d), begin[d], std::max(begin[d], end[d]), strides[d]);
  return {y};
}

Tensors op_concat(const Tensors& in, const Attrs& a) { return {at::cat(in, a.i("axis"))}; }

Tensors op_split(const Tensors& in, const Attrs& a) {
  auto parts = at::split_with_sizes(in[0], a.ints("sizes"), a.i("axis"));
  return Tensors(parts.begin(), parts.end());
}

Tensors op_stack(const Tensors& in, const Attrs& a) { return {at::stack(in, a.i("axis"))}; }

Tensors op_unstack(const Tensors& in, const Attrs& a) {
  auto parts = at::unbind(in[0], a.i("axis"));
  return Tensors(parts.begin(), parts.end());
}

Tensors op_tile(const Tensors& in, const Attrs& a) { return {in[0].repeat(a.ints("reps"))}; }

Tensors op_reverse(const Tensors& in, const Attrs& a) {
  std::vector<int64_t> dims = a.ints("dims");
  return {dims.empty() ? in[0].clone() : in[0].flip(dims)};
}

// inputs: x, indices; attrs: axis
Tensors op_gather(const Tensors& in, const Attrs& a) {
  int64_t axis = a.i("axis");
  const at::Tensor& x = in[0];
  at::Tensor idx = in[1].to(at::kLong);
  std::vector<int64_t> shape(x.sizes().begin(), x.sizes().begin() + axis);
  for (int64_t s : idx.sizes()) shape.push_back(s);
  for (int64_t d = axis + 1; d < x.dim(); d++) shape.push_back(x.size(d));
  return {x.index_select(axis, idx.reshape({-1})).reshape(shape)};
}

// inputs: condition, t, e (tfjs broadcasts all three to one shape before the kernel)
Tensors op_select(const Tensors& in, const Attrs& a) { return {at::where(in[0].to(at::kBool), in[1], in[2])}; }

Tensors op_clip(const Tensors& in, const Attrs& a) { return {at::clamp(in[0], a.f("min"), a.f("max"))}; }

// tfjs step: x > 0 ? 1 : alpha, NaN stays NaN. The ReLU gradient (dy * step(x)) runs it on
// every activation, so float32 takes one parallel pass instead of a chain of temporaries.
Tensors op_step(const Tensors& in, const Attrs& a) {
  const at::Tensor& x = in[0];
  double alpha = a.f("alpha");
  if (x.scalar_type() == at::kFloat) {
    at::Tensor xc = x.contiguous();
    at::Tensor y = at::empty_like(xc);
    const float* src = xc.data_ptr<float>();
    float* dst = y.data_ptr<float>();
    const float al = static_cast<float>(alpha);
    at::parallel_for(0, xc.numel(), 1 << 15, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; i++) {
        float v = src[i];
        dst[i] = v > 0 ? 1.0f : (v != v ? v : al);
      }
    });
    return {y};
  }
  at::Tensor y = (x > 0).to(x.scalar_type());
  if (alpha != 0) y = at::where(x > 0, y, at::full_like(y, alpha));
  return {y};
}

Tensors op_leaky_relu(const Tensors& in, const Attrs& a) {
  return {at::where(in[0] < 0, in[0] * a.f("alpha"), in[0])};
}

// attrs: shape, value, dtype
Tensors op_fill(const Tensors&, const Attrs& a) {
  return {at::full(a.ints("shape"), a.f("value"), at::TensorOptions().dtype(dtype_from_name(a.s("dtype"))))};
}

// attrs: start, step, count, dtype
Tensors op_range(const Tensors&, const Attrs& a) {
  at::Tensor r = at::arange(a.i("count"), at::TensorOptions().dtype(at::kDouble)) * a.f("step") + a.f("start");
  return {r.to(dtype_from_name(a.s("dtype")))};
}

// inputs: indices; attrs: depth, onValue, offValue, dtype
Tensors op_one_hot(const Tensors& in, const Attrs& a) {
  // One write of the output in its own dtype: fill with offValue, then scatter onValue
  // at each valid index. (at::one_hot builds an int64 tensor and scans the indices for
  // their range; with the arithmetic after it that was six full passes over a 33-class
  // 256² batch-8 target, ~0.4 s per call on two cores.) Out-of-range indices give a row
  // of offValue, as on tfjs' cpu backend: their scatter writes offValue at column 0.
  int64_t depth = a.i("depth");
  double on = a.f("onValue");
  double off = a.f("offValue");
  at::Tensor idx = in[0].to(at::kLong).unsqueeze(-1);
  at::Tensor valid = (idx >= 0).logical_and(idx < depth);
  std::vector<int64_t> shape = in[0].sizes().vec();
  shape.push_back(depth);
  at::ScalarType dtype = dtype_from_name(a.s("dtype"));
  at::Tensor y = at::full(shape, off, at::TensorOptions().dtype(dtype));
  at::Tensor src = at::where(valid, at::scalar_tensor(on, y.options()),
                             at::scalar_tensor(off, y.options()));
  y.scatter_(-1, at::where(valid, idx, at::zeros_like(idx)), src);
  return {y};
}

Tensors op_add_n(const Tensors& in, const Attrs&) {
  at::Tensor y = in[0].clone();
  for (size_t k = 1; k < in.size(); k++) y.add_(in[k]);
  return {y};
}

Tensors op_clone(const Tensors& in, const Attrs&) { return {in[0].clone()}; }

// inputs: x (a variable), g (its gradient), m, v (Adam's moments); attrs: lr, beta1, beta2,
// epsilon, correction1/2 (1 - beta^t). One pass writes the new x, m and v with tfjs'
// AdamOptimizer formula; tfjs' own update is 14 full-size kernels per variable (each a
// read and a fresh write of the 19 M parameters at full width).
Tensors op_adam_update(const Tensors& in, const Attrs& a) {
  at::Tensor x = in[0].contiguous(), g = in[1].contiguous(), m = in[2].contiguous(), v = in[3].contiguous();
  for (const at::Tensor* t : {&x, &g, &m, &v}) {
    if (t->scalar_type() != at::kFloat || t->numel() != x.numel())
      throw std::invalid_argument("adamUpdate: x, g, m and v must be float32 of one size");
  }
  at::Tensor nx = at::empty_like(x), nm = at::empty_like(m), nv = at::empty_like(v);
  const float b1 = static_cast<float>(a.f("beta1")), b2 = static_cast<float>(a.f("beta2"));
  const float lr = static_cast<float>(a.f("lr")), eps = static_cast<float>(a.f("epsilon"));
  const float c1 = static_cast<float>(a.f("correction1")), c2 = static_cast<float>(a.f("correction2"));
  const float *px = x.data_ptr<float>(), *pg = g.data_ptr<float>(), *pm = m.data_ptr<float>(),
              *pv = v.data_ptr<float>();
  float *qx = nx.data_ptr<float>(), *qm = nm.data_ptr<float>(), *qv = nv.data_ptr<float>();
  at::parallel_for(0, x.numel(), 1 << 15, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; i++) {
      float gi = pg[i];
      float mi = pm[i] * b1 + gi * (1 - b1);
      float vi = pv[i] * b2 + gi * gi * (1 - b2);
      qm[i] = mi;
      qv[i] = vi;
      qx[i] = (mi / c1) / (std::sqrt(vi / c2) + eps) * -lr + px[i];
    }
  });
  return {nx, nm, nv};
}

}  // namespace

void register_math_ops() {
  register_op("unary", op_unary);
  register_op("binary", op_binary);
  register_op("reduce", op_reduce);
  register_op("arg", op_arg);
  register_op("scan", op_scan);
  register_op("segmentSum", op_segment_sum);
  register_op("topk", op_topk);
  register_op("linspace", op_linspace);
  register_op("cast", op_cast);
  register_op("transpose", op_transpose);
  register_op("slice", op_slice);
  register_op("stridedSlice", op_strided_slice);
  register_op("concat", op_concat);
  register_op("split", op_split);
  register_op("stack", op_stack);
  register_op("unstack", op_unstack);
  register_op("tile", op_tile);
  register_op("reverse", op_reverse);
  register_op("gather", op_gather);
  register_op("select", op_select);
  register_op("clip", op_clip);
  register_op("step", op_step);
  register_op("leakyRelu", op_leaky_relu);
  register_op("fill", op_fill);
  register_op("range", op_range);
  register_op("oneHot", op_one_hot);
  register_op("addN", op_add_n);
  register_op("clone", op_clone);
  register_op("adamUpdate", op_adam_update);
}

}  // namespace dentseg
