// File: utmstack_sink/sink.h
//
// The sink seam: where converted Logs go. `EngineSink` (engine_sink.h) streams them to
// the UTMStack engine over gRPC; `JsonLinesSink` (json_lines_sink.h) writes them to a
// file. The collector moves its cursor only after Flush() returned OK, so a Sink must
// not report a Log as acknowledged before its receiver has taken it.
//
// Example:
//   for (plugins::Log& log : page.logs) {
//     absl::Status s = sink.Send(std::move(log), absl::Now() + absl::Seconds(30));
//     if (!s.ok()) return s;
//   }
//   if (absl::Status s = sink.Flush(absl::Now() + absl::Minutes(1)); !s.ok()) return s;
//   checkpoint.Save(page.next_cursor);   // only now
//
// Status codes: kDeadlineExceeded (the receiver did not take everything in time: nothing
// is dropped, the Logs stay pending), kFailedPrecondition (Send after Close),
// kInvalidArgument (a Log the receiver can never accept, e.g. too large).
// Implementations are thread-safe.
#ifndef UTMSTACK_SINK_SINK_H_
#define UTMSTACK_SINK_SINK_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "proto/plugins.pb.h"

namespace utmstack_sink {

class Sink {
 public:
  virtual ~Sink() = default;

  // Queues `log` for delivery. Blocks while the in-flight window is full, until
  // `deadline` (backpressure). Does not wait for the acknowledgement.
  virtual absl::Status Send(plugins::Log log, absl::Time deadline) = 0;

  // Returns kInvalidArgument (saying why) for a Log this sink can never accept, the
  // Log Send would refuse at once; OK otherwise. Lets a caller set such a Log aside
  // before handing it over (Send consumes it). Thread-safe.
  virtual absl::Status Check(const plugins::Log& /*log*/) const { return absl::OkStatus(); }

  // Waits until every Log sent so far has been acknowledged, or `deadline`.
  virtual absl::Status Flush(absl::Time deadline) = 0;

  // Stops taking Logs, waits for acknowledgements up to `deadline`, and releases the
  // connection. The Status says how many Logs were not acknowledged, if any.
  virtual absl::Status Close(absl::Time deadline) = 0;
};

}  // namespace utmstack_sink

#endif  // UTMSTACK_SINK_SINK_H_
