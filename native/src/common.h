// Shared declarations of the libtorch addon: the op table that maps a tfjs kernel's
// native half (named by a string) to ATen calls, and helpers that read op attributes
// from the plain JavaScript object the TypeScript side passes in.
#pragma once

#include <ATen/ATen.h>
#include <napi.h>

#include <string>
#include <vector>

namespace dentseg {

using Tensors = std::vector<at::Tensor>;

/** Attributes of one op call, read from a JS object with typed getters. */
class Attrs {
 public:
  explicit Attrs(Napi::Object obj) : obj_(obj) {}
  bool has(const char* key) const;
  int64_t i(const char* key) const;
  double f(const char* key) const;
  bool b(const char* key) const;
  std::string s(const char* key) const;
  std::vector<int64_t> ints(const char* key) const;
  std::vector<double> floats(const char* key) const;

 private:
  Napi::Value get(const char* key) const;
  Napi::Object obj_;
};

using OpFn = Tensors (*)(const Tensors& in, const Attrs& attrs);

/** Adds an op to the table (called once per op at module load). */
void register_op(const char* name, OpFn fn);

/** Installs the caching CPU allocator (allocator.cc) unless DENTSEG_TORCH_CACHE_MB=0. */
void install_caching_allocator();
/** Bytes held in the allocator's cache (free for reuse). */
size_t cached_allocator_bytes();

void register_nn_ops();
void register_math_ops();

/** Maps a tfjs dtype name to the ATen scalar type that stores it. */
at::ScalarType dtype_from_name(const std::string& name);

/** NHWC (tfjs) tensor as an NCHW view: channels-last memory, no copy. */
inline at::Tensor to_nchw(const at::Tensor& x) { return x.permute({0, 3, 1, 2}); }
/** NCHW tensor back to NHWC (free when it is channels-last in memory). */
inline at::Tensor to_nhwc(const at::Tensor& x) { return x.permute({0, 2, 3, 1}); }

}  // namespace dentseg
