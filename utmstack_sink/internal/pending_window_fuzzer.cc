// Drives a PendingWindow with a program read from the input, engine replies included,
// and checks every step against a plain model: a list of ids, how many were sent on
// the current stream, and which were ever sent. Engine replies are raw bytes parsed by
// ParseAck, compared with protobuf's own parse of the same bytes.
//
// Program: byte 0 = how many Logs to start with (0..15), then operations:
//   0 push a Log    1 send the next    2 new stream    3 engine reply: a length byte
//   and that many bytes    4 reply naming a known id (next byte picks it)
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "grpcpp/support/byte_buffer.h"
#include "grpcpp/support/slice.h"
#include "proto/plugins.pb.h"
#include "utmstack_sink/internal/pending_window.h"
#include "utmstack_sink/internal/serialized_log.h"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

// Ids repeat on purpose: acks match the oldest sent Log with the id.
std::string IdFor(uint8_t b) {
  static const char* const kIds[] = {"", "a", "b", "log-1", "log-2"};
  if (b < 5) return kIds[b];
  if (b < 8) return std::string(200 + b, 'x');  // two-byte length
  return "id-" + std::to_string(b % 32);
}

struct Model {
  std::vector<std::string> ids;
  std::vector<bool> written;
  std::vector<size_t> sizes;
  size_t sent = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  utmstack_sink_internal::PendingWindow window;
  Model model;
  size_t i = 0;
  uint32_t counter = 0;
  const auto push = [&](uint8_t b) {
    plugins::Log log;
    log.set_id(IdFor(b));
    log.set_raw(std::string(counter++ % 7, 'r'));
    const grpc::Slice wire =
        utmstack_sink_internal::SerializeLog(log, log.ByteSizeLong());
    model.ids.push_back(log.id());
    model.written.push_back(false);
    model.sizes.push_back(wire.size());
    window.Push(wire);
  };
  const auto apply_ack = [&](const std::string& reply) {
    grpc::Slice slice(reply.data(), reply.size());
    grpc::ByteBuffer buffer(&slice, 1);
    plugins::Ack ack;
    plugins::Ack reference;
    const bool parsed = utmstack_sink_internal::ParseAck(&buffer, &ack);
    Check(parsed == reference.ParseFromString(reply));
    if (!parsed) return;
    Check(ack.lastid() == reference.lastid());
    size_t expected = 0;
    for (size_t k = 0; k < model.sent; ++k) {
      if (model.ids[k] == ack.lastid()) {
        expected = k + 1;
        break;
      }
    }
    std::vector<grpc::Slice> done;
    Check(window.Acknowledge(ack.lastid(), &done) == expected);
    Check(done.size() == expected);
    for (size_t k = 0; k < expected; ++k) {
      Check(utmstack_sink_internal::SerializedLogId(done[k]) == model.ids[k]);
    }
    model.ids.erase(model.ids.begin(), model.ids.begin() + expected);
    model.written.erase(model.written.begin(), model.written.begin() + expected);
    model.sizes.erase(model.sizes.begin(), model.sizes.begin() + expected);
    model.sent -= expected;
  };

  if (i < size) {
    const uint8_t n = data[i++] % 16;
    for (uint8_t k = 0; k < n; ++k) push(k);
  }
  while (i < size) {
    switch (data[i++] % 5) {
      case 0:
        push(i < size ? data[i++] : 0);
        break;
      case 1: {
        const utmstack_sink_internal::PendingWindow::Next next = window.TakeNextToSend();
        if (model.sent == model.ids.size()) {
          Check(next.wire == nullptr);
          break;
        }
        Check(next.wire != nullptr);
        Check(next.resend == model.written[model.sent]);
        Check(utmstack_sink_internal::SerializedLogId(*next.wire) == model.ids[model.sent]);
        model.written[model.sent] = true;
        ++model.sent;
        break;
      }
      case 2:
        window.RestartSending();
        model.sent = 0;
        break;
      case 3: {
        const size_t length = i < size ? data[i++] : 0;
        const size_t take = length < size - i ? length : size - i;
        apply_ack(std::string(reinterpret_cast<const char*>(data + i), take));
        i += take;
        break;
      }
      case 4: {
        plugins::Ack ack;
        const uint8_t b = i < size ? data[i++] : 0;
        ack.set_lastid(model.ids.empty() ? IdFor(b) : model.ids[b % model.ids.size()]);
        apply_ack(ack.SerializeAsString());
        break;
      }
    }
    size_t bytes = 0;
    for (size_t s : model.sizes) bytes += s;
    Check(window.size() == model.ids.size());
    Check(window.bytes() == bytes);
    Check(window.sent() == model.sent);
    Check(window.has_unsent() == (model.sent < model.ids.size()));
    if (!model.ids.empty()) {
      Check(window.front_id() == model.ids.front());
      Check(window.back_id() == model.ids.back());
    }
  }
  const std::vector<plugins::Log> rest = window.TakeAll();
  Check(rest.size() == model.ids.size());
  for (size_t k = 0; k < rest.size(); ++k) Check(rest[k].id() == model.ids[k]);
  Check(window.empty() && window.bytes() == 0);
  return 0;
}
