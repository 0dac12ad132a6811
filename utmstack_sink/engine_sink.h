// File: utmstack_sink/engine_sink.h
//
// EngineSink streams plugins::Log messages to the UTMStack engine over gRPC
// (`plugins.Engine/Input`, a bidirectional stream) on a Unix socket, the way the
// engine expects plugins to, but without losing or stalling on faults:
//
//  - Pipelined: one stream carries many Logs in flight. The in-flight window is
//    bounded both by count (`window_logs`) and by serialized bytes (`window_bytes`).
//    Consecutive writes are coalesced: all but the last queued write carry gRPC's
//    buffer hint, so a burst of Logs leaves in a few socket writes.
//  - Cumulative acks: `Ack.lastId` means "everything I sent on this stream up to and
//    including the Log with this id has been taken". Ids are matched by position
//    (the first pending Log with that id, searching from the oldest), which is right
//    for repeated ids and for engines that ack only some Logs, as long as each Ack
//    names a Log sent after the one the previous Ack named (UTMStack's engine acks in
//    order). With both together, a Log sent again while its first copy is pending
//    (a page re-read after a Flush timeout) and an engine acking only some Logs, an
//    Ack naming the second copy is taken for the first: the second copies then wait
//    for a later Ack or the next stream (never acknowledged early).
//  - Faults never end the process: a missing socket, an engine restart, a stream
//    closed with an error, or the socket file replaced by a new engine make the sink
//    reconnect with exponential backoff and resend, in order, every Log not yet
//    acknowledged. The engine may therefore see a Log twice after a reconnect; it
//    never misses one that Flush() reported as acknowledged.
//  - Honest completion: Flush() returns OK only once the engine acknowledged every
//    Log taken before the call, and kDeadlineExceeded otherwise (nothing dropped).
//    Close() reports exactly how many Logs were not acknowledged, and which.
//
// Threads: Send/Flush/Close/stats are called from any thread. Send serializes the Log
// on the caller's thread, once: the pending window holds wire bytes (a reference-
// counted gRPC slice per Log), which every (re)send hands to gRPC without copying.
// Inside, one thread owns the connection (connects, reconnects) and drives each stream
// through gRPC's completion-queue API: one Log write and one Ack read in flight, both
// handled by that thread as they complete, so no thread waits on another per Log; Send
// wakes it (a gRPC alarm) only when it had nothing left to write. The synchronous API,
// with a thread per direction, spent more time switching threads than moving Logs.
//
// Memory: the pending Logs are at most `window_bytes` serialized, and at most
// `window_logs` of them, each with about 80 bytes of bookkeeping (the queue entry and
// the slice's header); add gRPC's buffers for the one stream: up to
// `max_coalesced_bytes` queued for a socket write, the engine's HTTP/2 receive window,
// and acks received but not yet applied, at most the sink's 4 MiB receive window (in
// practice one ~50-byte Ack per Log in flight, about 200 KiB). With the defaults:
// 16 MiB + 4096 x ~80 B + 256 KiB + 4 MiB + the engine's window, i.e. about 21 MiB at
// most (about 17 MiB in practice).
//
// Example:
//   utmstack_sink::EngineSinkOptions options;
//   options.socket_path = "/workdir/sockets/engine_server.sock";
//   absl::StatusOr<std::unique_ptr<utmstack_sink::EngineSink>> sink =
//       utmstack_sink::EngineSink::Create(options);
//   if (!sink.ok()) return sink.status();           // e.g. path over 107 bytes
//   for (plugins::Log& log : page_logs) {
//     absl::Status s = (*sink)->Send(std::move(log), absl::Now() + absl::Seconds(30));
//     if (!s.ok()) return s;                        // kDeadlineExceeded: window full
//   }
//   absl::Status flushed = (*sink)->Flush(absl::Now() + absl::Minutes(1));
//   if (flushed.ok()) checkpoint.Save(page_cursor); // every Log acknowledged
//   ...
//   absl::Status closed = (*sink)->Close(absl::Now() + absl::Seconds(10));
//
// Status codes: Create: kInvalidArgument (socket path empty, not absolute or over 107
// bytes; a bad window or backoff). Send: kDeadlineExceeded (window full until the
// deadline), kInvalidArgument (a field not UTF-8, or larger than max_log_bytes),
// kFailedPrecondition (after Close). Flush: kDeadlineExceeded (how many are pending;
// nothing dropped), kFailedPrecondition after Close. Close: kDeadlineExceeded naming the
// Logs not acknowledged.
#ifndef UTMSTACK_SINK_ENGINE_SINK_H_
#define UTMSTACK_SINK_ENGINE_SINK_H_

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/call_once.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "grpcpp/alarm.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/support/byte_buffer.h"
#include "grpcpp/support/slice.h"
#include "proto/plugins.pb.h"
#include "utmstack_sink/internal/pending_window.h"
#include "utmstack_sink/internal/serialized_log.h"
#include "utmstack_sink/internal/validate_log.h"
#include "utmstack_sink/sink.h"

namespace utmstack_sink {

// Unix socket paths (sun_path) hold at most 107 bytes plus the terminating NUL.
inline constexpr size_t kMaxUnixSocketPathBytes = 107;

// The engine's Input method as it appears on the wire (package plugins, service
// Engine, rpc Input in proto/plugins.proto). The sink calls it through gRPC's generic
// stub so that it can send Logs it serialized itself.
inline constexpr char kEngineInputMethod[] = "/plugins.Engine/Input";

struct EngineSinkOptions {
  // The engine's socket, e.g. "$WORK_DIR/sockets/engine_server.sock" (at most 107
  // bytes). It need not exist yet: the sink connects when it appears.
  std::string socket_path;
  // In-flight window: Logs taken by Send() and not yet acknowledged. Send() blocks
  // while either bound would be exceeded.
  size_t window_logs = 4096;
  size_t window_bytes = size_t{16} << 20;
  // Largest serialized Log accepted. 4 MiB is the default receive limit of a gRPC
  // server (the engine's); a larger Log would end the stream each time it is sent.
  // Must not exceed window_bytes.
  size_t max_log_bytes = size_t{4} << 20;
  // Wait between connection attempts: starts at min, doubles after each attempt that
  // got no Log acknowledged, back to min after one that did.
  absl::Duration reconnect_backoff_min = absl::Milliseconds(100);
  absl::Duration reconnect_backoff_max = absl::Seconds(5);
  // How often the socket file is checked while a stream is open: if a new engine
  // replaced it (another inode at the path), the sink moves to the new engine.
  // absl::InfiniteDuration() turns the check off.
  absl::Duration socket_check_interval = absl::Seconds(1);
  // A burst of queued Logs is written with the buffer hint until this many bytes,
  // then flushed; larger batches save syscalls, smaller ones cut latency.
  size_t max_coalesced_bytes = size_t{256} << 10;
  // Makes the channel for one connection attempt. Unset: MakeEngineChannel(), a fresh
  // channel to unix://socket_path. Other transports (another channel, an in-process
  // one in tests) plug in here; the socket file is still what the sink watches.
  std::function<std::shared_ptr<grpc::ChannelInterface>()> channel_factory;
};

// Counters for the service's metrics. All are totals since Create().
struct EngineSinkStats {
  uint64_t taken = 0;            // Logs accepted by Send()
  uint64_t sent = 0;             // Log writes completed on a stream, resends included
  uint64_t acked = 0;            // Logs acknowledged by the engine
  uint64_t resent = 0;           // Log writes repeating one made on an earlier stream
  uint64_t reconnects = 0;       // streams opened after the first one
  uint64_t unmatched_acks = 0;   // acks naming no Log in flight (ignored)
  size_t pending_logs = 0;       // taken, not yet acknowledged
  size_t pending_bytes = 0;      // their serialized size
  size_t max_pending_bytes = 0;  // high-water mark of pending_bytes
  bool streaming = false;        // a stream to the engine is open (or opening)
  absl::Status last_error;       // the last connection or stream failure (OK: none)
};

// Returns a channel to the engine at unix://`socket_path` with the arguments the sink
// needs: its own subchannel pool (a new channel really makes a new connection, so a
// replaced socket file is reached), gRPC's retries off (the sink resends itself and
// retry buffering would copy every Log), reconnect backoff from `options`, and
// keepalive pings every 6 minutes (a Go gRPC server, like the engine, by default
// closes connections that ping more often than every 5 minutes). No TLS: the socket
// file's permissions are the access control. Thread-safe.
inline std::shared_ptr<grpc::Channel> MakeEngineChannel(
    const EngineSinkOptions& options) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetInt(GRPC_ARG_ENABLE_RETRIES, 0);
  const auto ms = [](absl::Duration d) {
    return static_cast<int>(
        std::clamp<int64_t>(absl::ToInt64Milliseconds(d), 100, INT32_MAX));
  };
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, ms(options.reconnect_backoff_min));
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, ms(options.reconnect_backoff_min));
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, ms(options.reconnect_backoff_max));
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 6 * 60 * 1000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 20 * 1000);
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 0);
  args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  // Throughput on a local socket: no bandwidth-delay probing pings (there is no
  // network window to discover) and a 4 MiB stream receive window, so acks are never
  // held back by window updates.
  args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  args.SetInt(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, 4 << 20);
  return grpc::CreateCustomChannel("unix://" + options.socket_path,
                                   grpc::InsecureChannelCredentials(), args);
}

class EngineSink final : public Sink {
 public:
  // Validates `options` and starts the sink; it connects in the background, so a
  // missing socket is not an error here. Returns kInvalidArgument when the socket path
  // is empty, not absolute or over 107 bytes, a window bound is 0, max_log_bytes
  // exceeds window_bytes, or the backoff bounds are not 0 < min <= max.
  // Thread-safe.
  static absl::StatusOr<std::unique_ptr<EngineSink>> Create(EngineSinkOptions options) {
    const std::string& path = options.socket_path;
    if (path.empty() || path[0] != '/') {
      return absl::InvalidArgumentError(absl::StrCat(
          "engine socket path \"", path,
          "\" must be an absolute path, e.g. /workdir/sockets/engine_server.sock: "
          "set engine.socket"));
    }
    if (path.size() > kMaxUnixSocketPathBytes) {
      return absl::InvalidArgumentError(absl::StrCat(
          "engine socket path ", path, " is ", path.size(),
          " bytes, over the 107-byte limit of Unix socket paths: use a shorter "
          "WORK_DIR or engine.socket"));
    }
    if (options.window_logs == 0 || options.window_bytes == 0) {
      return absl::InvalidArgumentError(
          "EngineSinkOptions: window_logs and window_bytes must be at least 1");
    }
    if (options.max_log_bytes == 0 || options.max_log_bytes > options.window_bytes) {
      return absl::InvalidArgumentError(absl::StrCat(
          "EngineSinkOptions: max_log_bytes (", options.max_log_bytes,
          ") must be between 1 and window_bytes (", options.window_bytes, ")"));
    }
    if (options.reconnect_backoff_min <= absl::ZeroDuration() ||
        options.reconnect_backoff_max < options.reconnect_backoff_min) {
      return absl::InvalidArgumentError(
          "EngineSinkOptions: need 0 < reconnect_backoff_min <= reconnect_backoff_max");
    }
    if (options.max_coalesced_bytes == 0) options.max_coalesced_bytes = 1;
    return std::unique_ptr<EngineSink>(new EngineSink(std::move(options)));
  }

  EngineSink(const EngineSink&) = delete;
  EngineSink& operator=(const EngineSink&) = delete;

  // Closes without waiting for acknowledgements (Close(absl::Now())) if Close() was
  // not called. Logs still pending are dropped.
  ~EngineSink() override { (void)Close(absl::Now()); }

  // kInvalidArgument for a Log Send refuses at once: a field not UTF-8, or larger
  // than max_log_bytes serialized. Thread-safe.
  absl::Status Check(const plugins::Log& log) const override {
    return utmstack_sink_internal::ValidateLog(log, log.ByteSizeLong(),
                                               options_.max_log_bytes);
  }

  // Takes `log` for delivery and returns without waiting for its acknowledgement.
  // While the window is full, waits for room until `deadline`.
  // Returns OK (the Log is taken: it will be delivered or reported by Close), or,
  // with the Log NOT taken:
  //   kDeadlineExceeded   the window stayed full until `deadline` (backpressure)
  //   kInvalidArgument    the Log can never be sent: a field is not UTF-8, or it is
  //                       larger than max_log_bytes
  //   kFailedPrecondition Close() has been called
  // Thread-safe; concurrent Sends keep their own order only per calling thread.
  absl::Status Send(plugins::Log log, absl::Time deadline) override {
    const size_t bytes = log.ByteSizeLong();
    if (absl::Status s =
            utmstack_sink_internal::ValidateLog(log, bytes, options_.max_log_bytes);
        !s.ok()) {
      return s;
    }
    // Serialized here, on the caller's thread, and the caller's Log freed here too.
    grpc::Slice wire = utmstack_sink_internal::SerializeLog(log, bytes);
    absl::MutexLock lock(&mu_);
    while (!closing_ && !HasRoomLocked(bytes)) {
      const absl::Time now = absl::Now();
      if (now >= deadline) {
        return absl::DeadlineExceededError(
            absl::StrCat("engine sink window full until the deadline (", pending_.size(),
                         " logs, ", pending_.bytes(), " bytes unacknowledged; window ",
                         options_.window_logs, " logs / ", options_.window_bytes,
                         " bytes): the log was not taken, send it again later; engine: ",
                         ConnectionStateLocked()));
      }
      // Acks wake waiting senders only once the window has drained to its low-water
      // mark (one wake per burst, not per ack); the bounded wait notices room that
      // appears above that mark when acks pause.
      ++space_waiters_;
      space_cv_.WaitWithDeadline(&mu_, std::min(deadline, now + kRoomRecheck));
      --space_waiters_;
    }
    if (closing_) return ClosedError("Send");
    pending_.Push(std::move(wire));
    max_pending_bytes_ = std::max(max_pending_bytes_, pending_.bytes());
    ++taken_;
    if (writer_idle_) WakeStreamLocked();
    return absl::OkStatus();
  }

  // Waits until the engine acknowledged every Log taken before this call, or
  // `deadline`. Returns OK, kDeadlineExceeded (saying how many are still pending and
  // why the engine may not be answering; they stay queued and are resent as needed),
  // or kFailedPrecondition after Close(). Thread-safe.
  absl::Status Flush(absl::Time deadline) override {
    absl::MutexLock lock(&mu_);
    if (closing_) return ClosedError("Flush");
    const uint64_t target = taken_;
    if (acked_ >= target) return absl::OkStatus();
    const auto waiting = ack_targets_.insert(target);
    while (acked_ < target) {
      if (acked_cv_.WaitWithDeadline(&mu_, deadline) && acked_ < target) {
        ack_targets_.erase(waiting);
        return absl::DeadlineExceededError(absl::StrCat(
            "engine did not acknowledge ", target - acked_,
            " of the logs sent before Flush by the deadline (", PendingSummaryLocked(),
            "); they stay queued and are resent if the stream is replaced; engine: ",
            ConnectionStateLocked()));
      }
    }
    ack_targets_.erase(waiting);
    return absl::OkStatus();
  }

  // Stops taking Logs (Send and Flush then fail with kFailedPrecondition, blocked
  // Sends included), waits until every taken Log is acknowledged or `deadline`, then
  // ends the stream (half-close when all is acknowledged, cancel otherwise) and stops
  // the sink's threads. Returns OK when nothing is left unacknowledged, else
  // kDeadlineExceeded naming how many Logs were not acknowledged and the first and
  // last of their ids; TakeUnacknowledged() hands them back. Calling Close again
  // returns the first result. Thread-safe.
  absl::Status Close(absl::Time deadline) override {
    {
      absl::MutexLock lock(&mu_);
      if (close_status_.has_value()) return *close_status_;
      if (!closing_) {
        closing_ = true;
        space_cv_.SignalAll();
        acked_cv_.SignalAll();
      }
      // No Log is taken any more, so "all acknowledged" is acked_ reaching taken_.
      const auto waiting = ack_targets_.insert(taken_);
      while (!pending_.empty()) {
        if (acked_cv_.WaitWithDeadline(&mu_, deadline)) break;
      }
      ack_targets_.erase(waiting);
      shutdown_ = true;
      shutdown_flag_.store(true, std::memory_order_release);
      close_deadline_ = deadline;
      if (!pending_.empty() && context_ != nullptr) context_->TryCancel();
      work_cv_.SignalAll();
      WakeStreamLocked();
    }
    // Concurrent Close calls: one joins, the others wait for that join to end.
    absl::call_once(writer_joined_, [this] { writer_.join(); });
    absl::MutexLock lock(&mu_);
    if (!close_status_.has_value()) {
      if (pending_.empty()) {
        close_status_ = absl::OkStatus();
      } else {
        close_status_ = absl::DeadlineExceededError(absl::StrCat(
            "engine sink closed with ", pending_.size(),
            " logs not acknowledged by the engine (first id ",
            utmstack_sink_internal::PrintableId(pending_.front_id()), ", last id ",
            utmstack_sink_internal::PrintableId(pending_.back_id()),
            "): treat them as not delivered; engine: ", ConnectionStateLocked()));
      }
    }
    return *close_status_;
  }

  // After Close(): returns the Logs that were not acknowledged, oldest first, and
  // forgets them (so a caller can spool them). Before Close(): returns nothing.
  // Thread-safe.
  std::vector<plugins::Log> TakeUnacknowledged() {
    absl::MutexLock lock(&mu_);
    if (!close_status_.has_value()) return {};
    return pending_.TakeAll();
  }

  // Returns a snapshot of the counters. Thread-safe.
  EngineSinkStats stats() const {
    absl::MutexLock lock(&mu_);
    EngineSinkStats s;
    s.taken = taken_;
    s.sent = sent_;
    s.acked = acked_;
    s.resent = resent_;
    s.reconnects = streams_ > 0 ? streams_ - 1 : 0;
    s.unmatched_acks = unmatched_acks_;
    s.pending_logs = pending_.size();
    s.pending_bytes = pending_.bytes();
    s.max_pending_bytes = max_pending_bytes_;
    s.streaming = context_ != nullptr && !stream_broken_;
    s.last_error = last_error_;
    return s;
  }

  // Returns the options the sink runs with. Thread-safe.
  const EngineSinkOptions& options() const { return options_; }

 private:
  // How a stream ended, as the writer sees it.
  enum class StreamEnd { kBroken, kReplaced, kShutdown };

  explicit EngineSink(EngineSinkOptions options)
      : options_(std::move(options)), writer_([this] { RunWriter(); }) {}

  bool HasRoomLocked(size_t bytes) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return pending_.size() < options_.window_logs &&
           pending_.bytes() + bytes <= options_.window_bytes;
  }

  absl::Status ClosedError(const char* what) const {
    return absl::FailedPreconditionError(absl::StrCat(
        "engine sink for ", options_.socket_path, " is closed: ", what, " after Close"));
  }

  std::string PendingSummaryLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (pending_.empty()) return "none pending";
    return absl::StrCat(pending_.size(), " pending, first id ",
                        utmstack_sink_internal::PrintableId(pending_.front_id()),
                        ", last id ",
                        utmstack_sink_internal::PrintableId(pending_.back_id()));
  }

  // For messages: what the connection is doing now, and the last failure.
  std::string ConnectionStateLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    std::string state;
    if (context_ != nullptr && !stream_broken_) {
      state = absl::StrCat("stream open to unix://", options_.socket_path, ", ",
                           stream_acked_, " logs acknowledged on it");
      if (!last_error_.ok())
        absl::StrAppend(&state, "; before it: ", last_error_.message());
    } else if (!last_error_.ok()) {
      state = std::string(last_error_.message());
    } else {
      state = absl::StrCat("connecting to unix://", options_.socket_path);
    }
    return state;
  }

  // Why the socket cannot be connected to now, or OK with its identity.
  absl::Status CheckSocket(dev_t* dev, ino_t* ino) const {
    const std::string& path = options_.socket_path;
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) {
      const int err = errno;
      if (err == ENOENT) {
        return absl::UnavailableError(absl::StrCat(
            "engine socket ", path,
            " does not exist: is the UTMStack engine running? set engine.socket"));
      }
      if (err == EACCES) {
        return absl::PermissionDeniedError(absl::StrCat(
            "cannot reach engine socket ", path, ": ", std::strerror(err),
            ": run the plugin as a user the socket's directory permissions allow"));
      }
      return absl::UnavailableError(
          absl::StrCat("cannot stat engine socket ", path, ": ", std::strerror(err)));
    }
    if (!S_ISSOCK(st.st_mode)) {
      return absl::FailedPreconditionError(
          absl::StrCat(path,
                       " exists but is not a Unix socket: point engine.socket at the "
                       "engine's socket"));
    }
    if (::access(path.c_str(), W_OK) != 0) {
      return absl::PermissionDeniedError(absl::StrCat(
          "no write permission on engine socket ", path,
          " (connecting needs it): run the plugin as a user the socket allows"));
    }
    *dev = st.st_dev;
    *ino = st.st_ino;
    return absl::OkStatus();
  }

  bool SocketReplaced(dev_t dev, ino_t ino) const {
    struct stat st;
    // A missing file is not a replacement: the open stream may still work (an engine
    // going away ends it soon enough), and there is nothing else to connect to.
    return ::stat(options_.socket_path.c_str(), &st) == 0 &&
           (st.st_dev != dev || st.st_ino != ino);
  }

  // Sleeps `d` unless Close() wants the writer to stop. Returns false on stop.
  bool SleepUnlessShutdown(absl::Duration d) {
    absl::MutexLock lock(&mu_);
    const absl::Time until = absl::Now() + d;
    while (!shutdown_) {
      if (work_cv_.WaitWithDeadline(&mu_, until)) break;
    }
    return !shutdown_;
  }

  // The writer thread: connect, stream, and reconnect until Close().
  void RunWriter() {
    absl::Duration backoff = options_.reconnect_backoff_min;
    while (true) {
      {
        absl::MutexLock lock(&mu_);
        if (shutdown_) return;
      }
      dev_t dev = 0;
      ino_t ino = 0;
      absl::Status socket = CheckSocket(&dev, &ino);
      if (!socket.ok()) {
        {
          absl::MutexLock lock(&mu_);
          last_error_ = socket;
        }
        if (!SleepUnlessShutdown(backoff)) return;
        backoff = std::min(backoff * 2, options_.reconnect_backoff_max);
        continue;
      }
      uint64_t acked_before;
      {
        absl::MutexLock lock(&mu_);
        acked_before = acked_;
      }
      const StreamEnd end = RunStream(dev, ino);
      if (end == StreamEnd::kShutdown) return;
      if (end == StreamEnd::kReplaced) {
        backoff = options_.reconnect_backoff_min;
        continue;  // a new engine is there now: go at once
      }
      bool progressed;
      {
        absl::MutexLock lock(&mu_);
        progressed = acked_ > acked_before;
      }
      if (progressed) backoff = options_.reconnect_backoff_min;
      if (!SleepUnlessShutdown(backoff)) return;
      if (!progressed) backoff = std::min(backoff * 2, options_.reconnect_backoff_max);
    }
  }

  // One Input stream, from opening to its end, driven by this (the writer) thread alone
  // through gRPC's completion-queue API: one Log write and one Ack read in flight at a
  // time, and this thread handles both as they complete. (Two threads blocking in the
  // synchronous API, one per direction, spend more time handing the CPU to each other
  // than moving Logs: see engine_sink_benchmark.)
  StreamEnd RunStream(dev_t dev, ino_t ino) {
    grpc::GenericStub stub(options_.channel_factory ? options_.channel_factory()
                                                    : MakeEngineChannel(options_));
    grpc::ClientContext context;
    grpc::CompletionQueue cq;
    grpc::Alarm wake;
    {
      absl::MutexLock lock(&mu_);
      if (shutdown_) return StreamEnd::kShutdown;
      context_ = &context;  // from here Close() can cancel the stream
      wake_cq_ = &cq;       // and Send()/Close() can wake this thread
      wake_alarm_ = &wake;
      wake_pending_ = false;
      writer_idle_ = false;
      stream_broken_ = false;
      stream_acked_ = 0;
      pending_.RestartSending();  // resend everything unacknowledged, in order
      ++streams_;
    }
    std::unique_ptr<grpc::GenericClientAsyncReaderWriter> stream =
        stub.PrepareCall(&context, kEngineInputMethod, &cq);
    StreamDriver driver(this, stream.get(), &cq);
    stream->StartCall(driver.Tag(Op::kStart));
    driver.Run(dev, ino);
    const StreamEnd end = driver.end();

    // Ending: with everything acknowledged at Close(), half-close and let the engine
    // end the stream itself (within Close's deadline and at most a second). A broken
    // stream ends by itself (the read fails); give it a moment so the engine's own
    // status, not our cancellation, is what Finish() reports. Otherwise cancel.
    bool clean = false;
    absl::Time until;
    {
      absl::MutexLock lock(&mu_);
      clean = end == StreamEnd::kShutdown && pending_.empty() && !stream_broken_;
      until = clean ? std::min(close_deadline_, absl::Now() + absl::Seconds(1))
                    : absl::Now() + absl::Seconds(end == StreamEnd::kBroken ? 5 : 0);
    }
    if (clean && driver.started()) driver.WritesDone(until);
    // A stream that never started is cancelled at once (its start may wait for a
    // connection), and so is one given up for a reply that is not an Ack: its read has
    // stopped, and the other end, still waiting for Logs, would never end it.
    if (!driver.started() || !driver.protocol_error().ok() ||
        !driver.WaitForReadEnd(until)) {
      context.TryCancel();
    }
    const grpc::Status status = driver.Finish();
    {
      absl::MutexLock lock(&mu_);
      sent_ += driver.TakeUnpublishedSent();
      context_ = nullptr;
      wake_cq_ = nullptr;
      wake_alarm_ = nullptr;
      if (wake_pending_) wake.Cancel();
      stream_broken_ = true;
      if (end == StreamEnd::kReplaced) {
        last_error_ = absl::UnavailableError(
            absl::StrCat("engine socket ", options_.socket_path,
                         " was replaced by a new one; moved to the new engine"));
      } else if (!driver.protocol_error().ok()) {
        last_error_ = driver.protocol_error();
      } else if (!status.ok() && end != StreamEnd::kShutdown) {
        last_error_ = StreamError(status);
      }
    }
    driver.Drain();
    return end;
  }

  absl::Status StreamError(const grpc::Status& status) const {
    std::string hint;
    if (status.error_message().find("Connection refused") != std::string::npos) {
      hint = ": the socket file exists but nothing listens on it; is the engine running?";
    }
    return absl::UnavailableError(absl::StrCat(
        "stream to engine at unix://", options_.socket_path, " ended with gRPC code ",
        static_cast<int>(status.error_code()), ": ", status.error_message(), hint,
        "; reconnecting and resending unacknowledged logs"));
  }

  // Wakes the stream's thread if it waits for Logs (or for Close). Only one wake is in
  // flight at a time: the alarm is set again only after its tag came back.
  void WakeStreamLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (wake_alarm_ == nullptr || wake_pending_) return;
    wake_pending_ = true;
    wake_alarm_->Set(wake_cq_, gpr_now(GPR_CLOCK_MONOTONIC), StreamDriver::Tag(Op::kWake));
  }

  static gpr_timespec GprDeadline(absl::Time t) {
    if (t == absl::InfiniteFuture()) return gpr_inf_future(GPR_CLOCK_REALTIME);
    const timespec ts = absl::ToTimespec(t);
    gpr_timespec out;
    out.tv_sec = ts.tv_sec;
    out.tv_nsec = static_cast<int32_t>(ts.tv_nsec);
    out.clock_type = GPR_CLOCK_REALTIME;
    return out;
  }

  // The operations of one stream; their tags are these values.
  enum class Op : uintptr_t {
    kStart = 1, kWrite, kRead, kWake, kSocketCheck, kWritesDone, kFinish
  };

  // The completion-queue loop of one stream.
  class StreamDriver {
   public:
    StreamDriver(EngineSink* sink, grpc::GenericClientAsyncReaderWriter* stream,
                 grpc::CompletionQueue* cq)
        : sink_(sink), stream_(stream), cq_(cq) {}

    static void* Tag(Op op) { return reinterpret_cast<void*>(static_cast<uintptr_t>(op)); }

    bool started() const { return started_; }
    StreamEnd end() const { return end_; }
    // Why the stream was given up although gRPC saw nothing wrong (OK: it was not).
    const absl::Status& protocol_error() const { return protocol_error_; }
    // Log writes completed since the last call (added to the sink's count under its
    // lock at the next write, not once per completion).
    uint64_t TakeUnpublishedSent() { return std::exchange(unpublished_sent_, 0); }

    // Writes queued Logs and applies acks until the stream breaks, the socket is
    // replaced, or Close().
    void Run(dev_t dev, ino_t ino) {
      // The socket is checked when an alarm fires, so that waiting for the next event
      // needs no deadline (with one, every wait reads two clocks to convert it).
      const absl::Duration check_every = sink_->options_.socket_check_interval;
      const bool check_socket = check_every != absl::InfiniteDuration();
      if (check_socket) ArmSocketCheck(check_every);
      while (true) {
        // No lock per event: Close() sets the flag before it wakes this thread, and
        // only this thread breaks the stream.
        if (sink_->shutdown_flag_.load(std::memory_order_acquire)) {
          end_ = StreamEnd::kShutdown;
          return;
        }
        if (broken_) {
          end_ = StreamEnd::kBroken;
          return;
        }
        if (started_ && !writing_) StartWrite();
        void* tag = nullptr;
        bool ok = false;
        if (!cq_->Next(&tag, &ok)) return;  // shut down
        Handle(tag, ok);
        if (check_due_) {
          check_due_ = false;
          if (sink_->SocketReplaced(dev, ino)) {
            end_ = StreamEnd::kReplaced;
            return;
          }
          ArmSocketCheck(check_every);
        }
      }
    }

    // Half-closes the stream once the Log write in flight, if any, has completed (the
    // engine may acknowledge a Log before its write completes here; a write and the
    // half-close must not overlap), unless that takes past `until`.
    void WritesDone(absl::Time until) {
      while (writing_ && !broken_) {
        void* tag = nullptr;
        bool ok = false;
        if (cq_->AsyncNext(&tag, &ok, GprDeadline(until)) != grpc::CompletionQueue::GOT_EVENT) {
          return;
        }
        Handle(tag, ok);
      }
      if (writing_ || broken_) return;
      writing_ = true;  // the half-close is a write: Finish waits for it
      stream_->WritesDone(Tag(Op::kWritesDone));
    }

    // Waits until the engine ended the stream (the read failed) or `until`. Returns
    // whether it did.
    bool WaitForReadEnd(absl::Time until) {
      while (reading_) {
        void* tag = nullptr;
        bool ok = false;
        if (cq_->AsyncNext(&tag, &ok, GprDeadline(until)) != grpc::CompletionQueue::GOT_EVENT) {
          break;
        }
        Handle(tag, ok);
      }
      return !reading_;
    }

    // The stream's status, once every operation but the wake alarm has completed.
    grpc::Status Finish() {
      grpc::Status status;
      finishing_ = true;
      stream_->Finish(&status, Tag(Op::kFinish));
      while (!finished_ || reading_ || writing_ || !start_done_) {
        void* tag = nullptr;
        bool ok = false;
        if (!cq_->Next(&tag, &ok)) break;
        Handle(tag, ok);
      }
      return status;
    }

    // Shuts the queue down once nothing else can reach it, and takes what is left.
    void Drain() {
      check_alarm_.Cancel();  // its tag comes back (not ok) before the queue ends
      cq_->Shutdown();
      void* tag = nullptr;
      bool ok = false;
      while (cq_->Next(&tag, &ok)) {
        if (tag == Tag(Op::kWake)) {
          absl::MutexLock lock(&sink_->mu_);
          sink_->wake_pending_ = false;
        }
      }
    }

   private:
    void Handle(void* tag, bool ok) {
      switch (static_cast<Op>(reinterpret_cast<uintptr_t>(tag))) {
        case Op::kStart:
          start_done_ = true;
          if (!ok) {
            MarkBroken();
            return;
          }
          started_ = true;
          reading_ = true;
          stream_->Read(&ack_bytes_, Tag(Op::kRead));
          return;
        case Op::kWrite:
          writing_ = false;
          if (ok) {
            ++unpublished_sent_;
          } else {
            MarkBroken();
          }
          return;
        case Op::kRead: {
          if (!ok) {
            reading_ = false;
            MarkBroken();
            return;
          }
          const size_t ack_size = ack_bytes_.Length();
          if (!utmstack_sink_internal::ParseAck(&ack_bytes_, &ack_)) {
            // What the typed API does with a reply it cannot parse: end the stream.
            reading_ = false;
            protocol_error_ = absl::UnavailableError(absl::StrCat(
                "engine at unix://", sink_->options_.socket_path, " replied with ",
                ack_size, " bytes that are not a plugins.Ack: is engine.socket the "
                "UTMStack engine's Input socket? reconnecting and resending "
                "unacknowledged logs"));
            MarkBroken();
            return;
          }
          {
            absl::MutexLock lock(&sink_->mu_);
            sink_->ApplyAckLocked(ack_.lastid(), &done_);
          }
          done_.clear();  // freed without the lock held
          if (!finishing_) {
            stream_->Read(&ack_bytes_, Tag(Op::kRead));
          } else {
            reading_ = false;
          }
          return;
        }
        case Op::kWake: {
          absl::MutexLock lock(&sink_->mu_);
          sink_->wake_pending_ = false;
          return;
        }
        case Op::kSocketCheck:
          check_due_ = ok;  // not ok: cancelled, the stream is ending
          return;
        case Op::kWritesDone:
          writing_ = false;
          return;
        case Op::kFinish:
          finished_ = true;
          return;
      }
    }

    void ArmSocketCheck(absl::Duration after) {
      check_alarm_.Set(cq_, GprDeadline(absl::Now() + after), Tag(Op::kSocketCheck));
    }

    void MarkBroken() {
      broken_ = true;
      absl::MutexLock lock(&sink_->mu_);
      sink_->stream_broken_ = true;
    }

    // Hands the next queued Log to the stream, with the buffer hint while more are
    // queued behind it and less than max_coalesced_bytes went since the last flush.
    void StartWrite() {
      bool more = false;
      std::optional<grpc::ByteBuffer> buffer;
      {
        absl::MutexLock lock(&sink_->mu_);
        sink_->sent_ += std::exchange(unpublished_sent_, 0);
        if (sink_->shutdown_ || sink_->stream_broken_) return;
        const utmstack_sink_internal::PendingWindow::Next next =
            sink_->pending_.TakeNextToSend();
        if (next.wire == nullptr) {
          sink_->writer_idle_ = true;
          return;
        }
        sink_->writer_idle_ = false;
        if (next.resend) ++sink_->resent_;
        // The buffer takes a reference to the slice, not a copy, and Write takes the
        // buffer's: gRPC sends the bytes Send() serialized, and they stay alive if the
        // Log is acknowledged (and dropped from the window) before its write completes.
        buffer.emplace(next.wire, 1);
        coalesced_ += next.wire->size();
        more = sink_->pending_.has_unsent();
      }
      grpc::WriteOptions write_options;
      if (more && coalesced_ < sink_->options_.max_coalesced_bytes) {
        write_options.set_buffer_hint();
      } else {
        coalesced_ = 0;
      }
      writing_ = true;
      stream_->Write(*buffer, write_options, Tag(Op::kWrite));
    }

    EngineSink* const sink_;
    grpc::GenericClientAsyncReaderWriter* const stream_;
    grpc::CompletionQueue* const cq_;
    StreamEnd end_ = StreamEnd::kBroken;
    bool broken_ = false;  // this thread saw the stream fail
    absl::Status protocol_error_;
    bool start_done_ = false;
    bool started_ = false;
    bool reading_ = false;
    bool writing_ = false;
    bool finishing_ = false;
    bool finished_ = false;
    size_t coalesced_ = 0;
    grpc::Alarm check_alarm_;  // when to look at the socket file again
    bool check_due_ = false;
    uint64_t unpublished_sent_ = 0;
    grpc::ByteBuffer ack_bytes_;
    plugins::Ack ack_;
    // Acknowledged Logs, freed after the lock is released so Send does not wait.
    std::vector<grpc::Slice> done_;
  };

  // Everything handed to this stream up to and including the first pending Log with
  // id `last_id` is acknowledged. The acknowledged Logs are moved to `done`.
  void ApplyAckLocked(absl::string_view last_id, std::vector<grpc::Slice>* done)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    const size_t n = pending_.Acknowledge(last_id, done);
    if (n > 0) {
      acked_ += n;
      stream_acked_ += n;
      if (space_waiters_ > 0 &&
          pending_.size() <= options_.window_logs - options_.window_logs / 4 &&
          pending_.bytes() <= options_.window_bytes - options_.window_bytes / 4) {
        space_cv_.SignalAll();
      }
      if (!ack_targets_.empty() && acked_ >= *ack_targets_.begin()) acked_cv_.SignalAll();
      return;
    }
    ++unmatched_acks_;
  }

  const EngineSinkOptions options_;

  mutable absl::Mutex mu_;
  absl::CondVar work_cv_;   // the connection thread's backoff sleep: Close
  absl::CondVar space_cv_;  // Send: window room, Close
  absl::CondVar acked_cv_;  // Flush/Close: acks
  // How often a sender waiting for room looks again without being woken.
  static constexpr absl::Duration kRoomRecheck = absl::Milliseconds(2);
  int space_waiters_ ABSL_GUARDED_BY(mu_) = 0;
  // The acked_ totals that Flush/Close calls wait for (woken when the smallest is met).
  std::multiset<uint64_t> ack_targets_ ABSL_GUARDED_BY(mu_);
  // Taken and not acknowledged, and how far the current stream got in sending them.
  utmstack_sink_internal::PendingWindow pending_ ABSL_GUARDED_BY(mu_);
  size_t max_pending_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t taken_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t acked_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t stream_acked_ ABSL_GUARDED_BY(mu_) = 0;  // on the current stream
  uint64_t sent_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t resent_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t streams_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t unmatched_acks_ ABSL_GUARDED_BY(mu_) = 0;
  bool closing_ ABSL_GUARDED_BY(mu_) = false;   // no more Send/Flush
  bool shutdown_ ABSL_GUARDED_BY(mu_) = false;  // the writer must stop
  std::atomic<bool> shutdown_flag_{false};       // shutdown_, read without the lock
  absl::Time close_deadline_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();
  bool stream_broken_ ABSL_GUARDED_BY(mu_) = true;
  grpc::ClientContext* context_ ABSL_GUARDED_BY(mu_) = nullptr;  // current stream
  // The current stream's queue and its wake alarm (null between streams); a wake is
  // set and not yet taken; the stream's thread found no Log to write.
  grpc::CompletionQueue* wake_cq_ ABSL_GUARDED_BY(mu_) = nullptr;
  grpc::Alarm* wake_alarm_ ABSL_GUARDED_BY(mu_) = nullptr;
  bool wake_pending_ ABSL_GUARDED_BY(mu_) = false;
  bool writer_idle_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status last_error_ ABSL_GUARDED_BY(mu_);
  std::optional<absl::Status> close_status_ ABSL_GUARDED_BY(mu_);

  absl::once_flag writer_joined_;
  std::thread writer_;  // last: starts after everything above is initialized
};

}  // namespace utmstack_sink

#endif  // UTMSTACK_SINK_ENGINE_SINK_H_
