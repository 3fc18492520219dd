// A caching CPU allocator for ATen. Training repeats the same tensor sizes every step; with
// glibc, each large activation is a fresh mmap (zero-filled page faults) and each free an
// munmap. Here blocks of 1 MiB and more are kept by size and reused, up to a byte limit
// (DENTSEG_TORCH_CACHE_MB; 0 turns caching off). Small blocks go to the default allocator
// untouched. The default limit is half of the physical memory: a fixed 2 GiB was smaller
// than a 512² batch-8 training step's working set (~10 GB), so most blocks still went back
// to the kernel (78,000 page faults a second against 21,000 with a big enough cache) and a
// step took over 20 s instead of about 6.5 s on 2 cores. The cost: freed blocks stay with
// the process, so its memory stays at its peak working set plus the blocks of sizes that
// only another phase uses (training vs validation).
#include <c10/core/CPUAllocator.h>
#include <c10/core/impl/alloc_cpu.h>

#include <cstdlib>
#include <mutex>
#include <unistd.h>
#include <unordered_map>
#include <vector>

#include "common.h"

namespace dentseg {
namespace {

constexpr size_t kMinCached = size_t{1} << 20;
constexpr size_t kGranule = size_t{2} << 20;

// ATen (and oneDNN through it) may call raw_allocate/raw_deallocate, which require the
// context to be the data pointer and one deleter for every block: so live large blocks
// are tracked by address, and small ones go straight to c10's alloc_cpu/free_cpu.
class CachingAllocator final : public c10::Allocator {
 public:
  explicit CachingAllocator(size_t limit) : limit_(limit) {}

  c10::DataPtr allocate(size_t n) const override {
    void* ptr;
    if (n < kMinCached) {
      ptr = c10::alloc_cpu(n);
    } else {
      size_t size = (n + kGranule - 1) / kGranule * kGranule;
      ptr = take(size);
      if (ptr == nullptr) ptr = fresh(size);
      std::lock_guard<std::mutex> lock(mu_);
      live_[ptr] = size;
    }
    return {ptr, ptr, &CachingAllocator::release, c10::Device(c10::DeviceType::CPU)};
  }

  c10::DeleterFnPtr raw_deleter() const override { return &CachingAllocator::release; }

  size_t cached_bytes() const {
    std::lock_guard<std::mutex> lock(mu_);
    return cached_;
  }

  static CachingAllocator* instance;

 private:
  void* take(size_t size) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = free_.find(size);
    if (it == free_.end() || it->second.empty()) return nullptr;
    void* ptr = it->second.back();
    it->second.pop_back();
    cached_ -= size;
    return ptr;
  }

  void* fresh(size_t size) const {
    try {
      return c10::alloc_cpu(size);
    } catch (const c10::Error&) {
      trim();  // give the cache back and try once more before failing
      return c10::alloc_cpu(size);
    }
  }

  void trim() const {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& kv : free_)
      for (void* p : kv.second) c10::free_cpu(p);
    free_.clear();
    cached_ = 0;
  }

  static void release(void* ptr) { instance->put(ptr); }

  void put(void* ptr) const {
    if (ptr == nullptr) return;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = live_.find(ptr);
      if (it != live_.end()) {
        size_t size = it->second;
        live_.erase(it);
        if (cached_ + size <= limit_) {
          free_[size].push_back(ptr);
          cached_ += size;
          return;
        }
      }
    }
    c10::free_cpu(ptr);
  }

  size_t limit_;
  mutable std::mutex mu_;
  mutable std::unordered_map<size_t, std::vector<void*>> free_;
  mutable std::unordered_map<void*, size_t> live_;
  mutable size_t cached_ = 0;
};

CachingAllocator* CachingAllocator::instance = nullptr;

// Half of the physical memory (see the top of this file); 2 GiB where it cannot be read.
long default_cache_mb() {
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long page = sysconf(_SC_PAGE_SIZE);
  if (pages <= 0 || page <= 0) return 2048;
  return static_cast<long>((static_cast<unsigned long long>(pages) * page >> 20) / 2);
}

}  // namespace

void install_caching_allocator() {
  const char* env = std::getenv("DENTSEG_TORCH_CACHE_MB");
  long mb = env != nullptr ? std::strtol(env, nullptr, 10) : default_cache_mb();
  if (mb <= 0 || CachingAllocator::instance != nullptr) return;
  // Never destroyed: tensors may be freed during process exit.
  CachingAllocator::instance = new CachingAllocator(static_cast<size_t>(mb) << 20);
  c10::SetCPUAllocator(CachingAllocator::instance, 1);
}

size_t cached_allocator_bytes() {
  return CachingAllocator::instance != nullptr ? CachingAllocator::instance->cached_bytes() : 0;
}

}  // namespace dentseg
