// N-API entry of the libtorch addon: a store of ATen tensors keyed by integer handles,
// data transfer to and from JS typed arrays, thread control, and `exec`, which runs one
// op from the table on stored tensors. Everything here runs synchronously on the calling
// (JS) thread; see src/engine/torch/README.md.
#include <cstring>
#include <mutex>
#include <unordered_map>

#include <ATen/Parallel.h>
#include <torch/csrc/api/include/torch/version.h>

#include "common.h"
#include "conv_layout.h"
#include "layout_copy.h"

namespace dentseg {
namespace {

// One store per process, shared by every JS thread that loads the addon (worker threads
// included), hence the lock; ops themselves run outside it.
std::mutex g_mu;
std::unordered_map<uint32_t, at::Tensor> g_store;
uint32_t g_next_id = 1;
std::unordered_map<std::string, OpFn>& op_table() {
  static std::unordered_map<std::string, OpFn> table;
  return table;
}

uint32_t put(at::Tensor t) {
  std::lock_guard<std::mutex> lock(g_mu);
  uint32_t id = g_next_id++;
  g_store.emplace(id, std::move(t));
  return id;
}

at::Tensor lookup(Napi::Env env, uint32_t id) {
  std::lock_guard<std::mutex> lock(g_mu);
  auto it = g_store.find(id);
  if (it == g_store.end()) throw Napi::Error::New(env, "torch: unknown tensor handle " + std::to_string(id));
  return it->second;
}

std::vector<int64_t> shape_of(Napi::Value v) {
  std::vector<int64_t> out;
  Napi::Array arr = v.As<Napi::Array>();
  out.reserve(arr.Length());
  for (uint32_t i = 0; i < arr.Length(); i++) out.push_back(arr.Get(i).As<Napi::Number>().Int64Value());
  return out;
}

const char* dtype_name(at::ScalarType t) {
  switch (t) {
    case at::kFloat: return "float32";
    case at::kInt: return "int32";
    case at::kBool: return "bool";
    default: return "unsupported";
  }
}

/** Brings an op result to a form the JS side can hold: contiguous, float32/int32/bool. */
at::Tensor normalise(const at::Tensor& t) {
  at::Tensor r = t;
  switch (t.scalar_type()) {
    case at::kFloat: case at::kInt: case at::kBool: break;
    case at::kDouble: case at::kHalf: case at::kBFloat16: r = t.to(at::kFloat); break;
    default: r = t.to(at::kInt); break;
  }
  return contiguous_fast(r);
}

Napi::Value Write(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::TypedArray arr = info[0].As<Napi::TypedArray>();
  std::vector<int64_t> shape = shape_of(info[1]);
  at::ScalarType type = dtype_from_name(info[2].As<Napi::String>().Utf8Value());
  at::Tensor t = at::empty(shape, at::TensorOptions().dtype(type));
  size_t bytes = static_cast<size_t>(t.numel()) * t.element_size();
  if (arr.ByteLength() != bytes)
    throw Napi::Error::New(env, "torch write: " + std::to_string(arr.ByteLength()) + " bytes for a tensor of " +
                                    std::to_string(bytes));
  if (bytes > 0) {
    const uint8_t* src = static_cast<const uint8_t*>(arr.ArrayBuffer().Data()) + arr.ByteOffset();
    std::memcpy(t.data_ptr(), src, bytes);
  }
  return Napi::Number::New(env, put(std::move(t)));
}

Napi::Value Read(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  at::Tensor c = lookup(env, info[0].As<Napi::Number>().Uint32Value()).contiguous();
  size_t n = static_cast<size_t>(c.numel());
  switch (c.scalar_type()) {
    case at::kFloat: {
      auto out = Napi::Float32Array::New(env, n);
      if (n) std::memcpy(out.Data(), c.data_ptr(), n * 4);
      return out;
    }
    case at::kInt: {
      auto out = Napi::Int32Array::New(env, n);
      if (n) std::memcpy(out.Data(), c.data_ptr(), n * 4);
      return out;
    }
    case at::kBool: {
      auto out = Napi::Uint8Array::New(env, n);
      if (n) std::memcpy(out.Data(), c.data_ptr(), n);
      return out;
    }
    default:
      throw Napi::Error::New(env, "torch read: unsupported dtype");
  }
}

Napi::Value Free(const Napi::CallbackInfo& info) {
  at::Tensor doomed;  // released after the lock: freeing memory can take a while
  {
    std::lock_guard<std::mutex> lock(g_mu);
    auto it = g_store.find(info[0].As<Napi::Number>().Uint32Value());
    if (it == g_store.end()) return info.Env().Undefined();
    doomed = std::move(it->second);
    g_store.erase(it);
  }
  return info.Env().Undefined();
}

/** exec(name, ids, shapes, attrs) -> [{id, shape, dtype}] */
Napi::Value Exec(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name = info[0].As<Napi::String>().Utf8Value();
  auto it = op_table().find(name);
  if (it == op_table().end()) throw Napi::Error::New(env, "torch: no native op named " + name);
  Napi::Array ids = info[1].As<Napi::Array>();
  Napi::Array shapes = info[2].As<Napi::Array>();
  Tensors in;
  in.reserve(ids.Length());
  for (uint32_t i = 0; i < ids.Length(); i++) {
    at::Tensor t = lookup(env, ids.Get(i).As<Napi::Number>().Uint32Value());
    std::vector<int64_t> shape = shape_of(shapes.Get(i));
    // Tensors sharing one dataId (tfjs reshape) are stored once; view them in this shape.
    in.push_back(t.sizes().equals(shape) ? t : t.reshape(shape));
  }
  Attrs attrs(info[3].As<Napi::Object>());
  Tensors out;
  try {
    out = it->second(in, attrs);
  } catch (const Napi::Error&) {
    throw;
  } catch (const c10::Error& e) {
    throw Napi::Error::New(env, "torch op " + name + ": " + e.what_without_backtrace());
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, "torch op " + name + ": " + e.what());
  }
  Napi::Array result = Napi::Array::New(env, out.size());
  for (size_t k = 0; k < out.size(); k++) {
    at::Tensor t = normalise(out[k]);
    Napi::Object o = Napi::Object::New(env);
    Napi::Array shape = Napi::Array::New(env, t.dim());
    for (int64_t d = 0; d < t.dim(); d++) shape.Set(static_cast<uint32_t>(d), Napi::Number::New(env, static_cast<double>(t.size(d))));
    o.Set("shape", shape);
    o.Set("dtype", dtype_name(t.scalar_type()));
    o.Set("id", Napi::Number::New(env, put(std::move(t))));
    result.Set(static_cast<uint32_t>(k), o);
  }
  return result;
}

Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  at::set_num_threads(info[0].As<Napi::Number>().Int32Value());
  return info.Env().Undefined();
}

Napi::Value GetThreads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), at::get_num_threads());
}

Napi::Value Stats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  double bytes = 0;
  size_t count;
  std::lock_guard<std::mutex> lock(g_mu);
  count = g_store.size();
  for (const auto& kv : g_store) bytes += static_cast<double>(kv.second.numel() * kv.second.element_size());
  Napi::Object o = Napi::Object::New(env);
  o.Set("tensors", Napi::Number::New(env, static_cast<double>(count)));
  o.Set("bytes", Napi::Number::New(env, bytes));
  o.Set("cachedBytes", Napi::Number::New(env, static_cast<double>(cached_allocator_bytes())));
  return o;
}

/** setConvLayout('auto' | 'nhwc' | 'nchw'): the convolutions' layout policy, process-wide. */
Napi::Value SetConvLayout(const Napi::CallbackInfo& info) {
  try {
    set_conv_layout(info[0].As<Napi::String>().Utf8Value());
  } catch (const std::exception& e) {
    throw Napi::Error::New(info.Env(), e.what());
  }
  return info.Env().Undefined();
}

/** convLayout() -> { mode, cpu }: the policy and the CPU class `auto` decides by. */
Napi::Value ConvLayout(const Napi::CallbackInfo& info) {
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("mode", conv_layout());
  o.Set("cpu", conv_cpu_class());
  return o;
}

/** convPlan(pass, n, cin, cout, h, w) -> 'nchw' | 'nhwc': what a convolution pass would use. */
Napi::Value ConvPlan(const Napi::CallbackInfo& info) {
  std::string name = info[0].As<Napi::String>().Utf8Value();
  ConvPass pass = name == "forward"     ? ConvPass::Forward
                  : name == "inputGrad" ? ConvPass::InputGrad
                  : name == "bothGrads" ? ConvPass::BothGrads
                                        : ConvPass::WeightGrad;
  if (name != "forward" && name != "inputGrad" && name != "weightGrad" && name != "bothGrads")
    throw Napi::Error::New(info.Env(), "convPlan: pass must be forward, inputGrad, weightGrad or bothGrads");
  int64_t v[5];
  for (int k = 0; k < 5; k++) v[k] = info[k + 1].As<Napi::Number>().Int64Value();
  return Napi::String::New(info.Env(), conv_use_nchw(pass, v[0], v[1], v[2], v[3], v[4]) ? "nchw" : "nhwc");
}

Napi::Value Ops(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Array arr = Napi::Array::New(env, op_table().size());
  uint32_t i = 0;
  for (const auto& kv : op_table()) arr.Set(i++, kv.first);
  return arr;
}

Napi::Value Version(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("torch", std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) + "." +
                     std::to_string(TORCH_VERSION_PATCH));
  o.Set("mkldnn", at::hasMKLDNN());
  o.Set("parallel", at::get_parallel_info());
  return o;
}

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  install_caching_allocator();
  register_nn_ops();
  register_math_ops();
  exports.Set("write", Napi::Function::New(env, Write));
  exports.Set("read", Napi::Function::New(env, Read));
  exports.Set("free", Napi::Function::New(env, Free));
  exports.Set("exec", Napi::Function::New(env, Exec));
  exports.Set("setThreads", Napi::Function::New(env, SetThreads));
  exports.Set("getThreads", Napi::Function::New(env, GetThreads));
  exports.Set("stats", Napi::Function::New(env, Stats));
  exports.Set("ops", Napi::Function::New(env, Ops));
  exports.Set("setConvLayout", Napi::Function::New(env, SetConvLayout));
  exports.Set("convLayout", Napi::Function::New(env, ConvLayout));
  exports.Set("convPlan", Napi::Function::New(env, ConvPlan));
  exports.Set("version", Napi::Function::New(env, Version));
  return exports;
}

void register_op(const char* name, OpFn fn) { op_table()[name] = fn; }

at::ScalarType dtype_from_name(const std::string& name) {
  if (name == "float32") return at::kFloat;
  if (name == "int32") return at::kInt;
  if (name == "bool") return at::kBool;
  throw std::invalid_argument("dtype " + name + " is not supported by the torch backend");
}

Napi::Value Attrs::get(const char* key) const {
  Napi::Value v = obj_.Get(key);
  if (v.IsUndefined() || v.IsNull()) throw std::invalid_argument(std::string("missing attribute ") + key);
  return v;
}
bool Attrs::has(const char* key) const {
  Napi::Value v = obj_.Get(key);
  return !(v.IsUndefined() || v.IsNull());
}
int64_t Attrs::i(const char* key) const { return get(key).As<Napi::Number>().Int64Value(); }
double Attrs::f(const char* key) const { return get(key).As<Napi::Number>().DoubleValue(); }
bool Attrs::b(const char* key) const { return get(key).ToBoolean().Value(); }
std::string Attrs::s(const char* key) const { return get(key).As<Napi::String>().Utf8Value(); }
std::vector<int64_t> Attrs::ints(const char* key) const { return shape_of(get(key)); }
std::vector<double> Attrs::floats(const char* key) const {
  std::vector<double> out;
  Napi::Array arr = get(key).As<Napi::Array>();
  for (uint32_t i = 0; i < arr.Length(); i++) out.push_back(arr.Get(i).As<Napi::Number>().DoubleValue());
  return out;
}

}  // namespace dentseg

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) { return dentseg::Init(env, exports); }

NODE_API_MODULE(dentseg_torch, InitAddon)
