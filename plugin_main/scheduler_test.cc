#include "plugin_main/scheduler.h"

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"

namespace plugin_main {
namespace {

// Polls `done` until it holds or 10 s pass; the machine may be busy, so no test relies
// on how soon something happens, only on what happens.
bool Eventually(const std::function<bool()>& done) {
  absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (!done()) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(2));
  }
  return true;
}

class FunctionTask : public ScheduledTask {
 public:
  FunctionTask(std::string name, absl::Duration poll, std::function<TaskOutcome()> fn)
      : name_(std::move(name)), poll_(poll), fn_(std::move(fn)) {}
  std::string Name() const override { return name_; }
  absl::Duration PollInterval() const override { return poll_; }
  TaskOutcome RunOnce() override {
    ++runs;
    return fn_();
  }
  std::atomic<int> runs{0};

 private:
  std::string name_;
  absl::Duration poll_;
  std::function<TaskOutcome()> fn_;
};

TEST(SchedulerTest, BacklogDrainsAtOnceThenSettlesToThePollInterval) {
  std::atomic<int> pages_left{50};
  auto task = std::make_shared<FunctionTask>("ws/q", absl::Hours(1), [&] {
    TaskOutcome o;
    o.more_available = --pages_left > 0;
    return o;
  });
  Scheduler scheduler(SchedulerOptions{2});
  scheduler.Add(task);
  scheduler.Start();
  ASSERT_TRUE(scheduler.WaitUntilIdle(absl::Now() + absl::Seconds(10)));
  EXPECT_EQ(task->runs.load(), 50);
  absl::SleepFor(absl::Milliseconds(300));
  EXPECT_EQ(task->runs.load(), 50);  // next run is an hour away
  scheduler.Stop();
}

TEST(SchedulerTest, ConcurrencyIsBoundedAndATaskNeverOverlapsItself) {
  std::atomic<int> running{0}, peak{0};
  std::vector<std::shared_ptr<FunctionTask>> tasks;
  std::map<std::string, std::atomic<int>> self_running;
  Scheduler scheduler(SchedulerOptions{3});
  for (int i = 0; i < 8; ++i) {
    std::string name = "ws/q" + std::to_string(i);
    std::atomic<int>* mine = &self_running[name];
    auto t = std::make_shared<FunctionTask>(name, absl::Milliseconds(1), [&, mine] {
      EXPECT_EQ(mine->fetch_add(1), 0);
      int now = ++running;
      int seen = peak.load();
      while (now > seen && !peak.compare_exchange_weak(seen, now)) {}
      absl::SleepFor(absl::Milliseconds(5));
      --running;
      mine->fetch_sub(1);
      return TaskOutcome();
    });
    tasks.push_back(t);
    scheduler.Add(t);
  }
  scheduler.Start();
  absl::SleepFor(absl::Milliseconds(400));
  scheduler.Stop();
  EXPECT_LE(peak.load(), 3);
  EXPECT_EQ(peak.load(), 3);
  for (const auto& t : tasks) EXPECT_GE(t->runs.load(), 3) << t->Name();
}

TEST(SchedulerTest, ASlowTaskDoesNotStallTheOthers) {
  absl::Notification release;
  auto slow = std::make_shared<FunctionTask>("slow/q", absl::Milliseconds(1), [&] {
    release.WaitForNotificationWithTimeout(absl::Seconds(10));
    return TaskOutcome();
  });
  auto fast = std::make_shared<FunctionTask>("fast/q", absl::Milliseconds(1),
                                             [] { return TaskOutcome(); });
  Scheduler scheduler(SchedulerOptions{2});
  scheduler.Add(slow);
  scheduler.Add(fast);
  scheduler.Start();
  EXPECT_TRUE(Eventually([&] { return fast->runs.load() >= 20; }));
  EXPECT_EQ(slow->runs.load(), 1);
  release.Notify();
  scheduler.Stop();
}

TEST(SchedulerTest, FailuresBackOffAndRetryAfterIsHonoured) {
  SchedulerOptions options{2};
  options.failure_backoff_min = absl::Milliseconds(40);
  options.jitter = 0;
  absl::Mutex mu;
  std::vector<absl::Time> failing_runs;
  auto failing = std::make_shared<FunctionTask>("bad/q", absl::Milliseconds(1), [&] {
    absl::MutexLock lock(&mu);
    failing_runs.push_back(absl::Now());
    TaskOutcome o;
    o.status = absl::UnavailableError("HTTP 503");
    return o;
  });
  auto throttled = std::make_shared<FunctionTask>("throttled/q", absl::Milliseconds(1), [] {
    TaskOutcome o;
    o.status = absl::ResourceExhaustedError("HTTP 429");
    o.retry_after = absl::Seconds(30);
    return o;
  });
  Scheduler scheduler(options);
  scheduler.Add(failing);
  scheduler.Add(throttled);
  scheduler.Start();
  ASSERT_TRUE(Eventually([&] { return failing->runs.load() >= 4; }));
  scheduler.Stop();
  absl::MutexLock lock(&mu);
  // Waits of at least 40, 80 and 160 ms between the first four attempts.
  EXPECT_GE(failing_runs[1] - failing_runs[0], absl::Milliseconds(40));
  EXPECT_GE(failing_runs[2] - failing_runs[1], absl::Milliseconds(80));
  EXPECT_GE(failing_runs[3] - failing_runs[2], absl::Milliseconds(160));
  EXPECT_EQ(throttled->runs.load(), 1);
}

TEST(SchedulerTest, TasksCanBeAddedAndRemovedWhileRunning) {
  Scheduler scheduler(SchedulerOptions{2});
  scheduler.Start();
  auto a = std::make_shared<FunctionTask>("a/q", absl::Milliseconds(1), [] { return TaskOutcome(); });
  scheduler.Add(a);
  ASSERT_TRUE(Eventually([&] { return a->runs.load() > 0; }));
  scheduler.Remove("a/q");
  absl::SleepFor(absl::Milliseconds(20));
  int after_removal = a->runs.load();
  absl::SleepFor(absl::Milliseconds(100));
  EXPECT_EQ(a->runs.load(), after_removal);
  EXPECT_TRUE(scheduler.TaskNames().empty());
  scheduler.Stop();
}

}  // namespace
}  // namespace plugin_main
