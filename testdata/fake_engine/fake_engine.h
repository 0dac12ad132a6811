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
//   read_delay = d         slow reader: wait d after each Log before reading the next,
//                          so HTTP/2 flow control pushes back on the client
//   Stop() / Start()       the engine disappears (socket file removed) and comes back
//                          on the same path with a new server; records are kept
//
// Input streams are served from one completion-queue thread with gRPC's asynchronous
// API, so that the engine keeps up with the fastest client the benchmark measures.
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
#include <unordered_set>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "grpcpp/alarm.h"
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
  // Wait this long after reading each Log before reading the next (slow reader).
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
    std::unique_ptr<grpc::ServerCompletionQueue> cq = builder.AddCompletionQueue();
    std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
    if (server == nullptr) {
      // A completion queue is destroyed only once shut down and drained.
      cq->Shutdown();
      void* tag;
      bool ok;
      while (cq->Next(&tag, &ok)) {
      }
      return absl::UnavailableError(
          absl::StrCat("fake engine could not listen on unix://", path,
                       ": is the directory writable and the path free?"));
    }
    struct stat st;
    if (::stat(path.c_str(), &st) == 0) {
      socket_dev_ = st.st_dev;
      socket_ino_ = st.st_ino;
    }
    streams_ = std::make_unique<InputStreams>(state_, service.get(), std::move(cq));
    streams_->Start();
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
    streams_->BeginStop();
    server_->Shutdown(std::chrono::system_clock::now());
    server_->Wait();
    streams_->Join();
    // The server goes before the queue it was built with.
    server_.reset();
    service_.reset();
    streams_.reset();
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
    // Stop() has begun; read by the stream thread without taking `mu`.
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

    // Returns received_count including this Log.
    uint64_t Record(const plugins::Log& log, int stream) {
      absl::MutexLock lock(&mu);
      ++received_count;
      if (options.keep_received) {
        logs.push_back(log);
        log_streams.push_back(stream);
      }
      if (record != nullptr) (void)record->Send(log, absl::InfiniteFuture());
      return received_count;
    }
  };

  // Input is served asynchronously (below); Notify, rare and never benchmarked, stays
  // synchronous.
  using AsyncInputService =
      plugins::Engine::WithAsyncMethod_Input<plugins::Engine::Service>;

  class Service final : public AsyncInputService {
   public:
    explicit Service(std::shared_ptr<State> state) : state_(std::move(state)) {}

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
    const std::shared_ptr<State> state_;
  };

  // Serves every Input stream of one server run from a single completion-queue thread.
  // The synchronous API blocks a thread on each Read and each Write (two threads per
  // stream, so that reading goes on while acks wait), and the hand-offs between them
  // made the engine, not the client, the limit of the throughput benchmark. Each stream
  // has at most one Read and one Write in flight; waits (ack_delay, ack_idle_flush,
  // read_delay) are alarms on the same queue, so reading goes on while acks wait.
  //
  // Only the queue thread touches a Stream once that thread runs. A Stream is freed
  // when none of its operations or alarms is outstanding and it has either finished or
  // been given up (cancelled by the client, or the engine stopping); every tag handed
  // to gRPC comes back once, also after a server Shutdown (then with ok = false), so
  // each Stream is freed exactly once and never while gRPC may return one of its tags.
  class InputStreams {
   public:
    InputStreams(std::shared_ptr<State> state, Service* service,
                 std::unique_ptr<grpc::ServerCompletionQueue> cq)
        : state_(std::move(state)), service_(service), cq_(std::move(cq)) {}
    InputStreams(const InputStreams&) = delete;
    InputStreams& operator=(const InputStreams&) = delete;
    ~InputStreams() {
      // Everything still here has no operation left: the queue was drained.
      for (Stream* stream : streams_) delete stream;
    }

    void Start() {
      RequestStream();
      thread_ = std::thread([this] { Run(); });
    }

    // Called with `stopping` set, before the server shuts down: the server waits for
    // every call to be released, and a stream waiting only on its own alarm would
    // never notice the cancellation, so the queue thread gives them all up first.
    void BeginStop() {
      stop_alarm_.Set(cq_.get(), std::chrono::system_clock::now(), &stop_event_);
    }

    // Called after the server has shut down: drains the queue and ends the thread.
    void Join() {
      cq_->Shutdown();
      thread_.join();
    }

   private:
    enum Kind {
      kStarted,
      kRead,
      kWritten,
      kFinished,
      kAckDue,
      kIdleCheck,
      kReadDelay,
      kStop,
      kKinds
    };

    struct Stream;
    // The tag of one kind of operation of one stream.
    struct Event {
      Stream* stream;
      Kind kind;
    };

    struct Timer {
      grpc::Alarm alarm;
      bool armed = false;      // set, its tag not back yet
      bool cancelled = false;  // Cancel() called since it was set
    };

    struct Pending {
      std::string id;
      absl::Time due;
      uint64_t recorded;  // received_count once its Log was recorded
    };

    struct Stream {
      Stream() {
        for (int k = 0; k < kKinds; ++k) events[k] = Event{this, static_cast<Kind>(k)};
      }
      grpc::ServerContext context;
      grpc::ServerAsyncReaderWriter<plugins::Ack, plugins::Log> io{&context};
      Event events[kKinds];
      int outstanding = 0;  // operations and alarms whose tag is not back yet
      int number = 0;
      uint64_t count = 0;  // Logs read
      plugins::Log log;    // the Read in flight, or the Log waiting out read_delay
      uint64_t log_recorded = 0;
      plugins::Ack ack;
      std::string writing_id;
      std::deque<Pending> queue;
      Pending tail;
      bool has_tail = false;
      absl::Time tail_time;
      Timer ack_timer, idle_timer, read_timer;
      bool started = false;  // a client call is bound to it
      bool counted_active = false;
      bool read_ended = false;  // the client half-closed (or the call broke)
      bool closing = false;     // close_after reached: no more reads
      uint64_t closed_after = 0;
      bool writing = false;
      bool headers_sent = false;
      bool finishing = false;  // Finish() called
      bool finished = false;   // and its tag is back
      bool given_up = false;   // cancelled; only waiting for tags
    };

    void Run() {
      void* tag = nullptr;
      bool ok = false;
      while (cq_->Next(&tag, &ok)) {
        Event* event = static_cast<Event*>(tag);
        if (event->kind == kStop) {
          std::vector<Stream*> streams(streams_.begin(), streams_.end());
          for (Stream* stream : streams) {
            if (!stream->started) continue;  // fails by itself with the server
            Advance(stream);
            MaybeFree(stream);
          }
          continue;
        }
        Stream* stream = event->stream;
        --stream->outstanding;
        Handle(stream, event->kind, ok);
        MaybeFree(stream);
      }
    }

    void Handle(Stream* s, Kind kind, bool ok) {
      switch (kind) {
        case kStarted:
          if (!ok) {  // the server is shutting down
            s->given_up = true;
            return;
          }
          if (!state_->stopping.load()) RequestStream();
          s->started = true;
          {
            absl::MutexLock lock(&state_->mu);
            s->number = ++state_->streams_started;
            ++state_->active_streams;
          }
          s->counted_active = true;
          StartRead(s);
          Advance(s);
          return;
        case kRead: {
          if (!ok) {
            s->read_ended = true;
            Advance(s);
            return;
          }
          ++s->count;
          s->log_recorded = state_->Record(s->log, s->number);
          if (s->given_up) return;
          const int64_t delay_ns = state_->read_delay_ns.load();
          if (delay_ns > 0 && !state_->stopping.load()) {
            Arm(s, &s->read_timer, kReadDelay, absl::Now() + absl::Nanoseconds(delay_ns));
            return;
          }
          AfterLog(s);
          return;
        }
        case kReadDelay:
          Fired(&s->read_timer);
          if (!ok || s->given_up) return;
          AfterLog(s);
          return;
        case kWritten:
          s->writing = false;
          if (!ok) {
            GiveUp(s);  // the stream is gone
            return;
          }
          {
            absl::MutexLock lock(&state_->mu);
            ++state_->acked_count;
            if (state_->options.keep_received) state_->acked.push_back(s->writing_id);
          }
          Advance(s);
          return;
        case kFinished:
          s->finished = true;
          return;
        case kAckDue:
          Fired(&s->ack_timer);
          Advance(s);
          return;
        case kIdleCheck:
          Fired(&s->idle_timer);
          Advance(s);
          return;
        case kStop:
        case kKinds:
          return;
      }
    }

    void RequestStream() {
      Stream* s = new Stream();
      streams_.insert(s);
      ++s->outstanding;
      service_->RequestInput(&s->context, &s->io, cq_.get(), cq_.get(),
                             &s->events[kStarted]);
    }

    void StartRead(Stream* s) {
      ++s->outstanding;
      s->io.Read(&s->log, &s->events[kRead]);
    }

    // The Log in `s->log` has been recorded and its read_delay is over.
    void AfterLog(Stream* s) {
      const int every = state_->ack_every.load();
      const absl::Time now = absl::Now();
      if (every > 0 && s->count % static_cast<uint64_t>(every) == 0) {
        s->queue.push_back(Pending{
            s->log.id(), now + FromNanos(state_->ack_delay_ns.load()), s->log_recorded});
        s->has_tail = false;
      } else {
        s->tail = Pending{s->log.id(), now, s->log_recorded};
        s->tail_time = now;
        s->has_tail = every > 1;
      }
      const int close_after = state_->close_after.load();
      if (close_after > 0 && s->count >= static_cast<uint64_t>(close_after)) {
        s->closing = true;
        s->closed_after = s->count;
      } else {
        StartRead(s);
      }
      Advance(s);
    }

    // Decides what the stream does next after any of its events.
    void Advance(Stream* s) {
      if (s->finishing || s->given_up) return;
      if (state_->stopping.load()) {
        GiveUp(s);
        return;
      }
      const absl::Time now = absl::Now();
      const absl::Duration idle = FromNanos(state_->ack_idle_flush_ns.load());
      if (s->has_tail && idle != absl::InfiniteDuration() && now >= s->tail_time + idle) {
        s->tail.due = now;
        s->queue.push_back(std::move(s->tail));
        s->has_tail = false;
      }
      if (!s->writing && !s->queue.empty() && s->queue.front().due <= now) {
        WriteFront(s, now);
      }
      if (!s->writing) {
        // Acks not due yet are dropped, as by an engine whose worker failed.
        if (s->closing) {
          Finish(s, grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                 absl::StrCat("fake engine: closing the stream after ",
                                              s->closed_after, " logs")));
          return;
        }
        // The tail is not acked at the end: acks go on the stream.
        if (s->read_ended && s->queue.empty()) {
          Finish(s, grpc::Status::OK);
          return;
        }
        if (!s->queue.empty()) Arm(s, &s->ack_timer, kAckDue, s->queue.front().due);
      }
      if (s->has_tail) {
        // Bounded so that an idle flush set (or shortened) later is noticed.
        absl::Time check = now + absl::Milliseconds(50);
        if (idle != absl::InfiniteDuration())
          check = std::min(check, s->tail_time + idle);
        Arm(s, &s->idle_timer, kIdleCheck, check);
      }
    }

    void WriteFront(Stream* s, absl::Time now) {
      Pending ack = std::move(s->queue.front());
      s->queue.pop_front();
      // The acked Log must be readable in the record before the client hears of it.
      FlushRecordThrough(ack.recorded);
      s->ack.set_lastid(ack.id);
      s->writing_id = std::move(ack.id);
      grpc::WriteOptions options;
      // Coalesce acks due together. The stream's first write carries the response
      // headers, and gRPC 1.51 holds hinted headers until a later flush, so that one
      // goes out unbuffered.
      if (s->headers_sent && !s->queue.empty() && s->queue.front().due <= now) {
        options.set_buffer_hint();
      }
      s->headers_sent = true;
      s->writing = true;
      ++s->outstanding;
      s->io.Write(s->ack, options, &s->events[kWritten]);
    }

    void FlushRecordThrough(uint64_t recorded) {
      if (state_->options.record_path.empty() || recorded <= flushed_through_) return;
      absl::MutexLock lock(&state_->mu);
      if (state_->record != nullptr) (void)state_->record->Flush(absl::InfiniteFuture());
      flushed_through_ = state_->received_count;
    }

    // Only with no Write (and no Read) in flight.
    void Finish(Stream* s, const grpc::Status& status) {
      s->finishing = true;
      NoLongerActive(s);
      CancelTimers(s);
      ++s->outstanding;
      s->io.Finish(status, &s->events[kFinished]);
    }

    // Ends a stream that is broken or being stopped: its call is cancelled so that
    // the operations in flight come back.
    void GiveUp(Stream* s) {
      if (s->given_up || s->finishing) return;
      s->given_up = true;
      NoLongerActive(s);
      CancelTimers(s);
      if (s->started) s->context.TryCancel();
    }

    void NoLongerActive(Stream* s) {
      if (!s->counted_active) return;
      s->counted_active = false;
      absl::MutexLock lock(&state_->mu);
      --state_->active_streams;
    }

    void Arm(Stream* s, Timer* timer, Kind kind, absl::Time deadline) {
      if (timer->armed) return;  // its event re-evaluates
      timer->armed = true;
      timer->cancelled = false;
      ++s->outstanding;
      timer->alarm.Set(cq_.get(), absl::ToChronoTime(deadline), &s->events[kind]);
    }

    static void Fired(Timer* timer) {
      timer->armed = false;
      timer->cancelled = false;
    }

    static void CancelTimers(Stream* s) {
      for (Timer* timer : {&s->ack_timer, &s->idle_timer, &s->read_timer}) {
        if (timer->armed && !timer->cancelled) {
          timer->cancelled = true;
          timer->alarm.Cancel();
        }
      }
    }

    void MaybeFree(Stream* s) {
      if (s->outstanding > 0 || !(s->finished || s->given_up)) return;
      streams_.erase(s);
      delete s;
    }

    const std::shared_ptr<State> state_;
    Service* const service_;
    const std::unique_ptr<grpc::ServerCompletionQueue> cq_;
    // Only the queue thread uses these once it runs.
    std::unordered_set<Stream*> streams_;
    uint64_t flushed_through_ = 0;
    grpc::Alarm stop_alarm_;
    Event stop_event_{nullptr, kStop};
    std::thread thread_;
  };

  const std::shared_ptr<State> state_;
  mutable absl::Mutex lifecycle_mu_;
  std::unique_ptr<Service> service_ ABSL_GUARDED_BY(lifecycle_mu_);
  std::unique_ptr<InputStreams> streams_ ABSL_GUARDED_BY(lifecycle_mu_);
  std::unique_ptr<grpc::Server> server_ ABSL_GUARDED_BY(lifecycle_mu_);
  dev_t socket_dev_ ABSL_GUARDED_BY(lifecycle_mu_) = 0;
  ino_t socket_ino_ ABSL_GUARDED_BY(lifecycle_mu_) = 0;
};

}  // namespace fake_engine

#endif  // TESTDATA_FAKE_ENGINE_FAKE_ENGINE_H_
