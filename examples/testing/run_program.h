// File: examples/testing/run_program.h
//
// Runs a program as a child process with its stdout and stderr captured in files, and
// waits for it with a time limit, for tests that check an example binary end to end.
//
// Example:
//   examples_testing::ProgramResult r = examples_testing::RunProgram(
//       "examples/kql_to_jsonl/kql_to_jsonl", {"--workspace_id=...", "--query=SigninLogs"},
//       dir, absl::Minutes(2));
//   ASSERT_EQ(r.exit_code, 0) << r.err;
//   std::vector<std::string> lines = examples_testing::Lines(r.out);
//
// Not thread-safe (one call at a time per `dir`, whose out/err files it reuses).
#ifndef EXAMPLES_TESTING_RUN_PROGRAM_H_
#define EXAMPLES_TESTING_RUN_PROGRAM_H_

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace examples_testing {

struct ProgramResult {
  // The exit status; -1 when the program was killed (time limit) or did not start.
  int exit_code = -1;
  std::string out;
  std::string err;
};

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The non-empty lines of `text`.
inline std::vector<std::string> Lines(const std::string& text) {
  return absl::StrSplit(text, '\n', absl::SkipEmpty());
}

// Runs `program` with `args`, stdout to dir/out.txt and stderr to dir/err.txt, and
// waits up to `limit` (then kills it).
inline ProgramResult RunProgram(const std::string& program,
                                const std::vector<std::string>& args,
                                const std::string& dir, absl::Duration limit) {
  const std::string out_path = dir + "/out.txt";
  const std::string err_path = dir + "/err.txt";
  ProgramResult result;
  const pid_t pid = ::fork();
  if (pid < 0) return result;
  if (pid == 0) {
    const int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (out < 0 || err < 0) ::_exit(126);
    ::dup2(out, STDOUT_FILENO);
    ::dup2(err, STDERR_FILENO);
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(program.c_str()));
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(program.c_str(), argv.data());
    ::_exit(127);
  }
  const absl::Time deadline = absl::Now() + limit;
  int status = 0;
  while (true) {
    const pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) break;
    if (absl::Now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      result.out = ReadFile(out_path);
      result.err = ReadFile(err_path) + "\n[killed: time limit]";
      return result;
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.out = ReadFile(out_path);
  result.err = ReadFile(err_path);
  return result;
}

}  // namespace examples_testing

#endif  // EXAMPLES_TESTING_RUN_PROGRAM_H_
