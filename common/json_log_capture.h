// File: common/json_log_capture.h
//
// For tests: a JsonLogger writing to a temporary file, and what it wrote, as text or
// as lines.
//
// Example:
//   common::JsonLogCapture capture(common::LogLevel::kInfo);
//   Component component(capture.logger());
//   component.DoSomething();
//   EXPECT_THAT(capture.Lines(), SizeIs(1));
//
// Not thread-safe: read it after the logging is done.
#ifndef COMMON_JSON_LOG_CAPTURE_H_
#define COMMON_JSON_LOG_CAPTURE_H_

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "common/json_log.h"

namespace common {

class JsonLogCapture {
 public:
  explicit JsonLogCapture(LogLevel level)
      : file_(std::tmpfile()), logger_(std::make_shared<JsonLogger>(file_, level)) {}
  JsonLogCapture(const JsonLogCapture&) = delete;
  JsonLogCapture& operator=(const JsonLogCapture&) = delete;
  ~JsonLogCapture() { std::fclose(file_); }

  const std::shared_ptr<JsonLogger>& logger() const { return logger_; }

  // Everything written so far.
  std::string Text() {
    std::fflush(file_);
    std::rewind(file_);
    std::string out;
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof(buf), file_)) > 0) out.append(buf, n);
    return out;
  }

  // Text() split into lines, empty ones left out.
  std::vector<std::string> Lines() { return absl::StrSplit(Text(), '\n', absl::SkipEmpty()); }

 private:
  FILE* file_;
  std::shared_ptr<JsonLogger> logger_;
};

}  // namespace common

#endif  // COMMON_JSON_LOG_CAPTURE_H_
