// File: utmstack_sink/internal/pending_window.h
//
// The Logs an EngineSink has taken and the engine has not acknowledged yet, oldest
// first, each held serialized (see serialized_log.h), and how far the current stream
// has got in sending them. It applies the engine's cumulative acks: `Ack.lastId` names
// the last Log taken, and everything sent before it on the stream is taken too.
// ParseAck reads an engine reply as the sink receives it.
//
// Not thread-safe: EngineSink keeps one under its mutex.
//
// Example:
//   PendingWindow window;
//   window.Push(SerializeLog(log, log.ByteSizeLong()));
//   const PendingWindow::Next next = window.TakeNextToSend();  // next.wire to gRPC
//   plugins::Ack ack;
//   if (ParseAck(&reply, &ack)) {
//     std::vector<grpc::Slice> done;
//     size_t acked = window.Acknowledge(ack.lastid(), &done);   // 0: names no Log sent
//   }
//   window.RestartSending();  // a new stream: resend everything still pending
#ifndef UTMSTACK_SINK_INTERNAL_PENDING_WINDOW_H_
#define UTMSTACK_SINK_INTERNAL_PENDING_WINDOW_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "grpcpp/impl/codegen/proto_utils.h"
#include "grpcpp/support/byte_buffer.h"
#include "grpcpp/support/slice.h"
#include "proto/plugins.pb.h"
#include "utmstack_sink/internal/serialized_log.h"

namespace utmstack_sink_internal {

// Parses the engine's reply `bytes` (consumed: it is cleared) into `ack`, the way the
// typed gRPC API would. Returns false if the bytes are not a plugins.Ack.
inline bool ParseAck(grpc::ByteBuffer* bytes, plugins::Ack* ack) {
  return grpc::SerializationTraits<plugins::Ack>::Deserialize(bytes, ack).ok();
}

class PendingWindow {
 public:
  // Appends a serialized Log (the newest).
  void Push(grpc::Slice wire) {
    bytes_ += wire.size();
    // Where the id sits is found once here (on the sender's thread), not at each ack.
    const absl::string_view id = SerializedLogId(wire);
    const auto offset = static_cast<uint32_t>(
        id.empty() ? 0 : reinterpret_cast<const uint8_t*>(id.data()) - wire.begin());
    entries_.push_back(Entry{std::move(wire), offset, static_cast<uint32_t>(id.size()), false});
  }

  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  size_t bytes() const { return bytes_; }  // serialized bytes of all pending Logs
  // How many pending Logs the current stream has been handed.
  size_t sent() const { return next_send_; }
  bool has_unsent() const { return next_send_ < entries_.size(); }

  // Ids of the oldest and newest pending Logs; call only when not empty.
  absl::string_view front_id() const { return entries_.front().id(); }
  absl::string_view back_id() const { return entries_.back().id(); }

  struct Next {
    const grpc::Slice* wire = nullptr;  // null: nothing left to send
    bool resend = false;                // an earlier stream was handed it too
  };
  // Hands the oldest Log not yet sent on this stream to the caller, who writes it
  // before the next call that changes the window. Returns {nullptr} if all are sent.
  Next TakeNextToSend() {
    if (next_send_ >= entries_.size()) return {};
    Entry& e = entries_[next_send_++];
    Next next{&e.wire, e.written};
    e.written = true;
    return next;
  }

  // The Logs handed to this stream up to and including the first one (oldest first)
  // with id `last_id` are acknowledged: they leave the window and their slices are
  // appended to `done` (to be freed outside the caller's lock). Returns how many; 0
  // when no Log sent on this stream has that id (the ack is ignored).
  size_t Acknowledge(absl::string_view last_id, std::vector<grpc::Slice>* done) {
    const size_t limit = std::min(next_send_, entries_.size());
    for (size_t i = 0; i < limit; ++i) {
      if (entries_[i].id() != last_id) continue;
      const size_t n = i + 1;
      for (size_t k = 0; k < n; ++k) {
        bytes_ -= entries_.front().wire.size();
        done->push_back(std::move(entries_.front().wire));
        entries_.pop_front();
      }
      next_send_ -= n;
      return n;
    }
    return 0;
  }

  // A new stream: every pending Log is sent again, oldest first.
  void RestartSending() { next_send_ = 0; }

  // Parses every pending Log, oldest first, and empties the window.
  std::vector<plugins::Log> TakeAll() {
    std::vector<plugins::Log> out(entries_.size());
    for (size_t i = 0; i < entries_.size(); ++i) {
      // The bytes are a serialization of a Log: they parse.
      (void)ParseSerializedLog(entries_[i].wire, &out[i]);
    }
    entries_.clear();
    bytes_ = 0;
    next_send_ = 0;
    return out;
  }

 private:
  struct Entry {
    grpc::Slice wire;    // the serialized Log (shared with gRPC while it is written)
    uint32_t id_offset;  // the Log's id: wire bytes [id_offset, id_offset + id_size)
    uint32_t id_size;
    bool written;        // handed to some stream already
    absl::string_view id() const {
      return absl::string_view(reinterpret_cast<const char*>(wire.begin()) + id_offset,
                               id_size);
    }
  };

  std::deque<Entry> entries_;  // oldest first
  size_t bytes_ = 0;
  size_t next_send_ = 0;  // entries_[0, next_send_) were handed to the current stream
};

}  // namespace utmstack_sink_internal

#endif  // UTMSTACK_SINK_INTERNAL_PENDING_WINDOW_H_
