// Any bytes as a configuration file: ParseConfigJson + ResolveSettings return settings or
// a Status naming the field, never crash.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "plugin_main/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  auto config = plugin_main::ParseConfigJson(text, "fuzz.json");
  if (!config.ok()) return 0;
  auto settings = plugin_main::ResolveSettings(
      *config, [](absl::string_view) { return std::optional<std::string>(); });
  if (settings.ok() && settings->workspaces.empty()) __builtin_trap();  // must be rejected
  return 0;
}
