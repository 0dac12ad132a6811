// File: testdata/fake_engine/fake_engine.h
//
// FakeEngine is a real gRPC server for UTMStack's `plugins.Engine` service on a Unix
// socket (`unix:///path`), for tests, benchmarks and the demo. It records every Log
// it reads, in order, optionally as JSON lines (protobuf JSON mapping) in a file, and
// answers with `Ack{lastId}`. Its behaviour is set by FakeEngineOptions and most of it
// can be changed while it runs, to play the engine's realistic faults:
//
//   ack_every = 1          ack each Log (what UTMStack's engine does)
//   ack_every = N          ack every Nth Log of a stream (a batching engine); the tail
//                          of a stream is acked only if `ack_idle_flush` is set, as a
//                          batching engine acks its partial batch only on a timer; it
//                          never acks the tail when the stream ends (it cannot: acks go
//                          on the stream, and a crashed engine would not)
//   ack_every = 0          never ack
//   ack_delay = d          ack late: each ack leaves d after its Log arrived, while
//                          reading goes on
//   close_after = K        end each stream with UNAVAILABLE after reading K Logs on it
//                          (acks already due are sent first; later Logs in flight are
//                          dropped, as when an engine's worker fails)
//   read_delay = d         slow reader: sleep d after each Log, so HTTP/2 flow control
//                          pushes back on the client
//   Stop() / Start()       the engine disappears (socket file removed) and comes back
//                          on the same path with a new server; records are kept
//
// Acks are sent only after the acked Log is in the record (and the record file has
// been flushed to the OS), so "acked implies recorded" holds, as it would for a real
// engine that acks what it has taken. Notify streams are read, kept and acked by id.
//
// Example:
//   fake_engine::ShortTempDir dir("sink");
//   fake_engine::FakeEngineOptions options;
//   options.socket_path = dir.Path("engine.sock");
//   options.ack_every = 10;
//   fake_engine::FakeEngine engine(options);
//   ASSERT_TRUE(engine.Start().ok());
//   ... a client sends 100 Logs on one stream ...
//   ASSERT_TRUE(engine.WaitForCount(100, absl::Seconds(10)));
//   EXPECT_EQ(engine.acked_ids().back(), engine.received().back().id());
//   engine.Stop();                       // socket file gone
//   ASSERT_TRUE(engine.Start().ok());    // back on the same path
//
// Thread-safety: every accessor and setter is thread-safe. Start() and Stop() may be
// called from any thread, one at a time.
//
// Status codes: Start returns kInvalidArgument (socket path empty or over 107 bytes),
// kFailedPrecondition (already running), kUnavailable (cannot listen, or cannot open the
// record file).
#ifndef TESTDATA_FAKE_ENGINE_FAKE_ENGINE_H_
#define TESTDATA_FAKE_ENGINE_FAKE_ENGINE_H_

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "proto/plugins.grpc.pb.h"
#include "proto/plugins.pb.h"
#include "utmstack_sink/json_lines_sink.h"

namespace fake_engine {

// Unix socket paths (sun_path) hold at most 107 bytes plus the terminating NUL.
inline constexpr size_t kMaxUnixSocketPathBytes = 107;

struct FakeEngineOptions {
  // Where to listen (absolute path, at most 107 bytes). Required.
  std::string socket_path;
  // If set, every received Log is appended to this file as one JSON line.
  std::string record_path;
  // Keep every received Log (and acked id) in memory for received()/acked_ids().
  // Benchmarks turn it off; the counts are kept either way.
  bool keep_received = true;
  // 1: ack each Log; N > 1: ack every Nth Log of a stream; 0: never ack.
  int ack_every = 1;
  // Each ack leaves this long after its Log arrived (reading continues meanwhile).
  absl::Duration ack_delay = absl::ZeroDuration();
  // With ack_every > 1: ack the last Log of a stream once no Log arrived for this
  // long. Infinite (the default) means the tail is acked only by a later Nth Log.
  absl::Duration ack_idle_flush = absl::InfiniteDuration();
  // K > 0: end each stream with UNAVAILABLE after reading K Logs on it.
  int close_after = 0;
  // Sleep this long after reading each Log (slow reader).
  absl::Duration read_delay = absl::ZeroDuration();
};

class FakeEngine {
 public:
  explicit FakeEngine(FakeEngineOptions options)
      : state_(std::make_shared<State>(std::move(options))) {}
  FakeEngine(const FakeEngine&) = delete;
  FakeEngine& operator=(const FakeEngine&) = delete;
  // Stops the server (cancelling open streams) and closes the record file.
  ~FakeEngine() {
    Stop();
    absl::MutexLock lock(&state_->mu);
    if (state_->record != nullptr) (void)state_->record->Close(absl::InfiniteFuture());
  }

  // Starts listening on options.socket_path (replacing any file there, as gRPC does).
  // Returns OK, kInvalidArgument (path empty or over 107 bytes), kFailedPrecondition
  // (already running), kUnavailable (cannot listen, or cannot open the record file).
  // Thread-safe.
  absl::Status Start() {
    absl::MutexLock lifecycle(&lifecycle_mu_);
    const std::string& path = state_->options.socket_path;
    if (path.empty() || path.size() > kMaxUnixSocketPathBytes) {
      return absl::InvalidArgumentError(
          absl::StrCat("fake engine socket path \"", path, "\" is ", path.size(),
                       " bytes; it must be non-empty and at most ",
                       kMaxUnixSocketPathBytes, " bytes (the Unix socket limit)"));
    }
    if (server_ != nullptr) {
      return absl::FailedPreconditionError("fake engine is already running");
    }
    {
      absl::MutexLock lock(&state_->mu);
      if (!state_->options.record_path.empty() && state_->record == nullptr) {
        utmstack_sink::JsonLinesSinkOptions record_options;
        record_options.fsync_on_flush = false;
        auto record = utmstack_sink::JsonLinesSink::Open(state_->options.record_path,
                                                         record_options);
        if (!record.ok()) {
          return absl::UnavailableError(absl::StrCat(
              "fake engine cannot open its record file: ", record.status().message()));
        }
        state_->record = std::move(*record);
      }
      state_->stopping.store(false);
    }
    auto service = std::make_unique<Service>(state_);
    grpc::ServerBuilder builder;
    builder.AddListeningPort("unix://" + path, grpc::InsecureServerCredentials());
    builder.RegisterService(service.get());
    // A local engine: no bandwidth-delay probing pings and a 4 MiB stream receive
    // window, so a pipelined client is not held back by window updates.
    builder.AddChannelArgument(GRPC_ARG_HTTP2_BDP_PROBE, 0);
    builder.AddChannelArgument(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, 4 << 20);
    std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
    if (server == nullptr) {
      return absl::UnavailableError(
          absl::StrCat("fake engine could not listen on unix://", path,
                       ": is the directory writable and the path free?"));
    }
    struct stat st;
    if (::stat(path.c_str(), &st) == 0) {
      socket_dev_ = st.st_dev;
      socket_ino_ = st.st_ino;
    }
    service_ = std::move(service);
    server_ = std::move(server);
    return absl::OkStatus();
  }

  // Cancels every open stream, stops the server and removes the socket file (if it is
  // still the one this engine made). Records are kept. No-op when not running.
  // Thread-safe.
  void Stop() {
    absl::MutexLock lifecycle(&lifecycle_mu_);
    if (server_ == nullptr) return;
    {
      absl::MutexLock lock(&state_->mu);
      state_->stopping.store(true);
    }
    server_->Shutdown(std::chrono::system_clock::now());
    server_->Wait();
    server_.reset();
    service_.reset();
    const std::string& path = state_->options.socket_path;
    struct stat st;
    if (::stat(path.c_str(), &st) == 0 && st.st_dev == socket_dev_ &&
        st.st_ino == socket_ino_) {
      ::unlink(path.c_str());
    }
    absl::MutexLock lock(&state_->mu);
    if (state_->record != nullptr) (void)state_->record->Flush(absl::InfiniteFuture());
  }

  // Returns true between a successful Start() and Stop(). Thread-safe.
  bool running() const {
    absl::MutexLock lifecycle(&lifecycle_mu_);
    return server_ != nullptr;
  }

  // Returns the socket path and the gRPC target ("unix:///path"). Thread-safe.
  const std::string& socket_path() const { return state_->options.socket_path; }
  std::string target() const { return "unix://" + state_->options.socket_path; }

  // Runtime changes; they apply from the next Log read on any stream. Thread-safe.
  void set_ack_every(int n) { state_->ack_every.store(n); }
  void set_ack_delay(absl::Duration d) { state_->ack_delay_ns.store(ToNanos(d)); }
  void set_ack_idle_flush(absl::Duration d) {
    state_->ack_idle_flush_ns.store(ToNanos(d));
  }
  void set_close_after(int k) { state_->close_after.store(k); }
  void set_read_delay(absl::Duration d) { state_->read_delay_ns.store(ToNanos(d)); }

  // Returns every Log read so far, in the order read, across streams and restarts
  // (empty when keep_received is off). Thread-safe.
  std::vector<plugins::Log> received() const {
    absl::MutexLock lock(&state_->mu);
    return state_->logs;
  }
  // Returns the ids of received(), in the same order. Thread-safe.
  std::vector<std::string> received_ids() const {
    absl::MutexLock lock(&state_->mu);
    std::vector<std::string> ids;
    ids.reserve(state_->logs.size());
    for (const plugins::Log& log : state_->logs) ids.push_back(log.id());
    return ids;
  }
  // Returns, for each entry of received(), the number (1, 2, ...) of the Input stream
  // it came on. Stream numbers keep counting across Stop()/Start(). Thread-safe.
  std::vector<int> received_streams() const {
    absl::MutexLock lock(&state_->mu);
    return state_->log_streams;
  }
  // Returns every id sent in an Ack, in order (empty when keep_received is off).
  // Thread-safe.
  std::vector<std::string> acked_ids() const {
    absl::MutexLock lock(&state_->mu);
    return state_->acked;
  }
  // Returns every Notify message read. Thread-safe.
  std::vector<plugins::Message> notifications() const {
    absl::MutexLock lock(&state_->mu);
    return state_->notifications;
  }
  // Returns how many Logs were read / Acks were sent. Thread-safe.
  uint64_t received_count() const {
    absl::MutexLock lock(&state_->mu);
    return state_->received_count;
  }
  uint64_t acked_count() const {
    absl::MutexLock lock(&state_->mu);
    return state_->acked_count;
  }
  // Returns how many Input streams have started / are open now. Thread-safe.
  int streams_started() const {
    absl::MutexLock lock(&state_->mu);
    return state_->streams_started;
  }
  int active_streams() const {
    absl::MutexLock lock(&state_->mu);
    return state_->active_streams;
  }

  // Waits until at least `n` Logs have been read in total, or `timeout`. Returns true
  // if they were. Thread-safe.
  bool WaitForCount(uint64_t n, absl::Duration timeout) const {
    absl::MutexLock lock(&state_->mu);
    auto reached = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(state_->mu) {
      return state_->received_count >= n;
    };
    return state_->mu.AwaitWithTimeout(absl::Condition(&reached), timeout);
  }
  // Waits until at least `n` Input streams have started, or `timeout`. Thread-safe.
  bool WaitForStreams(int n, absl::Duration timeout) const {
    absl::MutexLock lock(&state_->mu);
    auto reached = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(state_->mu) {
      return state_->streams_started >= n;
    };
    return state_->mu.AwaitWithTimeout(absl::Condition(&reached), timeout);
  }

  // Flushes the record file to the OS so another reader sees every line. Returns OK
  // (also when there is no record file) or the write error. Thread-safe.
  absl::Status FlushRecord() {
    absl::MutexLock lock(&state_->mu);
    if (state_->record == nullptr) return absl::OkStatus();
    return state_->record->Flush(absl::InfiniteFuture());
  }

 private:
  static int64_t ToNanos(absl::Duration d) {
    return d == absl::InfiniteDuration() ? INT64_MAX : absl::ToInt64Nanoseconds(d);
  }
  static absl::Duration FromNanos(int64_t ns) {
    return ns == INT64_MAX ? absl::InfiniteDuration() : absl::Nanoseconds(ns);
  }

  // Everything the server threads share with the FakeEngine object.
  struct State {
    explicit State(FakeEngineOptions o)
        : options(std::move(o)),
          ack_every(options.ack_every),
          ack_delay_ns(ToNanos(options.ack_delay)),
          ack_idle_flush_ns(ToNanos(options.ack_idle_flush)),
          close_after(options.close_after),
          read_delay_ns(ToNanos(options.read_delay)) {}

    const FakeEngineOptions options;
    std::atomic<int> ack_every;
    std::atomic<int64_t> ack_delay_ns;
    std::atomic<int64_t> ack_idle_flush_ns;
    std::atomic<int> close_after;
    std::atomic<int64_t> read_delay_ns;

    mutable absl::Mutex mu;
    // Stop() has begun; read by the ack writers without taking `mu`.
    std::atomic<bool> stopping{false};
    std::unique_ptr<utmstack_sink::JsonLinesSink> record ABSL_GUARDED_BY(mu);
    std::vector<plugins::Log> logs ABSL_GUARDED_BY(mu);
    std::vector<int> log_streams ABSL_GUARDED_BY(mu);
    std::vector<std::string> acked ABSL_GUARDED_BY(mu);
    std::vector<plugins::Message> notifications ABSL_GUARDED_BY(mu);
    uint64_t received_count ABSL_GUARDED_BY(mu) = 0;
    uint64_t acked_count ABSL_GUARDED_BY(mu) = 0;
    int streams_started ABSL_GUARDED_BY(mu) = 0;
    int active_streams ABSL_GUARDED_BY(mu) = 0;

    void Record(const plugins::Log& log, int stream) {
      absl::MutexLock lock(&mu);
      ++received_count;
      if (options.keep_received) {
        logs.push_back(log);
        log_streams.push_back(stream);
      }
      if (record != nullptr) (void)record->Send(log, absl::InfiniteFuture());
    }
  };

  // Writes the acks of one Input stream from a thread of its own, so reading goes on
  // while acks wait for their time (ack_delay, ack_idle_flush) or for flow control.
  class AckWriter {
   public:
    AckWriter(std::shared_ptr<State> state,
              grpc::ServerReaderWriter<plugins::Ack, plugins::Log>* stream)
        : state_(std::move(state)), stream_(stream), thread_([this] { Run(); }) {}
    ~AckWriter() { Finish(/*drain=*/false); }

    // Called by the reader for the `count`th Log of the stream.
    void OnLog(const std::string& id, uint64_t count) {
      const int every = state_->ack_every.load();
      const absl::Time now = absl::Now();
      absl::MutexLock lock(&mu_);
      if (every > 0 && count % static_cast<uint64_t>(every) == 0) {
        queue_.push_back({id, now + FromNanos(state_->ack_delay_ns.load())});
        has_tail_ = false;
        kick_ = true;
      } else {
        tail_id_ = id;
        tail_time_ = now;
        has_tail_ = every > 1;
        kick_ = kick_ || has_tail_;
      }
    }

    // Ends the writer. With `drain`, acks still queued are written first (waiting for
    // their time); without, only those already due are.
    void Finish(bool drain) {
      {
        absl::MutexLock lock(&mu_);
        if (finished_) return;
        finished_ = true;
        drain_ = drain;
      }
      thread_.join();
    }

   private:
    struct Pending {
      std::string id;
      absl::Time due;
    };

    void Run() {
      std::vector<std::string> batch;
      absl::MutexLock lock(&mu_);
      while (true) {
        kick_ = false;
        const absl::Time now = absl::Now();
        const bool stopping = state_->stopping.load();
        const absl::Duration idle = FromNanos(state_->ack_idle_flush_ns.load());
        if (has_tail_ && idle != absl::InfiniteDuration() && now >= tail_time_ + idle) {
          queue_.push_back({tail_id_, now});
          has_tail_ = false;
        }
        while (!queue_.empty() && queue_.front().due <= now) {
          batch.push_back(std::move(queue_.front().id));
          queue_.pop_front();
        }
        if (!batch.empty()) {
          mu_.Unlock();
          const bool ok = WriteAcks(batch);
          batch.clear();
          mu_.Lock();
          if (!ok) return;  // the stream is gone
          continue;
        }
        if (stopping || (finished_ && (!drain_ || queue_.empty()))) return;
        absl::Time wake = absl::InfiniteFuture();
        if (!queue_.empty()) wake = queue_.front().due;
        if (has_tail_ && idle != absl::InfiniteDuration()) {
          wake = std::min(wake, tail_time_ + idle);
        }
        // Bounded so that Stop() is noticed without a signal from it.
        wake = std::min(wake, now + absl::Milliseconds(50));
        mu_.AwaitWithDeadline(absl::Condition(this, &AckWriter::HasWork), wake);
      }
    }

    // New acks were queued, the idle timer was re-armed, or Finish() was called;
    // everything else that wakes the writer is a deadline.
    bool HasWork() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return finished_ || kick_; }

    // Writes one Ack per id, coalesced: all but the last with the buffer hint.
    bool WriteAcks(const std::vector<std::string>& ids) {
      // The acked Logs must be readable in the record before the client hears of them.
      if (!state_->options.record_path.empty()) {
        absl::MutexLock lock(&state_->mu);
        if (state_->record != nullptr)
          (void)state_->record->Flush(absl::InfiniteFuture());
      }
      plugins::Ack ack;
      for (size_t i = 0; i < ids.size(); ++i) {
        ack.set_lastid(ids[i]);
        grpc::WriteOptions options;
        // The stream's first write carries the response headers; gRPC 1.51 does not
        // complete a buffered (hinted) write of headers until a later flush, which a
        // synchronous writer never issues, so that one goes out unbuffered.
        if (i + 1 < ids.size() && headers_sent_) options.set_buffer_hint();
        if (!stream_->Write(ack, options)) return false;
        headers_sent_ = true;
      }
      absl::MutexLock lock(&state_->mu);
      state_->acked_count += ids.size();
      if (state_->options.keep_received) {
        state_->acked.insert(state_->acked.end(), ids.begin(), ids.end());
      }
      return true;
    }

    const std::shared_ptr<State> state_;
    grpc::ServerReaderWriter<plugins::Ack, plugins::Log>* const stream_;
    absl::Mutex mu_;
    std::deque<Pending> queue_ ABSL_GUARDED_BY(mu_);
    std::string tail_id_ ABSL_GUARDED_BY(mu_);
    absl::Time tail_time_ ABSL_GUARDED_BY(mu_);
    bool has_tail_ ABSL_GUARDED_BY(mu_) = false;
    bool kick_ ABSL_GUARDED_BY(mu_) = false;
    bool finished_ ABSL_GUARDED_BY(mu_) = false;
    bool drain_ ABSL_GUARDED_BY(mu_) = false;
    bool headers_sent_ = false;  // only the writer thread uses it
    std::thread thread_;
  };

  class Service final : public plugins::Engine::Service {
   public:
    explicit Service(std::shared_ptr<State> state) : state_(std::move(state)) {}

    grpc::Status Input(
        grpc::ServerContext* /*context*/,
        grpc::ServerReaderWriter<plugins::Ack, plugins::Log>* stream) override {
      int number;
      {
        absl::MutexLock lock(&state_->mu);
        number = ++state_->streams_started;
        ++state_->active_streams;
      }
      grpc::Status status = Serve(number, stream);
      absl::MutexLock lock(&state_->mu);
      --state_->active_streams;
      return status;
    }

    grpc::Status Notify(
        grpc::ServerContext* /*context*/,
        grpc::ServerReaderWriter<plugins::Ack, plugins::Message>* stream) override {
      plugins::Message message;
      while (stream->Read(&message)) {
        {
          absl::MutexLock lock(&state_->mu);
          state_->notifications.push_back(message);
        }
        plugins::Ack ack;
        ack.set_lastid(message.id());
        if (!stream->Write(ack)) break;
      }
      return grpc::Status::OK;
    }

   private:
    grpc::Status Serve(int number,
                       grpc::ServerReaderWriter<plugins::Ack, plugins::Log>* stream) {
      AckWriter acks(state_, stream);
      plugins::Log log;
      uint64_t count = 0;
      while (stream->Read(&log)) {
        ++count;
        state_->Record(log, number);
        const int64_t delay_ns = state_->read_delay_ns.load();
        if (delay_ns > 0) absl::SleepFor(absl::Nanoseconds(delay_ns));
        acks.OnLog(log.id(), count);
        const int close_after = state_->close_after.load();
        if (close_after > 0 && count >= static_cast<uint64_t>(close_after)) {
          acks.Finish(/*drain=*/false);
          return grpc::Status(
              grpc::StatusCode::UNAVAILABLE,
              absl::StrCat("fake engine: closing the stream after ", count, " logs"));
        }
      }
      acks.Finish(/*drain=*/true);
      return grpc::Status::OK;
    }

    const std::shared_ptr<State> state_;
  };

  const std::shared_ptr<State> state_;
  mutable absl::Mutex lifecycle_mu_;
  std::unique_ptr<Service> service_ ABSL_GUARDED_BY(lifecycle_mu_);
  std::unique_ptr<grpc::Server> server_ ABSL_GUARDED_BY(lifecycle_mu_);
  dev_t socket_dev_ ABSL_GUARDED_BY(lifecycle_mu_) = 0;
  ino_t socket_ino_ ABSL_GUARDED_BY(lifecycle_mu_) = 0;
};

}  // namespace fake_engine

#endif  // TESTDATA_FAKE_ENGINE_FAKE_ENGINE_H_
