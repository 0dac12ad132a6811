#include "testdata/workspace_model/kql_subset.h"

#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace workspace_model {
namespace {

TEST(KqlSubsetTest, ParsesThePaginatorShape) {
  absl::StatusOr<ParsedQuery> q = ParseKql(
      "SigninLogs\n| extend _ItemId = _ItemId, _IngestionTime = ingestion_time()\n"
      "| where _IngestionTime > datetime(2024-01-01T00:00:00.1234567Z) or "
      "(_IngestionTime == datetime(2024-01-01T00:00:00.1234567Z) and _ItemId > 'a\\'b\\\\')\n"
      "| where _IngestionTime <= datetime(2024-01-02T00:00:00Z)\n"
      "| order by _IngestionTime asc, _ItemId asc\n| take 500");
  ASSERT_TRUE(q.ok()) << q.status();
  ASSERT_EQ(q->tables, std::vector<std::string>{"SigninLogs"});
  ASSERT_EQ(q->operators.size(), 5u);
  EXPECT_EQ(q->operators[0].kind, Operator::Kind::kExtend);
  EXPECT_EQ(q->operators[0].assigns[1].second, "ingestion_time()");
  const Expr& where = *q->operators[1].predicate;
  ASSERT_EQ(where.kind, Expr::Kind::kOr);
  const Expr& tie = *where.children[1];
  ASSERT_EQ(tie.kind, Expr::Kind::kAnd);
  EXPECT_EQ(tie.children[1]->column, "_ItemId");
  EXPECT_EQ(tie.children[1]->literal.text, "a'b\\");
  EXPECT_EQ(where.children[0]->literal.time,
            absl::FromUnixSeconds(1704067200) + absl::Nanoseconds(123456700));
  EXPECT_EQ(q->operators[3].order[1], (std::pair<std::string, bool>("_ItemId", true)));
  EXPECT_EQ(q->operators[4].take, 500);
}

TEST(KqlSubsetTest, UnionForms) {
  absl::StatusOr<ParsedQuery> all = ParseKql("union *");
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(all->union_all);
  absl::StatusOr<ParsedQuery> fuzzy =
      ParseKql("union isfuzzy=true AZFWNetworkRule, ['AZFW Application']");
  ASSERT_TRUE(fuzzy.ok()) << fuzzy.status();
  EXPECT_TRUE(fuzzy->fuzzy);
  EXPECT_EQ(fuzzy->tables, (std::vector<std::string>{"AZFWNetworkRule", "AZFW Application"}));
  absl::StatusOr<ParsedQuery> filtered = ParseKql(
      "AzureDiagnostics | where ResourceProvider == \"MICROSOFT.KEYVAULT\" and "
      "Category in (\"AuditEvent\", \"x\") and not(Level startswith 'Info')");
  ASSERT_TRUE(filtered.ok()) << filtered.status();
}

TEST(KqlSubsetTest, SyntaxErrorsSayWhere) {
  KqlSyntaxError error;
  absl::StatusOr<ParsedQuery> q = ParseKql("T\n| where x == 'unterminated", &error);
  EXPECT_EQ(q.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(error.line, 2);
  EXPECT_EQ(error.pos, 14);

  q = ParseKql("T | summarize count()", &error);
  EXPECT_EQ(q.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(error.line, 1);
  EXPECT_EQ(error.pos, 5);
  EXPECT_EQ(error.token, "summarize");

  // A broken-out literal leaves text the subset cannot read.
  q = ParseKql("T | where _ItemId > 'x' | take 1' | take 5", &error);
  EXPECT_EQ(q.status().code(), absl::StatusCode::kInvalidArgument);
  // Unknown escapes are refused, as KQL does.
  EXPECT_FALSE(ParseKql("T | where a == 'x\\q'").ok());
  EXPECT_FALSE(ParseKql("T | take").ok());
  EXPECT_FALSE(ParseKql("").ok());
}

}  // namespace
}  // namespace workspace_model
