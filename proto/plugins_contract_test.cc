// Checks the generated descriptors of plugins.proto field by field against UTMStack's
// wire contract (package plugins; Log, Ack, Message, Engine.Input/Notify).
#include <string>

#include "gtest/gtest.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/util/json_util.h"
#include "proto/plugins.grpc.pb.h"
#include "proto/plugins.pb.h"

namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;

struct ExpectedField {
  const char* name;
  int number;
  const char* json_name;
};

void ExpectMessage(const Descriptor* d, const std::string& full_name,
                   std::initializer_list<ExpectedField> fields) {
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->full_name(), full_name);
  EXPECT_EQ(d->field_count(), static_cast<int>(fields.size()));
  for (const ExpectedField& want : fields) {
    const FieldDescriptor* f = d->FindFieldByName(want.name);
    ASSERT_NE(f, nullptr) << full_name << " lacks field " << want.name;
    EXPECT_EQ(f->number(), want.number) << full_name << "." << want.name;
    EXPECT_EQ(f->type(), FieldDescriptor::TYPE_STRING) << full_name << "." << want.name;
    EXPECT_FALSE(f->is_repeated()) << full_name << "." << want.name;
    EXPECT_EQ(f->json_name(), want.json_name) << full_name << "." << want.name;
  }
}

TEST(PluginsContractTest, LogMatchesEngineContract) {
  EXPECT_EQ(plugins::Log::descriptor()->file()->package(), "plugins");
  ExpectMessage(plugins::Log::descriptor(), "plugins.Log",
                {{"id", 1, "id"},
                 {"dataType", 2, "dataType"},
                 {"dataSource", 3, "dataSource"},
                 {"timestamp", 4, "@timestamp"},
                 {"tenantId", 5, "tenantId"},
                 {"raw", 6, "raw"}});
}

TEST(PluginsContractTest, AckMatchesEngineContract) {
  ExpectMessage(plugins::Ack::descriptor(), "plugins.Ack", {{"lastId", 1, "lastId"}});
}

TEST(PluginsContractTest, MessageMatchesEngineContract) {
  ExpectMessage(plugins::Message::descriptor(), "plugins.Message",
                {{"id", 1, "id"},
                 {"timestamp", 2, "@timestamp"},
                 {"topic", 3, "topic"},
                 {"message", 4, "message"}});
}

TEST(PluginsContractTest, EngineServiceMethods) {
  const auto* service = plugins::Log::descriptor()->file()->FindServiceByName("Engine");
  ASSERT_NE(service, nullptr);
  EXPECT_EQ(service->full_name(), "plugins.Engine");
  const auto* input = service->FindMethodByName("Input");
  ASSERT_NE(input, nullptr);
  EXPECT_TRUE(input->client_streaming());
  EXPECT_TRUE(input->server_streaming());
  EXPECT_EQ(input->input_type()->full_name(), "plugins.Log");
  EXPECT_EQ(input->output_type()->full_name(), "plugins.Ack");
  const auto* notify = service->FindMethodByName("Notify");
  ASSERT_NE(notify, nullptr);
  EXPECT_TRUE(notify->client_streaming());
  EXPECT_TRUE(notify->server_streaming());
  EXPECT_EQ(notify->input_type()->full_name(), "plugins.Message");
  EXPECT_EQ(notify->output_type()->full_name(), "plugins.Ack");
}

TEST(PluginsContractTest, WireBytesOfAKnownLog) {
  plugins::Log log;
  log.set_id("a");
  log.set_timestamp("t");
  log.set_raw("{}");
  // Field 1 (tag 0x0a) "a", field 4 (tag 0x22) "t", field 6 (tag 0x32) "{}".
  EXPECT_EQ(log.SerializeAsString(), std::string("\x0a\x01" "a" "\x22\x01" "t" "\x32\x02{}", 10));
  std::string json;
  ASSERT_TRUE(google::protobuf::util::MessageToJsonString(log, &json).ok());
  EXPECT_EQ(json, R"({"id":"a","@timestamp":"t","raw":"{}"})");
}

TEST(PluginsContractTest, InputMethodPathOnTheWire) {
  // The generated stub must call exactly this path; the engine routes by it.
  EXPECT_STREQ(plugins::Log::descriptor()->file()->FindServiceByName("Engine")
                   ->FindMethodByName("Input")->full_name().c_str(),
               "plugins.Engine.Input");
}

}  // namespace
