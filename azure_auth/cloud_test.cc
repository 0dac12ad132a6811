#include "azure_auth/cloud.h"

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace azure_auth {
namespace {

using ::testing::HasSubstr;

TEST(CloudTest, BuiltInCloudsHaveTheirHostsAndScopes) {
  CloudSettings pub = AzurePublic();
  EXPECT_EQ(pub.authority_host, "login.microsoftonline.com");
  EXPECT_EQ(pub.query_host, "api.loganalytics.io");
  EXPECT_EQ(pub.scope, "https://api.loganalytics.io/.default");
  CloudSettings gov = AzureUSGovernment();
  EXPECT_EQ(gov.authority_host, "login.microsoftonline.us");
  EXPECT_EQ(gov.query_host, "api.loganalytics.us");
  EXPECT_EQ(gov.scope, "https://api.loganalytics.us/.default");
  CloudSettings cn = AzureChina();
  EXPECT_EQ(cn.authority_host, "login.chinacloudapi.cn");
  EXPECT_EQ(cn.query_host, "api.loganalytics.azure.cn");
  EXPECT_EQ(cn.scope, "https://api.loganalytics.azure.cn/.default");
}

TEST(CloudTest, CloudByNameFindsEachBuiltInCloud) {
  auto pub = CloudByName("AzurePublic");
  ASSERT_TRUE(pub.ok()) << pub.status();
  EXPECT_EQ(pub->authority_host, "login.microsoftonline.com");
  auto gov = CloudByName("azureusgovernment");
  ASSERT_TRUE(gov.ok()) << gov.status();
  EXPECT_EQ(gov->query_host, "api.loganalytics.us");
  auto cn = CloudByName(" AzureChina ");
  ASSERT_TRUE(cn.ok()) << cn.status();
  EXPECT_EQ(cn->scope, "https://api.loganalytics.azure.cn/.default");
  auto alias = CloudByName("AzureCloud");
  ASSERT_TRUE(alias.ok()) << alias.status();
  EXPECT_EQ(alias->query_host, "api.loganalytics.io");
}

TEST(CloudTest, CloudByNameRejectsUnknownNamesAndListsTheChoices) {
  auto bad = CloudByName("AzureGermany");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("AzureGermany"));
  EXPECT_THAT(std::string(bad.status().message()),
              HasSubstr("AzurePublic, AzureUSGovernment, AzureChina"));
}

TEST(CloudTest, UrlsAcceptBareHostsAndOrigins) {
  EXPECT_EQ(TokenEndpoint(AzurePublic(), "contoso.onmicrosoft.com"),
            "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token");
  CloudSettings local = CustomCloud("https://127.0.0.1:8443/", "https://127.0.0.1:9443",
                                    "https://api.loganalytics.io/.default");
  EXPECT_EQ(AuthorityUrl(local), "https://127.0.0.1:8443");
  EXPECT_EQ(QueryUrl(local), "https://127.0.0.1:9443");
  EXPECT_EQ(TokenEndpoint(local, "t1"), "https://127.0.0.1:8443/t1/oauth2/v2.0/token");
  EXPECT_EQ(QueryUrl(AzureChina()), "https://api.loganalytics.azure.cn");
}

TEST(CloudTest, ScopeToResourceDropsDefaultSuffix) {
  EXPECT_EQ(ScopeToResource("https://api.loganalytics.io/.default"),
            "https://api.loganalytics.io");
  EXPECT_EQ(ScopeToResource("https://api.loganalytics.us"), "https://api.loganalytics.us");
}

TEST(CloudTest, ValidateCloudNamesTheBadValue) {
  EXPECT_TRUE(ValidateCloud(AzurePublic()).ok());
  absl::Status empty = ValidateCloud(CustomCloud("login.example", "", "s/.default"));
  EXPECT_EQ(empty.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(empty.message()), HasSubstr("query_host is empty"));
  absl::Status plain =
      ValidateCloud(CustomCloud("http://127.0.0.1:80", "q", "https://x/.default"));
  EXPECT_EQ(plain.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(plain.message()), HasSubstr("is not https"));
  absl::Status two = ValidateCloud(
      CustomCloud("a", "q", "https://x/.default https://y/.default"));
  EXPECT_EQ(two.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(two.message()), HasSubstr("more than one resource"));
}

}  // namespace
}  // namespace azure_auth
