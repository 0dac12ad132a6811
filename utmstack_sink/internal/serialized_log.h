// File: utmstack_sink/internal/serialized_log.h
//
// A plugins::Log held the way it goes on the wire: EngineSink serializes each Log once,
// in Send() on the caller's thread, into a reference-counted gRPC slice, and its stream
// thread hands that slice to gRPC without copying it again. The pending window then
// costs the serialized bytes and a small entry per Log, not a parsed message.
//
// Example:
//   grpc::Slice wire = utmstack_sink_internal::SerializeLog(log, log.ByteSizeLong());
//   absl::string_view id = utmstack_sink_internal::SerializedLogId(wire);  // log.id()
//   plugins::Log back;
//   utmstack_sink_internal::ParseSerializedLog(wire, &back);               // == log
//
// Thread-safe (pure); a grpc::Slice may be shared across threads (its count is atomic).
#ifndef UTMSTACK_SINK_INTERNAL_SERIALIZED_LOG_H_
#define UTMSTACK_SINK_INTERNAL_SERIALIZED_LOG_H_

#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"
#include "grpc/slice.h"
#include "grpcpp/support/slice.h"
#include "proto/plugins.pb.h"

namespace utmstack_sink_internal {

// Returns `log` serialized into a new slice. `byte_size` must be log.ByteSizeLong(),
// just computed (the serializer uses the size it cached). Thread-safe.
inline grpc::Slice SerializeLog(const plugins::Log& log, size_t byte_size) {
  grpc_slice slice = grpc_slice_malloc(byte_size);
  log.SerializeWithCachedSizesToArray(GRPC_SLICE_START_PTR(slice));
  return grpc::Slice(slice, grpc::Slice::STEAL_REF);
}

// Returns the id of the Log serialized in `wire` by SerializeLog, without parsing the
// rest. Generated serializers write fields in field-number order, so a non-empty id
// (field 1, length-delimited: tag byte 0x0A) comes first; proto3 omits an empty one.
// The view points into `wire`'s bytes: valid while `wire` lives and is not moved (a
// short slice keeps its bytes inside the object). Thread-safe.
inline absl::string_view SerializedLogId(const grpc::Slice& wire) {
  const uint8_t* p = wire.begin();
  const uint8_t* const end = wire.end();
  if (p == end || *p != 0x0A) return {};
  ++p;
  uint64_t length = 0;
  for (int shift = 0; p != end && shift < 64; shift += 7) {
    const uint8_t b = *p++;
    length |= static_cast<uint64_t>(b & 0x7F) << shift;
    if ((b & 0x80) == 0) {
      if (length > static_cast<uint64_t>(end - p)) return {};
      return absl::string_view(reinterpret_cast<const char*>(p),
                               static_cast<size_t>(length));
    }
  }
  return {};
}

// Parses `wire` back into `log`. Returns false if it is not a serialized Log.
// Thread-safe.
inline bool ParseSerializedLog(const grpc::Slice& wire, plugins::Log* log) {
  return log->ParseFromArray(wire.begin(), static_cast<int>(wire.size()));
}

}  // namespace utmstack_sink_internal

#endif  // UTMSTACK_SINK_INTERNAL_SERIALIZED_LOG_H_
