#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/string_view.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  int64_t value = 0;
  (void)absl::SimpleAtoi(
      absl::string_view(reinterpret_cast<const char*>(data), size), &value);
  return 0;
}
