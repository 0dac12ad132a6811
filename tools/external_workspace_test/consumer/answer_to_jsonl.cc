// answer_to_jsonl FILE: converts a Log Analytics query answer (the HTTP body, as saved
// from the Query API) into UTMStack Logs and prints each as one JSON line on stdout.
// Exit status: 0 on success, 1 when the file cannot be read or is not an answer.
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <utility>

#include "loganalytics/convert/log_converter.h"
#include "proto/plugins.pb.h"
#include "utmstack_sink/json_lines_sink.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: answer_to_jsonl ANSWER.json\n";
    return 1;
  }
  std::ifstream in(argv[1], std::ios::binary);
  if (!in) {
    std::cerr << "answer_to_jsonl: cannot read " << argv[1] << "\n";
    return 1;
  }
  std::stringstream body;
  body << in.rdbuf();

  utmstack_sink::JsonLinesSink sink(&std::cout);
  loganalytics::ConvertOptions options;
  options.data_source = "consumer";
  absl::StatusOr<loganalytics::ConvertSummary> summary = loganalytics::ConvertAnswer(
      body.str(), options, [&](plugins::Log&& log, const loganalytics::RowMeta&) {
        return sink.Send(std::move(log), absl::InfiniteFuture());
      });
  if (!summary.ok()) {
    std::cerr << "answer_to_jsonl: " << summary.status() << "\n";
    return 1;
  }
  if (absl::Status s = sink.Close(absl::InfiniteFuture()); !s.ok()) {
    std::cerr << "answer_to_jsonl: " << s << "\n";
    return 1;
  }
  std::cerr << "answer_to_jsonl: " << summary->rows << " rows\n";
  return 0;
}
