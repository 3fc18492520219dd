// The per-pass layout choice of conv_layout.h. `auto` follows measurements of oneDNN
// 2.6 under libtorch 1.13 (bench/conv_layout.py, 2 threads, layout copies included):
// time NCHW ÷ channels-last, median of A/B rounds, CPU time (2 shared cores under load).
//
//   AVX-512 (AMD EPYC, Zen 4)       forward    input grad   weight grad
//   64→64 @256² b2                  3.4        3.1          2.8
//   128→128 @128² b2                1.6        1.4          1.1
//   256→256 @64² b2                 1.2        1.2          0.86
//   512→512 @32² b2                 1.1        0.82         0.84
//   16→16 @256² b8 / @512² b8       3.9 / 4.2  4.1 / 5.5    7.7 / 11
//   32→32 @128² b8                  4.1        4.2          2.2
//   64→64 @64² b8                   2.1        1.7          1.1
//   128→128 @32² b8                 1.4        1.3          0.98
//
//   AVX2 (same CPU, ONEDNN_MAX_CPU_ISA=AVX2)
//   64→64 @256² b2                  2.1        2.2          0.49
//   128→128 @128² b2                1.5        1.0          0.36
//   256→256 @64² b2                 1.2        0.86         0.51
//   512→512 @32² b2                 1.1        0.79         0.56
//   16→16 @256² b8                  2.9        3.6          2.7
//   32→32 @128² b8                  3.2        2.1          0.85
//   64→64 @64² b8                   1.4        1.0          0.79
//   128→128 @32² b8                 1.2        0.94         0.95
//
//   Both gradients in one call (BothGrads; ops_nn.cc's paired Conv2D gradient), AVX-512,
//   process CPU ms per call, 2 threads, load ~12; separate = today's two calls:
//                                   NCHW pair  channels-last pair  separate
//   64→64 @256² b2                  385        185                 181
//   128→128 @128² b2                186        168                 167
//   256→256 @64² b2                 134        174                 157
//   512→512 @32² b2                 140        204                 180
//   512→512 @16² b2                  46         50                  56
//   So the pair follows the weight gradient's rule: one NCHW call shares the copies of dy
//   and x that two separate calls each made.
//
// So the forward pass stays channels-last everywhere; oneDNN's AVX2 channels-last filter
// gradient is 2-3x slower than its blocked NCHW one from 32 channels up, while on AVX-512 only
// the deep, small layers gain from NCHW. Symmetric padding is passed to ATen (ops_nn.cc), never
// copied: the padded copy of x cost up to 2.5x on the wide layers' filter gradient.
#include "conv_layout.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdlib>
#include <stdexcept>

namespace dentseg {
namespace {

enum class Mode { Auto, Nhwc, Nchw };
std::atomic<Mode> g_mode{Mode::Auto};

std::string lower(const char* s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

/** Whether oneDNN will use its AVX-512 kernels: the CPU has them and no ISA cap forbids them. */
bool detect_avx512() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  bool cpu = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
#else
  bool cpu = false;
#endif
  if (!cpu) return false;
  for (const char* var : {"ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA"}) {
    const char* v = std::getenv(var);
    if (v == nullptr || *v == '\0') continue;
    std::string isa = lower(v);
    return isa == "all" || isa.rfind("avx512", 0) == 0;
  }
  return true;
}

bool avx512() {
  static const bool has = detect_avx512();
  return has;
}

}  // namespace

bool conv_use_nchw(ConvPass pass, int64_t n, int64_t cin, int64_t cout, int64_t h, int64_t w) {
  Mode m = g_mode.load(std::memory_order_relaxed);
  if (m != Mode::Auto) return m == Mode::Nchw;
  (void)n;  // the batch moved no ratio across a threshold (b2 and b8 measured)
  int64_t c = std::min(cin, cout), pixels = h * w;
  switch (pass) {
    case ConvPass::Forward:
      return false;
    case ConvPass::InputGrad:
      return avx512() ? (c >= 512 && pixels <= 32 * 32) : (c >= 128 && pixels <= 64 * 64);
    case ConvPass::WeightGrad:
    case ConvPass::BothGrads:
      return avx512() ? (c >= 256 && pixels <= 64 * 64) : c >= 32;
  }
  return false;
}

void set_conv_layout(const std::string& mode) {
  if (mode == "auto") g_mode = Mode::Auto;
  else if (mode == "nhwc") g_mode = Mode::Nhwc;
  else if (mode == "nchw") g_mode = Mode::Nchw;
  else throw std::invalid_argument("conv layout must be auto, nhwc or nchw; received " + mode);
}

std::string conv_layout() {
  switch (g_mode.load()) {
    case Mode::Nhwc: return "nhwc";
    case Mode::Nchw: return "nchw";
    default: return "auto";
  }
}

std::string conv_cpu_class() { return avx512() ? "avx512" : "avx2"; }

}  // namespace dentseg
