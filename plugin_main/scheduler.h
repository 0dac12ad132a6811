// File: plugin_main/scheduler.h
//
// Runs many periodic tasks (one per workspace × query) on a bounded pool of threads.
// Each task has its own cadence with jitter; a task that reports more work waiting runs
// again at once (a backlog drains at full speed) and settles to its poll interval when
// caught up; a failing task backs off exponentially (or as long as it asks for) without
// holding a thread, so a slow or failing workspace never stalls the others. A task never
// runs concurrently with itself. Tasks can be added and removed while running (config
// reloads).
//
// Example:
//   plugin_main::SchedulerOptions options;
//   options.threads = 4;
//   plugin_main::Scheduler scheduler(options);
//   scheduler.Add(collector);       // a ScheduledTask, e.g. a plugin_main::QueryCollector
//   scheduler.Start();
//   ...                                                   // until SIGTERM
//   scheduler.Stop();   // waits for running tasks to finish their current step
//
// Thread-safe.
//
// Status codes: none of its own; each task reports its run's status in TaskOutcome, and
// a failing task backs off.
#ifndef PLUGIN_MAIN_SCHEDULER_H_
#define PLUGIN_MAIN_SCHEDULER_H_

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/random/random.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace plugin_main {

// What one run of a task reports.
struct TaskOutcome {
  absl::Status status;
  // More is waiting right now (a full page came back): run again without waiting.
  bool more_available = false;
  // When set (> 0), the next run waits exactly this long (e.g. Retry-After, or a slow
  // retry for a table that does not exist).
  absl::Duration retry_after = absl::ZeroDuration();
};

class ScheduledTask {
 public:
  virtual ~ScheduledTask() = default;
  // Unique name, e.g. "prod/SigninLogs".
  virtual std::string Name() const = 0;
  virtual absl::Duration PollInterval() const = 0;
  // One step of work (e.g. one page). Must return in bounded time.
  virtual TaskOutcome RunOnce() = 0;
};

struct SchedulerOptions {
  int threads = 4;
  // Spread of each wait: interval × [1 − jitter, 1 + jitter].
  double jitter = 0.1;
  // Backoff after failures: first wait, and the cap.
  absl::Duration failure_backoff_min = absl::Seconds(5);
  absl::Duration failure_backoff_max = absl::Minutes(15);
};

class Scheduler {
 public:
  explicit Scheduler(SchedulerOptions options = {}) : options_(options) {}
  ~Scheduler() { Stop(); }
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Adds a task, first run right away (with a small jitter). Replaces a task of the same
  // name once that one is not running.
  void Add(std::shared_ptr<ScheduledTask> task) {
    absl::MutexLock lock(&mu_);
    Entry& e = entries_[task->Name()];
    e.task = std::move(task);
    e.removed = false;
    e.next_run = absl::Now() + Jitter(absl::Milliseconds(100));
    cv_.SignalAll();
  }

  // Removes a task; a run in progress finishes first.
  void Remove(const std::string& name) {
    absl::MutexLock lock(&mu_);
    auto it = entries_.find(name);
    if (it == entries_.end()) return;
    if (it->second.running) {
      it->second.removed = true;
    } else {
      entries_.erase(it);
    }
    cv_.SignalAll();
  }

  std::vector<std::string> TaskNames() const {
    absl::MutexLock lock(&mu_);
    std::vector<std::string> names;
    for (const auto& [name, e] : entries_) {
      if (!e.removed) names.push_back(name);
    }
    return names;
  }

  void Start() {
    absl::MutexLock lock(&mu_);
    if (!workers_.empty()) return;
    stopping_ = false;
    for (int i = 0; i < std::max(1, options_.threads); ++i) {
      workers_.emplace_back([this] { WorkLoop(); });
    }
  }

  // Stops taking new runs and waits for the running ones to finish.
  void Stop() {
    std::vector<std::thread> workers;
    {
      absl::MutexLock lock(&mu_);
      stopping_ = true;
      workers.swap(workers_);
    }
    for (auto& t : workers) t.join();
  }

  // Blocks until no task has work waiting (every task's last outcome had
  // more_available == false and it has run at least once) or `deadline`. For
  // one-shot runs (`run --once`). Returns false at the deadline.
  bool WaitUntilIdle(absl::Time deadline) {
    absl::MutexLock lock(&mu_);
    auto idle = [this]() {
      mu_.AssertHeld();
      for (const auto& [name, e] : entries_) {
        if (e.removed) continue;
        if (e.running || e.runs == 0 || e.last.more_available) return false;
      }
      return true;
    };
    while (!idle()) {
      if (cv_.WaitWithDeadline(&mu_, deadline)) return idle();
    }
    return true;
  }

 private:
  struct Entry {
    std::shared_ptr<ScheduledTask> task;
    absl::Time next_run = absl::InfinitePast();
    bool running = false;
    bool removed = false;
    int consecutive_failures = 0;
    uint64_t runs = 0;
    TaskOutcome last;
  };

  absl::Duration Jitter(absl::Duration d) {
    const double spread = std::clamp(options_.jitter, 0.0, 0.9);
    return d * absl::Uniform(rng_, 1.0 - spread, 1.0 + spread);
  }

  void WorkLoop() {
    absl::MutexLock lock(&mu_);
    while (!stopping_) {
      Entry* due = nullptr;
      std::string due_name;
      absl::Time earliest = absl::InfiniteFuture();
      const absl::Time now = absl::Now();
      for (auto& [name, e] : entries_) {
        if (e.running || e.removed) continue;
        if (e.next_run <= now && (due == nullptr || e.next_run < due->next_run)) {
          due = &e;
          due_name = name;
        }
        earliest = std::min(earliest, e.next_run);
      }
      if (due == nullptr) {
        cv_.WaitWithDeadline(&mu_, std::min(earliest, now + absl::Seconds(1)));
        continue;
      }
      due->running = true;
      std::shared_ptr<ScheduledTask> task = due->task;
      mu_.Unlock();
      TaskOutcome outcome = task->RunOnce();
      mu_.Lock();
      auto it = entries_.find(due_name);
      if (it == entries_.end()) continue;
      Entry& e = it->second;
      e.running = false;
      ++e.runs;
      e.last = outcome;
      if (e.removed) {
        entries_.erase(it);
      } else {
        absl::Duration wait;
        if (outcome.retry_after > absl::ZeroDuration()) {
          wait = outcome.retry_after;
          if (!outcome.status.ok()) ++e.consecutive_failures;
        } else if (!outcome.status.ok()) {
          ++e.consecutive_failures;
          wait = options_.failure_backoff_min;
          for (int i = 1; i < e.consecutive_failures && wait < options_.failure_backoff_max; ++i) {
            wait *= 2;
          }
          wait = Jitter(std::min(wait, options_.failure_backoff_max));
        } else {
          e.consecutive_failures = 0;
          wait = outcome.more_available ? absl::ZeroDuration() : Jitter(task->PollInterval());
        }
        e.next_run = absl::Now() + wait;
      }
      cv_.SignalAll();
    }
  }

  const SchedulerOptions options_;
  mutable absl::Mutex mu_;
  absl::CondVar cv_;
  std::map<std::string, Entry> entries_;
  std::vector<std::thread> workers_;
  bool stopping_ = false;
  absl::BitGen rng_;
};

}  // namespace plugin_main

#endif  // PLUGIN_MAIN_SCHEDULER_H_
