#include "loganalytics/convert/log_converter.h"

#include <cctype>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proto/plugins.pb.h"
#include "simdjson.h"
#include "testdata/generator/answer_generator.h"

namespace loganalytics {
namespace {

using ::testing::HasSubstr;

struct Row {
  plugins::Log log;
  std::string table;
  std::string item_id;
  std::string ingestion_time;
};

struct Result {
  absl::StatusOr<ConvertSummary> summary;
  std::vector<Row> rows;
};

ConvertOptions TestOptions() {
  ConvertOptions options;
  options.workspace_id = "11111111-2222-3333-4444-555555555555";
  options.data_source = "tests";
  options.clock = [] { return absl::FromUnixNanos(1700000000123456789); };
  return options;
}

Result Convert(absl::string_view body, const ConvertOptions& options = TestOptions()) {
  Result result;
  result.summary = ConvertAnswer(body, options, [&](plugins::Log&& log, const RowMeta& meta) {
    result.rows.push_back(Row{std::move(log), std::string(meta.table),
                              std::string(meta.item_id), std::string(meta.ingestion_time)});
    return absl::OkStatus();
  });
  return result;
}

// A one-table answer with the given columns ("name:type,...") and raw row JSON.
std::string Answer(absl::string_view columns, const std::vector<std::string>& rows,
                   absl::string_view table = "PrimaryResult") {
  std::string out = absl::StrCat(R"({"tables":[{"name":")", table, R"(","columns":[)");
  bool first = true;
  for (absl::string_view column : absl::StrSplit(columns, ',')) {
    std::vector<std::string> parts = absl::StrSplit(column, ':');
    absl::StrAppend(&out, first ? "" : ",", R"({"name":")", parts[0], R"(","type":")",
                    parts[1], R"("})");
    first = false;
  }
  absl::StrAppend(&out, R"(],"rows":[)", absl::StrJoin(rows, ","), "]}]}");
  return out;
}

std::string RawOf(absl::string_view columns, const std::string& row,
                  const ConvertOptions& options = TestOptions()) {
  Result result = Convert(Answer(columns, {row}), options);
  EXPECT_TRUE(result.summary.ok()) << result.summary.status();
  if (!result.summary.ok() || result.rows.size() != 1) return "<no row>";
  return result.rows[0].log.raw();
}

TEST(LogConverterTest, ConvertsTypedValues) {
  EXPECT_EQ(RawOf("TimeGenerated:datetime,Count:long,Ratio:real,Ok:bool,Name:string",
                  R"(["2024-01-01T00:00:00Z",42,0.5,true,"alice"])"),
            R"({"TimeGenerated":"2024-01-01T00:00:00Z","Count":42,"Ratio":0.5,)"
            R"("Ok":true,"Name":"alice"})");
}

TEST(LogConverterTest, KeepsLongsBeyondDoublePrecisionExact) {
  EXPECT_EQ(RawOf("TimeGenerated:datetime,Big:long,Neg:long",
                  R"(["2024-01-01T00:00:00Z",9007199254740993,-9223372036854775808])"),
            R"({"TimeGenerated":"2024-01-01T00:00:00Z","Big":9007199254740993,)"
            R"("Neg":-9223372036854775808})");
}

TEST(LogConverterTest, NumbersBeyondSixtyFourBitsBecomeExactStrings) {
  EXPECT_EQ(RawOf("TimeGenerated:datetime,A:long,B:long,C:real,D:long",
                  R"(["2024-01-01T00:00:00Z",-9246744073709551616,18446744073709551616,1e400,)"
                  R"(18446744073709551615])"),
            R"({"TimeGenerated":"2024-01-01T00:00:00Z","A":"-9246744073709551616",)"
            R"("B":"18446744073709551616","C":"1e400","D":18446744073709551615})");
}

TEST(LogConverterTest, RealsKeepTheirTextAndSpecialValuesStayStrings) {
  EXPECT_EQ(RawOf("TimeGenerated:datetime,A:real,B:real,C:real,D:real,E:real",
                  R"(["2024-01-01T00:00:00Z",1e300,3,"NaN","Infinity","-Infinity"])"),
            R"({"TimeGenerated":"2024-01-01T00:00:00Z","A":1e300,"B":3,"C":"NaN",)"
            R"("D":"Infinity","E":"-Infinity"})");
}

TEST(LogConverterTest, DecimalsStayExactStrings) {
  EXPECT_EQ(RawOf("TimeGenerated:datetime,A:decimal,B:decimal",
                  R"(["2024-01-01T00:00:00Z","12345678901234567890.123456789",0.1])"),
            R"({"TimeGenerated":"2024-01-01T00:00:00Z",)"
            R"("A":"12345678901234567890.123456789","B":"0.1"})");
}

TEST(LogConverterTest, DynamicBecomesNestedJson) {
  EXPECT_EQ(
      RawOf("TimeGenerated:datetime,Loc:dynamic,List:dynamic,Num:dynamic",
            R"(["2024-01-01T00:00:00Z","{\"city\":\"Redmond\",\"geo\":{\"lat\":47.6}}",)"
            R"("[1, 2, {\"a\": \"x y\"}]","12345678901234567"])"),
      R"({"TimeGenerated":"2024-01-01T00:00:00Z","Loc":{"city":"Redmond","geo":{"lat":47.6}},)"
      R"("List":[1,2,{"a":"x y"}],"Num":12345678901234567})");
}

TEST(LogConverterTest, DynamicWithEscapedJsonStringsInside) {
  // The dynamic value holds a JSON string that itself contains escaped JSON.
  EXPECT_EQ(RawOf("TimeGenerated:datetime,D:dynamic",
                  R"(["2024-01-01T00:00:00Z","{\"inner\":\"{\\\"k\\\":1}\",\"u\":\"\\u00e9\"}"])"),
            R"({"TimeGenerated":"2024-01-01T00:00:00Z","D":{"inner":"{\"k\":1}","u":"\u00e9"}})");
}

TEST(LogConverterTest, DynamicThatIsNotJsonStaysAString) {
  EXPECT_EQ(RawOf("TimeGenerated:datetime,D:dynamic,E:dynamic",
                  R"(["2024-01-01T00:00:00Z","not json {","{\"a\":1"])"),
            R"({"TimeGenerated":"2024-01-01T00:00:00Z","D":"not json {","E":"{\"a\":1"})");
}

TEST(LogConverterTest, DynamicNullIsDropped) {
  EXPECT_EQ(RawOf("TimeGenerated:datetime,D:dynamic,E:dynamic",
                  R"(["2024-01-01T00:00:00Z","null",null])"),
            R"({"TimeGenerated":"2024-01-01T00:00:00Z"})");
}

TEST(LogConverterTest, NestedCellsThatAreAlreadyJsonAreKept) {
  EXPECT_EQ(RawOf("TimeGenerated:datetime,D:dynamic,E:dynamic",
                  R"(["2024-01-01T00:00:00Z",{ "a" : [1, 2] },[true, null]])"),
            R"({"TimeGenerated":"2024-01-01T00:00:00Z","D":{"a":[1,2]},"E":[true,null]})");
}

TEST(LogConverterTest, DropsNullsAndEmptyStringsByDefault) {
  EXPECT_EQ(RawOf("TimeGenerated:datetime,A:string,B:long,C:string",
                  R"(["2024-01-01T00:00:00Z","",null,"x"])"),
            R"({"TimeGenerated":"2024-01-01T00:00:00Z","C":"x"})");
}

TEST(LogConverterTest, KeepsEmptyStringsWhenAsked) {
  ConvertOptions options = TestOptions();
  options.keep_empty_strings = true;
  EXPECT_EQ(RawOf("TimeGenerated:datetime,A:string,B:long,C:dynamic",
                  R"(["2024-01-01T00:00:00Z","",null,""])", options),
            R"({"TimeGenerated":"2024-01-01T00:00:00Z","A":"","C":""})");
}

TEST(LogConverterTest, EscapesColumnNamesAndKeepsStringEscapes) {
  EXPECT_EQ(RawOf(R"(TimeGenerated:datetime,we\"ird\\name\u00e9:string,Tab:string)",
                  R"(["2024-01-01T00:00:00Z","line\nnext \"q\" \\ \/ \u0001 \ud83d\ude00","a\tb"])"),
            "{\"TimeGenerated\":\"2024-01-01T00:00:00Z\",\"we\\\"ird\\\\name\xC3\xA9\":"
            R"("line\nnext \"q\" \\ \/ \u0001 \ud83d\ude00","Tab":"a\tb"})");
}

TEST(LogConverterTest, ReplacesLoneSurrogates) {
  EXPECT_EQ(RawOf("TimeGenerated:datetime,A:string,B:string",
                  R"(["2024-01-01T00:00:00Z","x\ud800y","\udc00"])"),
            R"({"TimeGenerated":"2024-01-01T00:00:00Z","A":"x\ufffdy","B":"\ufffd"})");
}

TEST(LogConverterTest, KeepsUtf8AsIs) {
  EXPECT_EQ(RawOf("TimeGenerated:datetime,City:string",
                  "[\"2024-01-01T00:00:00Z\",\"S\xC3\xA3o Paulo \xE6\x9D\xB1\xE4\xBA\xAC\"]"),
            "{\"TimeGenerated\":\"2024-01-01T00:00:00Z\",\"City\":\"S\xC3\xA3o Paulo "
            "\xE6\x9D\xB1\xE4\xBA\xAC\"}");
}

TEST(LogConverterTest, FillsLogFieldsFromOptionsAndTimeGenerated) {
  Result result = Convert(Answer("TimeGenerated:datetime,Type:string,_ItemId:string",
                                 {R"(["2024-03-04T05:06:07.1234560Z","SigninLogs","item-1"])"}));
  ASSERT_TRUE(result.summary.ok()) << result.summary.status();
  ASSERT_EQ(result.rows.size(), 1u);
  const plugins::Log& log = result.rows[0].log;
  EXPECT_EQ(log.timestamp(), "2024-03-04T05:06:07.123456Z");
  EXPECT_EQ(log.datatype(), "azure");
  EXPECT_EQ(log.datasource(), "tests");
  EXPECT_EQ(log.tenantid(), "ce66672c-e36d-4761-a8c8-90058fee1a24");
  EXPECT_EQ(result.rows[0].table, "SigninLogs");
  EXPECT_EQ(result.rows[0].item_id, "item-1");
  EXPECT_EQ(result.rows[0].ingestion_time, "");
  EXPECT_EQ(log.raw(),
            R"({"TimeGenerated":"2024-03-04T05:06:07.1234560Z","Type":"SigninLogs",)"
            R"("_ItemId":"item-1"})");
}

TEST(LogConverterTest, IngestionTimeColumnGoesToMetaNotRaw) {
  Result result = Convert(Answer("TimeGenerated:datetime,A:long,_IngestionTime:datetime",
                                 {R"(["2024-01-01T00:00:00Z",1,"2024-01-01T00:03:00.5Z"])"}));
  ASSERT_TRUE(result.summary.ok()) << result.summary.status();
  ASSERT_EQ(result.rows.size(), 1u);
  EXPECT_EQ(result.rows[0].ingestion_time, "2024-01-01T00:03:00.5Z");
  EXPECT_EQ(result.rows[0].log.raw(), R"({"TimeGenerated":"2024-01-01T00:00:00Z","A":1})");
  EXPECT_EQ(result.rows[0].table, "PrimaryResult");
}

TEST(LogConverterTest, TimestampFallsBackToIngestionTimeThenNow) {
  Result result =
      Convert(Answer("TimeGenerated:datetime,A:long,_IngestionTime:datetime",
                     {R"([null,1,"2024-01-01T00:03:00.5000000Z"])", R"([null,2,null])",
                      R"(["garbage",3,null])"}));
  ASSERT_TRUE(result.summary.ok()) << result.summary.status();
  ASSERT_EQ(result.rows.size(), 3u);
  EXPECT_EQ(result.rows[0].log.timestamp(), "2024-01-01T00:03:00.5Z");
  EXPECT_EQ(result.rows[0].log.raw(), R"({"A":1,"_timestampSource":"ingestion_time"})");
  EXPECT_EQ(result.rows[1].log.timestamp(), "2023-11-14T22:13:20.123456789Z");
  EXPECT_EQ(result.rows[1].log.raw(), R"({"A":2,"_timestampSource":"now"})");
  EXPECT_EQ(result.rows[2].log.raw(),
            R"({"TimeGenerated":"garbage","A":3,"_timestampSource":"now"})");
}

TEST(LogConverterTest, TimestampWithoutTimeGeneratedColumn) {
  Result result = Convert(Answer("A:long", {"[1]"}));
  ASSERT_TRUE(result.summary.ok());
  ASSERT_EQ(result.rows.size(), 1u);
  EXPECT_EQ(result.rows[0].log.timestamp(), "2023-11-14T22:13:20.123456789Z");
  EXPECT_EQ(result.rows[0].log.raw(), R"({"A":1,"_timestampSource":"now"})");
}

bool IsUuidShaped(const std::string& id) {
  if (id.size() != 36) return false;
  for (size_t i = 0; i < id.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (id[i] != '-') return false;
    } else if (!std::isxdigit(static_cast<unsigned char>(id[i]))) {
      return false;
    }
  }
  return id[14] == '8' && std::string("89ab").find(id[19]) != std::string::npos;
}

TEST(LogConverterTest, IdIsStableAndDependsOnWorkspaceTableAndItemId) {
  const std::string columns = "TimeGenerated:datetime,Type:string,_ItemId:string,A:long";
  auto id_of = [&](const std::string& row, const ConvertOptions& options) {
    Result result = Convert(Answer(columns, {row}), options);
    EXPECT_TRUE(result.summary.ok());
    return result.rows.empty() ? std::string() : result.rows[0].log.id();
  };
  const ConvertOptions options = TestOptions();
  const std::string id = id_of(R"(["2024-01-01T00:00:00Z","T","item-1",1])", options);
  EXPECT_TRUE(IsUuidShaped(id)) << id;
  // Same record read again, even with other column values: same id.
  EXPECT_EQ(id_of(R"(["2024-01-01T00:00:00Z","T","item-1",2])", options), id);
  EXPECT_NE(id_of(R"(["2024-01-01T00:00:00Z","T","item-2",1])", options), id);
  EXPECT_NE(id_of(R"(["2024-01-01T00:00:00Z","U","item-1",1])", options), id);
  ConvertOptions other = options;
  other.workspace_id = "another";
  EXPECT_NE(id_of(R"(["2024-01-01T00:00:00Z","T","item-1",1])", other), id);
}

TEST(LogConverterTest, IdWithoutItemIdHashesTheRow) {
  auto id_of = [&](const std::string& row) {
    Result result = Convert(Answer("TimeGenerated:datetime,A:long,B:string", {row}));
    EXPECT_TRUE(result.summary.ok());
    return result.rows.empty() ? std::string() : result.rows[0].log.id();
  };
  const std::string id = id_of(R"(["2024-01-01T00:00:00Z",1,"x"])");
  EXPECT_TRUE(IsUuidShaped(id)) << id;
  EXPECT_EQ(id_of(R"(["2024-01-01T00:00:00Z",1,"x"])"), id);
  EXPECT_NE(id_of(R"(["2024-01-01T00:00:00Z",2,"x"])"), id);
  EXPECT_NE(id_of(R"(["2024-01-01T00:00:00Z",1,"y"])"), id);
  // A row whose timestamp comes from "now" gets the same id at another time.
  ConvertOptions later = TestOptions();
  later.clock = [] { return absl::FromUnixSeconds(1800000000); };
  Result a = Convert(Answer("A:long", {"[7]"}));
  Result b = Convert(Answer("A:long", {"[7]"}), later);
  ASSERT_EQ(a.rows.size(), 1u);
  ASSERT_EQ(b.rows.size(), 1u);
  EXPECT_NE(a.rows[0].log.timestamp(), b.rows[0].log.timestamp());
  EXPECT_EQ(a.rows[0].log.id(), b.rows[0].log.id());
}

TEST(LogConverterTest, SeveralTablesInOrder) {
  const std::string body =
      R"({"tables":[{"name":"PrimaryResult","columns":[{"name":"A","type":"long"}],)"
      R"("rows":[[1],[2]]},{"name":"Second","columns":[{"name":"B","type":"string"}],)"
      R"("rows":[["x"]]}]})";
  Result result = Convert(body);
  ASSERT_TRUE(result.summary.ok()) << result.summary.status();
  EXPECT_EQ(result.summary->tables, 2u);
  EXPECT_EQ(result.summary->rows, 3u);
  EXPECT_TRUE(result.summary->partial_error.ok());
  ASSERT_EQ(result.rows.size(), 3u);
  EXPECT_EQ(result.rows[0].log.raw(), R"({"A":1,"_timestampSource":"now"})");
  EXPECT_EQ(result.rows[1].log.raw(), R"({"A":2,"_timestampSource":"now"})");
  EXPECT_EQ(result.rows[2].log.raw(), R"({"B":"x","_timestampSource":"now"})");
  EXPECT_EQ(result.rows[2].table, "Second");
}

TEST(LogConverterTest, EmptyAnswers) {
  for (const char* body : {R"({"tables":[]})",
                           R"({"tables":[{"name":"PrimaryResult","columns":[],"rows":[]}]})",
                           R"({"tables":[{"name":"P","columns":[{"name":"A","type":"long"}],"rows":[]}]})"}) {
    Result result = Convert(body);
    ASSERT_TRUE(result.summary.ok()) << body << ": " << result.summary.status();
    EXPECT_EQ(result.summary->rows, 0u);
    EXPECT_TRUE(result.rows.empty());
    EXPECT_TRUE(result.summary->partial_error.ok());
  }
  Result empty_body = Convert("");
  ASSERT_TRUE(empty_body.summary.ok());
  EXPECT_EQ(empty_body.summary->tables, 0u);
  EXPECT_EQ(empty_body.summary->rows, 0u);
  EXPECT_TRUE(Convert(" \r\n").summary.ok());
}

TEST(LogConverterTest, MembersInAnyOrderAndUnknownMembersSkipped) {
  const std::string body =
      R"({"statistics":{"query":{"x":1}},"tables":[{"extra":[1],"name":"T",)"
      R"("columns":[{"type":"long","name":"A"},{"ColumnName":"B","ColumnType":"dynamic"}],)"
      R"("rows":[[1,"[2]"]],"more":{}}],"render":{}})";
  Result result = Convert(body);
  ASSERT_TRUE(result.summary.ok()) << result.summary.status();
  ASSERT_EQ(result.rows.size(), 1u);
  EXPECT_EQ(result.rows[0].log.raw(), R"({"A":1,"B":[2],"_timestampSource":"now"})");
  EXPECT_EQ(result.rows[0].table, "T");
}

TEST(LogConverterTest, RowsBeforeColumnsIsRejected) {
  Result result = Convert(
      R"({"tables":[{"name":"T","rows":[[1]],"columns":[{"name":"A","type":"long"}]}]})");
  EXPECT_EQ(result.summary.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(result.summary.status().message(),
              HasSubstr("\"rows\" of table 0 comes before its \"columns\""));
  EXPECT_TRUE(result.rows.empty());
}

constexpr char kPartialError[] =
    R"("error":{"code":"PartialError","message":"There were some errors when processing )"
    R"(your query.","details":[{"code":"EngineError","message":"Something went wrong )"
    R"(processing your query on the server.","innererror":{"code":"-2133196797",)"
    R"("message":"Query result set has exceeded the internal data size limit )"
    R"(8388608 (E_QUERY_RESULT_SET_TOO_LARGE).","severity":2,"severityName":"Error"}}]})";

TEST(LogConverterTest, PartialErrorAfterTablesKeepsRows) {
  const std::string body = absl::StrCat(
      R"({"tables":[{"name":"PrimaryResult","columns":[{"name":"A","type":"long"}],)"
      R"("rows":[[1],[2]]}],)",
      kPartialError, "}");
  Result result = Convert(body);
  ASSERT_TRUE(result.summary.ok()) << result.summary.status();
  EXPECT_EQ(result.rows.size(), 2u);
  EXPECT_EQ(result.summary->rows, 2u);
  const absl::Status& error = result.summary->partial_error;
  EXPECT_EQ(error.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(error.message(), HasSubstr("PartialError"));
  EXPECT_THAT(error.message(), HasSubstr("E_QUERY_RESULT_SET_TOO_LARGE"));
  EXPECT_THAT(error.message(), HasSubstr("-2133196797 (Error)"));
  EXPECT_THAT(error.message(), HasSubstr("2 rows"));
}

TEST(LogConverterTest, PartialErrorBeforeTablesKeepsRows) {
  const std::string body = absl::StrCat(
      "{", kPartialError,
      R"(,"tables":[{"name":"PrimaryResult","columns":[{"name":"A","type":"long"}],)"
      R"("rows":[[1]]}]})");
  Result result = Convert(body);
  ASSERT_TRUE(result.summary.ok()) << result.summary.status();
  EXPECT_EQ(result.rows.size(), 1u);
  EXPECT_EQ(result.summary->partial_error.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(result.summary->partial_error.message(), HasSubstr("EngineError"));
}

TEST(LogConverterTest, ErrorEnvelopeWithoutTables) {
  Result result = Convert(
      R"({"error":{"message":"The request had some invalid properties","code":"BadArgumentError",)"
      R"("correlationId":"c","innererror":{"code":"SyntaxError","message":"A recognition )"
      R"(error occurred.","line":1,"pos":5,"token":"|"}}})");
  ASSERT_TRUE(result.summary.ok()) << result.summary.status();
  EXPECT_EQ(result.summary->tables, 0u);
  EXPECT_EQ(result.summary->partial_error.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(result.summary->partial_error.message(),
              HasSubstr("BadArgumentError: The request had some invalid properties; "
                        "SyntaxError: A recognition error occurred."));
}

TEST(LogConverterTest, EmitterErrorStopsAndIsReturned) {
  int calls = 0;
  absl::StatusOr<ConvertSummary> summary = ConvertAnswer(
      Answer("A:long", {"[1]", "[2]", "[3]"}), TestOptions(),
      [&](plugins::Log&&, const RowMeta&) {
        ++calls;
        return calls == 2 ? absl::ResourceExhaustedError("sink full") : absl::OkStatus();
      });
  EXPECT_EQ(summary.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(summary.status().message(), "sink full");
  EXPECT_EQ(calls, 2);
}

TEST(LogConverterTest, TruncatedBodiesAreDataLoss) {
  const std::string body = Answer("A:long,B:string", {R"([1,"abc"])", R"([2,"def"])"});
  for (size_t cut : {body.size() - 1, body.size() - 3, body.size() - 8, body.size() / 2,
                     size_t{1}}) {
    Result result = Convert(body.substr(0, cut));
    EXPECT_EQ(result.summary.status().code(), absl::StatusCode::kDataLoss)
        << "cut at " << cut << ": " << result.summary.status();
  }
}

TEST(LogConverterTest, MalformedAnswersAreInvalidArgumentWithAPlace) {
  struct Case {
    std::string body;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {"[1,2]", "not a JSON object"},
      {R"({"tables":{}})", "\"tables\" member is not an array"},
      {R"({"other":1})", "neither a \"tables\" nor an \"error\""},
      {R"({"tables":[{"name":"T"}]})", "table 0 has no \"columns\""},
      {R"({"tables":[{"columns":[{"type":"long"}],"rows":[]}]})", "column 0 of table 0 has no \"name\""},
      {R"({"tables":[{"name":"T","columns":[]}]})", "table 0 has no \"rows\""},
      {Answer("A:long", {"[1,2]"}), "row 0 of table 0 has more cells than its 1 columns"},
      {Answer("A:long,B:long", {"[1]"}), "row 0 of table 0 has 1 cells but the table has 2"},
      {Answer("A:long", {"[1x2]"}), "table 0 row 0 column 0 (A) at byte"},
      {Answer("A:long", {"[nul]"}), "not a JSON value: nul"},
      {Answer("A:long", {"[01]"}), "not a JSON value: 01"},
      {Answer("A:string", {R"(["a\qb"])"}), "malformed escape"},
      {Answer("A:string", {R"(["\u12"])"}), "malformed escape"},
      {Answer("A:long", {"[1]", "7"}), "row 1 of table 0 is not an array"},
      {R"({"tables":[]} {"tables":[]})", "unexpected bytes after"},
  };
  for (const Case& c : cases) {
    Result result = Convert(c.body);
    EXPECT_EQ(result.summary.status().code(), absl::StatusCode::kInvalidArgument)
        << c.body << ": " << result.summary.status();
    EXPECT_THAT(result.summary.status().message(), HasSubstr(c.expected)) << c.body;
  }
}

TEST(LogConverterTest, JsonErrorsSayWhatAndWhere) {
  Result bad_utf8 = Convert("{\"tables\":[\"\xff\"]}");
  EXPECT_EQ(bad_utf8.summary.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad_utf8.summary.status().message(), HasSubstr("not valid JSON (reading the answer)"));
  EXPECT_THAT(bad_utf8.summary.status().message(), HasSubstr("UTF-8"));
  const std::string body = Answer("A:long", {"[1 2]"});
  Result missing_comma = Convert(body);
  EXPECT_EQ(missing_comma.summary.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(missing_comma.summary.status().message(),
              HasSubstr(absl::StrCat("near byte ", body.find('2'))));
  EXPECT_THAT(missing_comma.summary.status().message(), HasSubstr("table 0 row 0 column 1"));
}

TEST(LogConverterTest, PaddedAndCopyingPathsAgree) {
  const std::string body = Answer("TimeGenerated:datetime,A:long,D:dynamic",
                                  {R"(["2024-01-01T00:00:00Z",1,"{\"a\":[1]}"])",
                                   R"(["2024-01-01T00:00:01Z",2,"[]"])"});
  std::vector<std::string> copied, padded;
  LogConverter converter(TestOptions());
  ASSERT_TRUE(converter
                  .Convert(body,
                           [&](plugins::Log&& log, const RowMeta&) {
                             copied.push_back(log.SerializeAsString());
                             return absl::OkStatus();
                           })
                  .ok());
  std::string with_padding = body;
  with_padding.reserve(body.size() + simdjson::SIMDJSON_PADDING);
  ASSERT_TRUE(converter
                  .ConvertPadded(simdjson::padded_string_view(with_padding),
                                 [&](plugins::Log&& log, const RowMeta&) {
                                   padded.push_back(log.SerializeAsString());
                                   return absl::OkStatus();
                                 })
                  .ok());
  EXPECT_EQ(copied.size(), 2u);
  EXPECT_EQ(copied, padded);
}

TEST(LogConverterTest, ReusedConverterResetsBetweenAnswers) {
  LogConverter converter(TestOptions());
  std::vector<std::string> raws;
  auto collect = [&](plugins::Log&& log, const RowMeta&) {
    raws.push_back(log.raw());
    return absl::OkStatus();
  };
  ASSERT_TRUE(converter.Convert(Answer("A:long,B:long,C:long", {"[1,2,3]"}), collect).ok());
  ASSERT_TRUE(converter.Convert(Answer("X:string", {R"(["x"])"}), collect).ok());
  ASSERT_EQ(raws.size(), 2u);
  EXPECT_EQ(raws[1], R"({"X":"x","_timestampSource":"now"})");
}

TEST(LogConverterTest, WideMostlyNullRow) {
  std::vector<std::string> names;
  std::string row = "[";
  for (int i = 0; i < 500; ++i) {
    names.push_back(absl::StrCat("c", i, ":string"));
    absl::StrAppend(&row, i ? "," : "", i % 97 == 0 ? absl::StrCat("\"v", i, "\"") : "null");
  }
  row += "]";
  EXPECT_EQ(RawOf(absl::StrJoin(names, ","), row),
            R"({"c0":"v0","c97":"v97","c194":"v194","c291":"v291","c388":"v388",)"
            R"("c485":"v485","_timestampSource":"now"})");
}

TEST(LogConverterTest, JsonLinesUseProtobufJsonNames) {
  std::ostringstream out;
  absl::StatusOr<ConvertSummary> summary = ConvertAnswerToJsonLines(
      Answer("TimeGenerated:datetime,A:long", {R"(["2024-01-01T00:00:00Z",1])",
                                               R"(["2024-01-01T00:00:01Z",2])"}),
      TestOptions(), out);
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_EQ(summary->rows, 2u);
  std::vector<std::string> lines = absl::StrSplit(out.str(), '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 2u);
  simdjson::dom::parser parser;
  simdjson::dom::object line;
  ASSERT_EQ(parser.parse(lines[0]).get(line), simdjson::SUCCESS);
  std::string_view value;
  ASSERT_EQ(line["@timestamp"].get(value), simdjson::SUCCESS);
  EXPECT_EQ(value, "2024-01-01T00:00:00Z");
  ASSERT_EQ(line["dataType"].get(value), simdjson::SUCCESS);
  EXPECT_EQ(value, "azure");
  ASSERT_EQ(line["dataSource"].get(value), simdjson::SUCCESS);
  EXPECT_EQ(value, "tests");
  ASSERT_EQ(line["tenantId"].get(value), simdjson::SUCCESS);
  EXPECT_EQ(value, "ce66672c-e36d-4761-a8c8-90058fee1a24");
  ASSERT_EQ(line["raw"].get(value), simdjson::SUCCESS);
  EXPECT_EQ(value, R"({"TimeGenerated":"2024-01-01T00:00:00Z","A":1})");
  ASSERT_EQ(line["id"].get(value), simdjson::SUCCESS);
  EXPECT_EQ(value.size(), 36u);
}

TEST(LogConverterTest, JsonLinesReportAFailedStream) {
  std::ostringstream out;
  out.setstate(std::ios::badbit);
  absl::StatusOr<ConvertSummary> summary =
      ConvertAnswerToJsonLines(Answer("A:long", {"[1]"}), TestOptions(), out);
  EXPECT_EQ(summary.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(summary.status().message(), HasSubstr("after 0 lines"));
}

// What a conversion gives: the summary and each Log with its RowMeta, or only the
// status when it fails (the Logs emitted before a failure are dropped by the caller,
// and which they are depends on whether the answer was read whole or in windows).
// `how` picks the entry point: Convert (a copy, windows read in place in it),
// ConvertPadded (windows copied) or ConvertInPlace (windows read in place in a copy
// of `body` made here, which must come back unchanged).
enum class Entry { kConvert, kPadded, kInPlace };
std::string Outcome(LogConverter& converter, const std::string& body,
                    Entry how = Entry::kConvert) {
  std::string out;
  const LogEmitter emit = [&](plugins::Log&& log, const RowMeta& meta) {
    absl::StrAppend(&out, log.SerializeAsString(), "|", meta.table, "|", meta.item_id, "|",
                    meta.ingestion_time, "\n");
    return absl::OkStatus();
  };
  absl::StatusOr<ConvertSummary> summary;
  if (how == Entry::kConvert) {
    summary = converter.Convert(body, emit);
  } else if (how == Entry::kPadded) {
    std::string padded = body;
    padded.reserve(body.size() + simdjson::SIMDJSON_PADDING);
    summary = converter.ConvertPadded(simdjson::padded_string_view(padded), emit);
  } else {
    std::string mine = body;
    summary = converter.ConvertInPlace(&mine, emit);
    EXPECT_EQ(mine, body) << "ConvertInPlace left the body changed";
  }
  if (!summary.ok()) return summary.status().ToString();
  return absl::StrCat(out, summary->tables, " tables ", summary->rows, " rows ",
                      summary->partial_error.ToString());
}

TEST(LogConverterTest, RowsReadInWindowsGiveTheSameResult) {
  std::vector<std::string> bodies = {
      Answer("TimeGenerated:datetime,A:long,D:dynamic,_ItemId:string",
             {R"(["2024-01-01T00:00:00Z",1,"{\"a\":[1]}","x1"])",
              R"(["2024-01-01T00:00:01Z",2,"[]","x2"])", R"([null, 3 ,"{}",""])",
              R"( [ "bad date" , 4 , "[\"]\"]" , "" ] )", R"([null,{"o":[1,{"p":"]"}]},null,"y"])"}),
      R"({"error":{"code":"PartialError","message":"m"},"tables":[{"name":"T","columns":[{"name":"A","type":"long"}],"rows":[[1],[2],[3]]},{"name":"U","columns":[{"name":"B","type":"string"}],"rows":[["a"],["b"]]}],"statistics":{"x":[{"rows":[[9]]}]}})",
      R"({"tables":[{"name":"T","columns":[{"name":"A","type":"long"}],"rows":[]},{"rows":[[1]],"columns":[]}]})",
      R"(  {"tables" : [ {"name":"T", "columns" : [{"name":"A","type":"long"}], "rows" : [ [1] , [2] ,)"
      R"( [3] ] } ] , "error" : {"code":"E","details":[{"code":"D","message":"]"}]} }  )",
      // Invalid answers fail the same way, at the same place.
      Answer("A:long", {"[1]", "[2", "[3]"}),
      Answer("A:long", {"[1]", "[2]", "7", "[3]"}),
      Answer("A:long", {"[1]", "[2]", "[1x2]", "[3]"}),
      Answer("A:long", {"[1]", "[2]", "[3,4]"}),
      Answer("A:long", {"[1]", "[2]", "[3]"}) + " x",
      Answer("A:long", {"[1]", "[2]", "[3]"}) + "]",
      Answer("A:string", {R"(["a"])", R"(["b"])", "[\"\xff\"]"}),
      Answer("A:string", {R"(["a"])", R"(["b"])", "[\"\x01\"]"}),
      Answer("A:string", {R"(["a"])", R"(["b"])", "[\"\\\x01\"]"}),
      Answer("A:string", {R"(["a"])", R"(["b"])", R"(["\u0041\\"])"}),
      R"({"tables":[{"name":"T","columns":[{"name":"A","type":"string"}],"rows":[["a"],["b"]]}],)"
      R"("x":[\"],"y":"]}]})",
      Answer("A:string", {R"(["a"])", R"(["b"])", R"(["c"])"}, "T\\\"rows"),
      R"({"tables":[{"name":"T","columns":[{"name":"A","type":"long"}],"rows":[[1],[2],]}]})",
      R"({"tables":[{"name":"T","columns":[{"name":"A","type":"long"}],"rows":[[1],[2]}]})",
      R"({"tables":[{"name":"T","columns":[{"name":"A","type":"long"}],"r\u006fws":[[1],[2]]}]})",
      R"({"tables":[{"name":"T","columns":[{"name":"A","type":"long"}],"rows":[[1],[2]]}],"tables":[{"rows":[[3]],"columns":[{"name":"B","type":"long"}]}]})",
  };
  for (answer_generator::Shape shape :
       {answer_generator::Shape::kSignin, answer_generator::Shape::kDiagnostics,
        answer_generator::Shape::kUnion}) {
    bodies.push_back(answer_generator::GenerateAnswer(shape, 64 << 10, /*seed=*/7));
  }
  for (const std::string& body : bodies) {
    LogConverter whole(TestOptions());
    const std::string expected = Outcome(whole, body);
    for (size_t window : {size_t{1}, size_t{5}, size_t{40}, size_t{1000}, size_t{20000}}) {
      LogConverter windowed(TestOptions());
      windowed.SetWindowBytesForTesting(window);
      EXPECT_EQ(Outcome(windowed, body), expected) << "window " << window << ": "
                                                   << body.substr(0, 300);
      EXPECT_EQ(Outcome(windowed, body, Entry::kPadded), expected) << "window " << window;
      EXPECT_EQ(Outcome(windowed, body, Entry::kInPlace), expected) << "window " << window;
      // A reused converter, both ways.
      EXPECT_EQ(Outcome(windowed, body), expected) << "window " << window;
      EXPECT_EQ(Outcome(whole, body), expected);
    }
  }
}

TEST(LogConverterTest, GeneratedAnswersAreReadInWindowsWithoutFallingBack) {
  for (answer_generator::Shape shape :
       {answer_generator::Shape::kSignin, answer_generator::Shape::kDiagnostics,
        answer_generator::Shape::kUnion}) {
    const std::string body = answer_generator::GenerateAnswer(shape, 256 << 10, /*seed=*/3);
    LogConverter whole(TestOptions());
    const std::string expected = Outcome(whole, body);
    EXPECT_EQ(whole.WindowsReadForTesting(), 0u);  // 256 KiB < two default windows
    LogConverter windowed(TestOptions());
    windowed.SetWindowBytesForTesting(16 << 10);
    for (Entry how : {Entry::kConvert, Entry::kPadded, Entry::kInPlace}) {
      EXPECT_EQ(Outcome(windowed, body, how), expected);
      EXPECT_GE(windowed.WindowsReadForTesting(), 10u) << answer_generator::ShapeName(shape);
      EXPECT_FALSE(windowed.ReadWholeAfterWindowsForTesting());
    }
  }
  // Two tables: the windows of the first table's rows run into the second table, so
  // the answer is read again whole, with every row emitted once.
  const std::string two_tables =
      R"({"tables":[{"name":"T","columns":[{"name":"A","type":"long"}],"rows":[[1],[2],[3]]},)"
      R"({"name":"U","columns":[{"name":"B","type":"long"}],"rows":[[4],[5]]}]})";
  LogConverter whole(TestOptions());
  LogConverter windowed(TestOptions());
  windowed.SetWindowBytesForTesting(4);
  EXPECT_EQ(Outcome(windowed, two_tables), Outcome(whole, two_tables));
  EXPECT_TRUE(windowed.ReadWholeAfterWindowsForTesting());
}

}  // namespace
}  // namespace loganalytics

