// Writes a generated Log Analytics answer (see answer_generator.h) to stdout or a file.
//
//   generate_answer --shape=diagnostics --bytes=10485760 --seed=1 > answer.json
#include <cstdint>
#include <cstdio>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "testdata/generator/answer_generator.h"

ABSL_FLAG(std::string, shape, "signin", "answer shape: signin, diagnostics or union");
ABSL_FLAG(uint64_t, bytes, 1 << 20, "target body size in bytes (exceeded by at most one row)");
ABSL_FLAG(uint64_t, seed, 1, "seed: the same flags always give the same bytes");
ABSL_FLAG(std::string, output, "", "file to write (default: standard output)");

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  absl::StatusOr<answer_generator::Shape> shape =
      answer_generator::ParseShape(absl::GetFlag(FLAGS_shape));
  if (!shape.ok()) {
    std::fprintf(stderr, "generate_answer: %s\n", std::string(shape.status().message()).c_str());
    return 2;
  }
  const std::string body = answer_generator::GenerateAnswer(
      *shape, absl::GetFlag(FLAGS_bytes), absl::GetFlag(FLAGS_seed));
  const std::string path = absl::GetFlag(FLAGS_output);
  std::FILE* out = path.empty() ? stdout : std::fopen(path.c_str(), "wb");
  if (out == nullptr) {
    std::fprintf(stderr, "generate_answer: cannot open %s for writing\n", path.c_str());
    return 1;
  }
  const bool ok = std::fwrite(body.data(), 1, body.size(), out) == body.size() &&
                  (out == stdout ? std::fflush(out) : std::fclose(out)) == 0;
  if (!ok) {
    std::fprintf(stderr, "generate_answer: writing %zu bytes failed\n", body.size());
    return 1;
  }
  return 0;
}
