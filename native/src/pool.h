// Work sharing for the addon's kernels: the calling thread and helper threads take tasks from one
// shared counter. The caller never waits for a helper that has not started a task, so a helper whose
// core is busy with another process costs at most the one task it holds (a fixed split, as XNNPACK
// and OpenBLAS do, would stall the whole step on it). Task i computes a disjoint block of the output
// with the same arithmetic whichever thread runs it, so results do not depend on the thread count.
//
// A helper descheduled in the middle of its task still makes the caller wait for the rest of the
// other process's time slice (measured: one busy process on 2 cores took an epoch from 0.8 s on one
// thread to 1.7 s on two). So the pool watches those waits: after a few long ones it runs jobs on the
// caller alone for a while (the helpers go to sleep and leave the core), then tries again. Likewise
// when the helpers take few of the tasks: they are not getting a core of their own.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace fa {

class Pool {
 public:
  static Pool& instance();
  ~Pool();

  // Threads in all, the caller included: 1 runs everything on the caller.
  void setThreads(int threads);
  int threads() const { return int(helpers_.size()) + 1; }

  // task(i) for every i in [0, count); returns when all are done. An exception from a task, on any
  // thread, is rethrown here on the caller once every claimed task has finished (the first one if several
  // throw; the tasks not yet claimed are skipped). `share` false lets the contention watch run the job on
  // the caller alone; true always offers it to the helpers (the pool's own check, poolCheck in addon.cc).
  void run(int count, const std::function<void(int)>& task, bool share = false);

 private:
  Pool() = default;
  void stopHelpers();
  void helperLoop(uint64_t seen);
  bool claim(uint64_t generation, int* index);
  void waitForWork(uint64_t seen);

  // generation (24 bits) | task count (20) | next task (20): one word, so a claim can never pair one
  // job's generation with another's count.
  std::atomic<uint64_t> state_{0};
  std::atomic<int> done_{0};
  std::atomic<const std::function<void(int)>*> task_{nullptr};
  uint64_t generation_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> sleepers_{0};
  std::mutex sleep_;
  std::condition_variable wake_;
  std::mutex running_;  // one job at a time (a second JS thread using the addon runs serially)
  std::vector<std::thread> helpers_;
  // The first exception of the current job, and whether one was caught (set once per job, under failure_).
  std::mutex failure_;
  std::exception_ptr error_;
  std::atomic<bool> failed_{false};
  void runTask(const std::function<void(int)>& task, int i);

  // Contention watch, touched by the caller only (under running_).
  bool worthSharing();
  void note(int64_t waitNs, int tasks, int mine);
  void backOff();
  uint64_t jobs_ = 0;
  uint64_t soloUntil_ = 0;  // jobs before this index run on the caller alone
  uint64_t window_ = 0;     // job index where the current observation window started
  int stalls_ = 0;          // long waits in the window
  int64_t windowTasks_ = 0, windowMine_ = 0;  // tasks in the window, and those the caller ran
};

}  // namespace fa
