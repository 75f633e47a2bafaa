#include "pool.h"

#include "denormals.h"
#include "timer.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define FA_PAUSE() _mm_pause()
#else
#define FA_PAUSE() std::this_thread::yield()
#endif

namespace fa {

namespace {

constexpr int kGenerationShift = 40;
constexpr int kCountShift = 20;
constexpr uint64_t kFieldMask = (uint64_t(1) << 20) - 1;
constexpr uint64_t kGenerationMask = (uint64_t(1) << 24) - 1;
// A helper polls this long for the next job before sleeping: longer than the gaps inside and between
// training steps (~0.1-0.2 ms), so during training it never pays a wake-up; an idle process sleeps.
// It polls with sched_yield, not pause: when the OS puts the helper on the caller's core (the other
// one being busy), pausing would take half the caller's time, yielding hands it back.
constexpr int64_t kSpinNs = 500000;
// Contention, either sign: a wait this long for a helper's task (a task takes ~20 µs), kStallsToBackOff
// times within kWindow jobs; or helpers that took under a quarter of the tasks over kWindow jobs (they
// barely get a core). Then the next kSoloJobs jobs (~1 s of training) run on the caller alone.
constexpr int64_t kStallNs = 300000;
constexpr int kStallsToBackOff = 3;
constexpr uint64_t kWindow = 256;
constexpr uint64_t kSoloJobs = 4096;

uint64_t pack(uint64_t generation, uint64_t count, uint64_t next) {
  return (generation << kGenerationShift) | (count << kCountShift) | next;
}

}  // namespace

Pool& Pool::instance() {
  static Pool pool;
  return pool;
}

Pool::~Pool() { stopHelpers(); }

void Pool::setThreads(int threads) {
  std::lock_guard<std::mutex> lock(running_);
  if (threads < 1) threads = 1;
  if (threads == this->threads()) return;
  stopHelpers();
  stop_ = false;
  // The generation a new helper has seen is read here, not when its thread starts: a thread that starts after
  // the next job was published would otherwise take that job's generation as already seen and sleep through it.
  const uint64_t seen = state_.load(std::memory_order_acquire) >> kGenerationShift;
  for (int i = 1; i < threads; i++) helpers_.emplace_back([this, seen] { helperLoop(seen); });
}

void Pool::stopHelpers() {
  stop_ = true;
  {
    std::lock_guard<std::mutex> lock(sleep_);
    wake_.notify_all();
  }
  for (auto& t : helpers_) t.join();
  helpers_.clear();
}

bool Pool::claim(uint64_t generation, int* index) {
  uint64_t s = state_.load(std::memory_order_acquire);
  for (;;) {
    if ((s >> kGenerationShift) != generation) return false;
    const uint64_t next = s & kFieldMask, count = (s >> kCountShift) & kFieldMask;
    if (next >= count) return false;
    if (state_.compare_exchange_weak(s, s + 1, std::memory_order_acq_rel, std::memory_order_acquire)) {
      *index = int(next);
      return true;
    }
  }
}

bool Pool::worthSharing() {
  jobs_++;
  return jobs_ >= soloUntil_;
}

void Pool::backOff() {
  soloUntil_ = jobs_ + kSoloJobs;
  window_ = soloUntil_;  // the next window starts afresh when sharing resumes
  stalls_ = 0;
  windowTasks_ = windowMine_ = 0;
}

void Pool::note(int64_t waitNs, int tasks, int mine) {
  windowTasks_ += tasks;
  windowMine_ += mine;
  if (waitNs >= kStallNs && ++stalls_ >= kStallsToBackOff) return backOff();
  if (jobs_ - window_ < kWindow) return;
  if (4 * (windowTasks_ - windowMine_) < windowTasks_) return backOff();
  window_ = jobs_;
  stalls_ = 0;
  windowTasks_ = windowMine_ = 0;
}

// A task that throws on a helper thread would end the process (std::terminate); so every task runs here,
// and the first exception waits in error_ for the caller. After one, the remaining tasks are skipped.
void Pool::runTask(const std::function<void(int)>& task, int i) {
  if (failed_.load(std::memory_order_acquire)) return;
  try {
    task(i);
  } catch (...) {
    std::lock_guard<std::mutex> lock(failure_);
    if (!failed_.load(std::memory_order_relaxed)) error_ = std::current_exception();
    failed_.store(true, std::memory_order_release);
  }
}

void Pool::run(int count, const std::function<void(int)>& task, bool share) {
  std::unique_lock<std::mutex> lock(running_, std::try_to_lock);
  if (!lock.owns_lock() || helpers_.empty() || count <= 1 || uint64_t(count) > kFieldMask || (!worthSharing() && !share)) {
    for (int i = 0; i < count; i++) task(i);
    return;
  }
  task_.store(&task, std::memory_order_relaxed);
  done_.store(0, std::memory_order_relaxed);
  error_ = nullptr;
  failed_.store(false, std::memory_order_relaxed);
  generation_ = (generation_ + 1) & kGenerationMask;
  state_.store(pack(generation_, uint64_t(count), 0), std::memory_order_seq_cst);
  if (sleepers_.load(std::memory_order_seq_cst) > 0) {
    std::lock_guard<std::mutex> sleepLock(sleep_);
    wake_.notify_all();
  }
  int i, mine = 0;
  while (claim(generation_, &i)) {
    runTask(task, i);
    mine++;
    done_.fetch_add(1, std::memory_order_release);
  }
  // Only tasks a helper has already claimed remain: wait for those alone.
  int64_t waited = 0;
  if (done_.load(std::memory_order_acquire) < count) {
    const int64_t t0 = nowNs();
    while (done_.load(std::memory_order_acquire) < count) FA_PAUSE();
    waited = nowNs() - t0;
  }
  note(waited, count, mine);
  if (failed_.load(std::memory_order_acquire)) {
    std::exception_ptr error;
    std::swap(error, error_);
    std::rethrow_exception(error);
  }
}

void Pool::helperLoop(uint64_t seen) {
  // Helpers run only the trainer's tasks, whose callers flush denormals (denormals.h): so do they, for good.
  flushDenormalsOnThisThread();
  while (!stop_.load(std::memory_order_relaxed)) {
    const uint64_t generation = state_.load(std::memory_order_acquire) >> kGenerationShift;
    if (generation == seen) {
      waitForWork(seen);
      continue;
    }
    seen = generation;
    int i;
    while (claim(generation, &i)) {
      // A successful claim means the job is still open, so task_ is this generation's until our done.
      runTask(*task_.load(std::memory_order_acquire), i);
      done_.fetch_add(1, std::memory_order_release);
    }
  }
}

void Pool::waitForWork(uint64_t seen) {
  const int64_t until = nowNs() + kSpinNs;
  while (nowNs() < until) {
    for (int k = 0; k < 16; k++) {
      if ((state_.load(std::memory_order_acquire) >> kGenerationShift) != seen || stop_.load(std::memory_order_relaxed)) return;
      FA_PAUSE();
    }
    std::this_thread::yield();
  }
  sleepers_.fetch_add(1, std::memory_order_seq_cst);
  {
    std::unique_lock<std::mutex> lock(sleep_);
    wake_.wait(lock, [&] { return stop_.load() || (state_.load(std::memory_order_seq_cst) >> kGenerationShift) != seen; });
  }
  sleepers_.fetch_sub(1, std::memory_order_seq_cst);
}

}  // namespace fa
