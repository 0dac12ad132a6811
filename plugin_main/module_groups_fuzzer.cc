// Any bytes as the UTMStack backend's AZURE module answer: workspaces and problems, or
// kInvalidArgument, never a crash; no group without its four values becomes a workspace.
#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"
#include "plugin_main/utmstack_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  auto groups = plugin_main::ParseModuleGroups(text, plugin_main::WorkspaceSettings());
  if (!groups.ok()) return 0;
  for (const auto& ws : groups->workspaces) {
    if (ws.proto.tenant_id().empty() || ws.proto.client_id().empty() ||
        ws.proto.workspace_id().empty() || ws.inline_secret.empty() || ws.proto.name().empty()) {
      __builtin_trap();
    }
  }
  return 0;
}
