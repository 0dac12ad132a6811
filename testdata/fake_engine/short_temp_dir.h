// File: testdata/fake_engine/short_temp_dir.h
//
// A private directory with a short path under /tmp, removed with everything in it when
// the object goes away. Unix socket paths are limited to 107 bytes and Bazel's
// TEST_TMPDIR is longer than that on these machines, so tests that bind a socket make
// it here instead.
//
// Example:
//   fake_engine::ShortTempDir dir("sink");            // e.g. /tmp/sink-Ab12Cd
//   ASSERT_TRUE(dir.ok()) << dir.error();
//   fake_engine::FakeEngine engine({.socket_path = dir.Path("engine.sock")});
//
// Not thread-safe to construct or destroy; Path() is thread-safe.
#ifndef TESTDATA_FAKE_ENGINE_SHORT_TEMP_DIR_H_
#define TESTDATA_FAKE_ENGINE_SHORT_TEMP_DIR_H_

#include <stdlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

namespace fake_engine {

class ShortTempDir {
 public:
  // Creates /tmp/<prefix>-XXXXXX (mode 0700). On failure ok() is false and error()
  // says why.
  explicit ShortTempDir(const std::string& prefix) {
    std::string pattern = "/tmp/" + prefix + "-XXXXXX";
    std::vector<char> buffer(pattern.begin(), pattern.end());
    buffer.push_back('\0');
    if (::mkdtemp(buffer.data()) == nullptr) {
      error_ = "mkdtemp(" + pattern + ") failed: " + std::strerror(errno);
    } else {
      path_ = buffer.data();
    }
  }
  ShortTempDir(const ShortTempDir&) = delete;
  ShortTempDir& operator=(const ShortTempDir&) = delete;
  ~ShortTempDir() {
    if (!path_.empty()) {
      std::error_code ignored;
      std::filesystem::remove_all(path_, ignored);
    }
  }

  // Returns true when the directory exists.
  bool ok() const { return !path_.empty(); }
  // Returns why the directory could not be made (empty when ok()).
  const std::string& error() const { return error_; }
  // Returns the directory's path, e.g. "/tmp/sink-Ab12Cd".
  const std::string& path() const { return path_; }
  // Returns path() + "/" + name.
  std::string Path(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
  std::string error_;
};

}  // namespace fake_engine

#endif  // TESTDATA_FAKE_ENGINE_SHORT_TEMP_DIR_H_
