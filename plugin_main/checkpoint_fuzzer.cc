// Any bytes as a checkpoint file: a Checkpoint or kDataLoss naming the file, and what
// parses re-serialises to something that parses to the same values.
#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"
#include "plugin_main/checkpoint_store.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  auto cp = plugin_main::CheckpointFromJson(text, "fuzz.json");
  if (!cp.ok()) {
    if (cp.status().code() != absl::StatusCode::kDataLoss) __builtin_trap();
    return 0;
  }
  const std::string again = plugin_main::CheckpointToJson("w", "q", *cp);
  auto back = plugin_main::CheckpointFromJson(again, "again.json");
  if (!back.ok() || back->ingestion_time != cp->ingestion_time ||
      back->item_id != cp->item_id || back->rows_delivered != cp->rows_delivered) {
    __builtin_trap();
  }
  return 0;
}
