#include "utmstack_sink/internal/serialized_log.h"

#include <string>

#include "gtest/gtest.h"
#include "proto/plugins.pb.h"

namespace utmstack_sink_internal {
namespace {

plugins::Log MakeLog(const std::string& id, size_t raw_bytes) {
  plugins::Log log;
  log.set_id(id);
  log.set_datatype("azure");
  log.set_raw(std::string(raw_bytes, 'r'));
  return log;
}

TEST(SerializedLogTest, TheIdIsReadFromTheWireBytesForEveryLengthOfItsVarint) {
  // 0 (omitted), 1-byte lengths, the 1/2-byte boundary, 2- and 3-byte lengths.
  for (size_t id_bytes : {0, 1, 36, 127, 128, 300, 16383, 16384, 70000}) {
    for (size_t raw_bytes : {0, 5, 2000}) {
      const plugins::Log log = MakeLog(std::string(id_bytes, 'i'), raw_bytes);
      const grpc::Slice wire = SerializeLog(log, log.ByteSizeLong());
      EXPECT_EQ(wire.size(), log.ByteSizeLong());
      EXPECT_EQ(std::string(SerializedLogId(wire)), log.id())
          << "id of " << id_bytes << " bytes, raw " << raw_bytes;
      plugins::Log back;
      ASSERT_TRUE(ParseSerializedLog(wire, &back));
      EXPECT_EQ(back.SerializeAsString(), log.SerializeAsString());
    }
  }
}

TEST(SerializedLogTest, AShortLogKeptInsideTheSliceStillGivesItsId) {
  plugins::Log log;
  log.set_id("a");  // 3 bytes serialized: stored inline in the slice object
  grpc::Slice wire = SerializeLog(log, log.ByteSizeLong());
  const grpc::Slice copy = wire;
  EXPECT_EQ(SerializedLogId(copy), "a");
  EXPECT_EQ(SerializedLogId(wire), "a");
}

TEST(SerializedLogTest, BytesThatDoNotStartWithAnIdGiveAnEmptyId) {
  const std::string bytes[] = {
      std::string(""),
      std::string("\x12\x01x", 3),           // field 2 first: no id
      std::string("\x0A", 1),                // tag without a length
      std::string("\x0A\x05" "abc", 5),      // length past the end
      std::string("\x0A\xFF\xFF\xFF", 4),    // unfinished varint
  };
  for (const std::string& b : bytes) {
    const grpc::Slice wire(b.data(), b.size());
    EXPECT_TRUE(SerializedLogId(wire).empty()) << b.size();
  }
}

}  // namespace
}  // namespace utmstack_sink_internal
