// File: testdata/generator/answer_generator.h
//
// Deterministic Log Analytics query answers of any size, for benchmarks, round-trip
// tests and fuzzing seeds. Three shapes model what the connector reads:
//   signin       SigninLogs: ~50 columns, dynamic-heavy (LocationDetails, DeviceDetail,
//                ConditionalAccessPolicies, AuthenticationDetails, Status, MfaDetail
//                hold JSON in strings), Unicode names, user agents.
//   diagnostics  AzureDiagnostics: 500 columns (suffixes _s, _d, _g, _b, _t), each
//                row filling the ~20 that its category uses, the rest null.
//   union        a `union *` of AzureActivity, SecurityAlert, AuditLogs and
//                SigninLogs: one table whose columns are the union of theirs, each
//                row filling its own table's columns; longs beyond 2^53, "NaN" reals,
//                decimals.
// Every answer also has the _ItemId and _IngestionTime columns the paginator projects.
// The same (shape, target_bytes, seed) always gives the same bytes, on every platform:
// the generator uses its own PRNG (splitmix64) and formatting.
//
// Example:
//   std::string body = answer_generator::GenerateAnswer(
//       answer_generator::Shape::kSignin, 10 << 20, /*seed=*/1);
//   // body.size() is 10 MiB plus at most one row.
//
// All functions are thread-safe (no shared state).
#ifndef TESTDATA_GENERATOR_ANSWER_GENERATOR_H_
#define TESTDATA_GENERATOR_ANSWER_GENERATOR_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace answer_generator {

enum class Shape { kSignin, kDiagnostics, kUnion };

// Returns the shape called `name` ("signin", "diagnostics" or "union"), or
// kInvalidArgument naming the accepted values.
inline absl::StatusOr<Shape> ParseShape(absl::string_view name) {
  if (name == "signin") return Shape::kSignin;
  if (name == "diagnostics") return Shape::kDiagnostics;
  if (name == "union") return Shape::kUnion;
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown answer shape \"", name, "\"; use signin, diagnostics or union"));
}

// Returns the name ParseShape accepts for `shape`.
inline absl::string_view ShapeName(Shape shape) {
  switch (shape) {
    case Shape::kSignin: return "signin";
    case Shape::kDiagnostics: return "diagnostics";
    case Shape::kUnion: return "union";
  }
  return "unknown";
}

namespace internal {

// splitmix64: small, fast, and the same on every platform.
class Random {
 public:
  explicit Random(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n).
  uint64_t Below(uint64_t n) { return n == 0 ? 0 : Next() % n; }
  bool OneIn(uint64_t n) { return Below(n) == 0; }
  template <typename T, size_t N>
  const T& Pick(const T (&items)[N]) {
    return items[Below(N)];
  }

 private:
  uint64_t state_;
};

// Appends `text` as a JSON string (quotes included).
inline void AppendString(absl::string_view text, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  for (char ch : text) {
    const unsigned char c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      default:
        if (c < 0x20) {
          const char escaped[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
          out->append(escaped, 6);
        } else {
          out->push_back(ch);
        }
    }
  }
  out->push_back('"');
}

// Civil date from days since 1970-01-01 (proleptic Gregorian).
inline void CivilFromDays(int64_t z, int* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t year = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<int>(year + (*m <= 2));
}

// Appends `ticks` (100 ns units since the Unix epoch) the way Log Analytics writes a
// datetime: "2024-05-01T12:34:56.1234567Z" (7 fractional digits), as a JSON string.
inline void AppendDatetime(int64_t ticks, std::string* out) {
  const int64_t seconds = ticks / 10000000;
  const int64_t fraction = ticks % 10000000;
  int year;
  unsigned month, day;
  CivilFromDays(seconds / 86400, &year, &month, &day);
  const int64_t sod = seconds % 86400;
  char buf[40];
  int n = 0;
  auto put = [&](int64_t v, int width) {
    for (int i = width - 1; i >= 0; --i) {
      buf[n + i] = static_cast<char>('0' + v % 10);
      v /= 10;
    }
    n += width;
  };
  buf[n++] = '"';
  put(year, 4);
  buf[n++] = '-';
  put(month, 2);
  buf[n++] = '-';
  put(day, 2);
  buf[n++] = 'T';
  put(sod / 3600, 2);
  buf[n++] = ':';
  put(sod / 60 % 60, 2);
  buf[n++] = ':';
  put(sod % 60, 2);
  buf[n++] = '.';
  put(fraction, 7);
  buf[n++] = 'Z';
  buf[n++] = '"';
  out->append(buf, n);
}

inline std::string Guid(Random& random) {
  static constexpr char kHex[] = "0123456789abcdef";
  const uint64_t a = random.Next(), b = random.Next();
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 32; ++i) {
    if (i == 8 || i == 12 || i == 16 || i == 20) out.push_back('-');
    const uint64_t word = i < 16 ? a : b;
    out.push_back(kHex[(word >> (4 * (i % 16))) & 0xF]);
  }
  return out;
}

inline void AppendGuid(Random& random, std::string* out) { AppendString(Guid(random), out); }

// A dynamic cell: `json` written as a JSON string.
inline void AppendDynamic(absl::string_view json, std::string* out) { AppendString(json, out); }

struct Column {
  std::string name;
  std::string type;
};

constexpr const char* kUsers[] = {
    "Alice Johnson", "Bob O'Neil", "Carlos Díaz", "José Müller", "Zoë Ångström",
    "東京 太郎", "Ελένη Παπαδοπούλου", "Nguyễn Văn An", "Priya \"PJ\" Shah",
    "Svc-Backup", "🚀 Rocket Team", "Åsa Øberg"};
constexpr const char* kUpnDomains[] = {"contoso.com", "fabrikam.onmicrosoft.com",
                                       "northwind.example"};
constexpr const char* kApps[] = {"Microsoft Teams", "Office 365 Exchange Online",
                                 "Azure Portal", "Microsoft Authentication Broker",
                                 "Windows Sign In", "Visual Studio Code"};
struct City {
  const char* city;
  const char* state;
  const char* country;
  double latitude;
  double longitude;
};
constexpr City kCities[] = {
    {"Redmond", "Washington", "US", 47.6740, -122.1215},
    {"São Paulo", "São Paulo", "BR", -23.5505, -46.6333},
    {"Zürich", "Zürich", "CH", 47.3769, 8.5417},
    {"東京", "東京都", "JP", 35.6762, 139.6503},
    {"Lagos", "Lagos", "NG", 6.5244, 3.3792},
    {"Reykjavík", "Höfuðborgarsvæðið", "IS", 64.1466, -21.9426}};
constexpr const char* kUserAgents[] = {
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/17.1 Safari/605.1.15",
    "Windows-AzureAD-Authentication-Provider/1.0",
    "python-requests/2.31.0"};
constexpr const char* kPolicies[] = {
    "Require MFA for admins", "Block legacy authentication",
    "Require compliant device", "Sign-in risk: high → block",
    "Session: 12h for \"unmanaged\" devices", "Require MFA outside trusted locations"};
constexpr const char* kPolicyResults[] = {"success", "failure", "notApplied",
                                          "notEnabled", "reportOnlySuccess"};

inline int64_t TimeTicks(Random& random, size_t row) {
  // 2024-05-01T00:00:00Z plus about 50 ms per row, with jitter.
  return 17145216000000000LL + static_cast<int64_t>(row) * 500000 +
         static_cast<int64_t>(random.Below(10000000));
}

// ---- SigninLogs -------------------------------------------------------------------

inline std::vector<Column> SigninColumns() {
  return {{"TenantId", "string"},
          {"SourceSystem", "string"},
          {"TimeGenerated", "datetime"},
          {"ResourceId", "string"},
          {"OperationName", "string"},
          {"OperationVersion", "string"},
          {"Category", "string"},
          {"ResultType", "string"},
          {"ResultSignature", "string"},
          {"ResultDescription", "string"},
          {"DurationMs", "long"},
          {"CorrelationId", "string"},
          {"Resource", "string"},
          {"ResourceGroup", "string"},
          {"ResourceProvider", "string"},
          {"Identity", "string"},
          {"Level", "string"},
          {"Location", "string"},
          {"AlternateSignInName", "string"},
          {"AppDisplayName", "string"},
          {"AppId", "string"},
          {"AuthenticationContextClassReferences", "string"},
          {"AuthenticationDetails", "string"},
          {"AuthenticationProcessingDetails", "string"},
          {"AuthenticationRequirement", "string"},
          {"ClientAppUsed", "string"},
          {"ConditionalAccessPolicies", "dynamic"},
          {"ConditionalAccessStatus", "string"},
          {"CreatedDateTime", "datetime"},
          {"DeviceDetail", "dynamic"},
          {"IsInteractive", "bool"},
          {"Id", "string"},
          {"IPAddress", "string"},
          {"IsRisky", "bool"},
          {"LocationDetails", "dynamic"},
          {"MfaDetail", "dynamic"},
          {"NetworkLocationDetails", "string"},
          {"OriginalRequestId", "string"},
          {"RiskDetail", "string"},
          {"RiskEventTypes", "string"},
          {"RiskLevelAggregated", "string"},
          {"RiskLevelDuringSignIn", "string"},
          {"RiskState", "string"},
          {"ResourceDisplayName", "string"},
          {"Status", "dynamic"},
          {"TokenIssuerType", "string"},
          {"UserAgent", "string"},
          {"UserDisplayName", "string"},
          {"UserId", "string"},
          {"UserPrincipalName", "string"},
          {"UserType", "string"},
          {"Type", "string"},
          {"_ItemId", "string"},
          {"_IngestionTime", "datetime"}};
}

inline std::string LocationDetails(Random& random) {
  const City& c = random.Pick(kCities);
  std::string json = R"({"city":)";
  AppendString(c.city, &json);
  json += R"(,"state":)";
  AppendString(c.state, &json);
  absl::StrAppend(&json, R"(,"countryOrRegion":")", c.country,
                  R"(","geoCoordinates":{"latitude":)", c.latitude,
                  R"(,"longitude":)", c.longitude, "}}");
  return json;
}

inline std::string DeviceDetail(Random& random) {
  static constexpr const char* kOs[] = {"Windows10", "MacOs", "Ios 17.1", "Android 14",
                                        "Linux"};
  static constexpr const char* kBrowsers[] = {"Edge 120.0.0", "Chrome 119.0.0",
                                              "Safari 17.1", "Rich Client 4.56.0.0"};
  std::string json = R"({"deviceId":")";
  if (random.OneIn(3)) json += Guid(random);
  absl::StrAppend(&json, R"(","operatingSystem":")", random.Pick(kOs), R"(","browser":")",
                  random.Pick(kBrowsers), "\"");
  if (random.OneIn(3)) json += R"(,"isCompliant":true,"isManaged":true,"trustType":"Azure AD joined")";
  json += "}";
  return json;
}

inline std::string ConditionalAccessPolicies(Random& random) {
  std::string json = "[";
  const int count = 2 + static_cast<int>(random.Below(7));
  for (int i = 0; i < count; ++i) {
    if (i) json += ",";
    json += R"({"id":")";
    json += Guid(random);
    json += R"(","displayName":)";
    AppendString(random.Pick(kPolicies), &json);
    json += R"(,"enforcedGrantControls":[)";
    if (random.OneIn(2)) json += R"("Mfa")";
    json += R"(],"enforcedSessionControls":[],"result":")";
    json += random.Pick(kPolicyResults);
    json += R"(","conditionsSatisfied":)";
    absl::StrAppend(&json, random.Below(64), R"(,"conditionsNotSatisfied":)", random.Below(8));
    json += "}";
  }
  json += "]";
  return json;
}

inline std::string AuthenticationDetails(Random& random, int64_t ticks) {
  std::string json = R"([{"authenticationStepDateTime":)";
  AppendDatetime(ticks, &json);
  json += R"(,"authenticationMethod":"Password","authenticationMethodDetail":"Password Hash Sync","succeeded":)";
  json += random.OneIn(5) ? "false" : "true";
  json += R"(,"authenticationStepResultDetail":"Correct password","authenticationStepRequirement":"Primary authentication","StatusSequence":0,"RequestSequence":)";
  absl::StrAppend(&json, random.Below(2), "}");
  if (random.OneIn(2)) {
    json += R"(,{"authenticationStepDateTime":)";
    AppendDatetime(ticks + 150000000, &json);
    json += R"(,"authenticationMethod":"Mobile app notification","succeeded":true,"authenticationStepResultDetail":"MFA successfully completed","StatusSequence":1,"RequestSequence":1})";
  }
  json += "]";
  return json;
}

inline void SigninRow(Random& random, size_t row, const std::string& tenant,
                      std::string* out) {
  const int64_t ticks = TimeTicks(random, row);
  const char* user = random.Pick(kUsers);
  const bool failed = random.OneIn(6);
  std::string upn = absl::StrCat("user", random.Below(5000), "@", random.Pick(kUpnDomains));
  out->push_back('[');
  AppendString(tenant, out);
  out->append(R"(,"Azure AD",)");
  AppendDatetime(ticks, out);
  absl::StrAppend(out, R"(,"/tenants/)", tenant,
                  R"(/providers/Microsoft.aadiam","Sign-in activity","1.0","SignInLogs",)");
  out->append(failed ? R"("50126","None","Error validating credentials due to invalid username or password.",)"
                     : R"("0","None","",)");
  absl::StrAppend(out, random.OneIn(4) ? random.Below(5000) : 0, ",");
  AppendGuid(random, out);
  out->append(R"(,"Microsoft.aadiam","Microsoft.aadiam","Microsoft.aadiam",)");
  AppendString(user, out);
  out->append(R"(,"4",)");
  AppendString(random.Pick(kCities).country, out);
  out->append(",");
  AppendString(random.OneIn(3) ? upn : "", out);
  out->append(",");
  AppendString(random.Pick(kApps), out);
  out->append(",");
  AppendGuid(random, out);
  out->append(R"(,"[]",)");
  AppendString(AuthenticationDetails(random, ticks), out);
  out->append(R"(,"[{\"key\":\"Legacy TLS (TLS 1.0, 1.1, 3DES)\",\"value\":\"False\"},{\"key\":\"Is CAE Token\",\"value\":\"False\"}]",)");
  out->append(random.OneIn(3) ? R"("multiFactorAuthentication",)"
                              : R"("singleFactorAuthentication",)");
  out->append(random.OneIn(4) ? R"("Mobile Apps and Desktop clients",)" : R"("Browser",)");
  AppendDynamic(ConditionalAccessPolicies(random), out);
  out->append(failed ? R"(,"failure",)" : R"(,"success",)");
  AppendDatetime(ticks - 20000, out);
  out->append(",");
  AppendDynamic(DeviceDetail(random), out);
  out->append(random.OneIn(3) ? ",false," : ",true,");
  AppendGuid(random, out);
  absl::StrAppend(out, ",\"", random.Below(224) + 1, ".", random.Below(256), ".",
                  random.Below(256), ".", random.Below(256), "\",");
  out->append(random.OneIn(20) ? "true," : "null,");
  AppendDynamic(LocationDetails(random), out);
  out->append(",");
  if (random.OneIn(3)) {
    AppendDynamic(R"({"authMethod":"PhoneAppNotification","authDetail":"+X XXXXXXXX12"})", out);
  } else {
    out->append("null");
  }
  out->append(R"(,"[]",)");
  AppendGuid(random, out);
  out->append(R"(,"none","[]","none","none","none",)");
  AppendString(random.Pick(kApps), out);
  out->append(",");
  if (failed) {
    AppendDynamic(R"({"errorCode":50126,"failureReason":"Error validating credentials due to invalid username or password.","additionalDetails":"The user didn't enter the right credentials. \u00a0It's expected to see some number of these errors in your logs due to users making mistakes."})",
                  out);
  } else {
    AppendDynamic(R"({"errorCode":0,"additionalDetails":"MFA requirement satisfied by claim in the token"})",
                  out);
  }
  out->append(R"(,"AzureAD",)");
  AppendString(random.Pick(kUserAgents), out);
  out->append(",");
  AppendString(user, out);
  out->append(",");
  AppendGuid(random, out);
  out->append(",");
  AppendString(upn, out);
  out->append(random.OneIn(10) ? R"(,"Guest","SigninLogs",)" : R"(,"Member","SigninLogs",)");
  AppendGuid(random, out);
  out->append(",");
  AppendDatetime(ticks + 1200000000 + static_cast<int64_t>(random.Below(600000000)), out);
  out->push_back(']');
}

// ---- AzureDiagnostics ---------------------------------------------------------------

constexpr int kDiagnosticsColumns = 500;

inline std::vector<Column> DiagnosticsColumns() {
  std::vector<Column> columns = {
      {"TenantId", "string"},       {"TimeGenerated", "datetime"},
      {"ResourceId", "string"},     {"Category", "string"},
      {"ResourceGroup", "string"},  {"SubscriptionId", "string"},
      {"ResourceProvider", "string"}, {"Resource", "string"},
      {"ResourceType", "string"},   {"OperationName", "string"},
      {"ResultType", "string"},     {"CorrelationId", "string"},
      {"ResultDescription", "string"}, {"Level", "string"},
      {"DurationMs", "long"},       {"CallerIPAddress", "string"},
      {"Type", "string"},           {"_ResourceId", "string"},
      {"_ItemId", "string"},        {"_IngestionTime", "datetime"}};
  static constexpr const char* kStems[] = {
      "clientIP",     "clientPort",    "httpMethod",     "requestUri",   "userAgent",
      "httpStatus",   "httpVersion",   "receivedBytes",  "sentBytes",    "timeTaken",
      "sslEnabled",   "sslCipher",     "sslProtocol",    "serverRouted", "serverStatus",
      "host",         "originalHost",  "ruleSetType",    "ruleSetVersion", "ruleId",
      "Message",      "action",        "site",           "details_message", "details_data",
      "details_file", "hostname",      "transactionId",  "policyId",     "policyScope",
      "msg",          "protocol",      "SourceIP",       "SourcePort",   "DestinationIP",
      "DestinationPort", "Action",     "Rule",           "identity_claim_appid", "id",
      "requestPath",  "properties",    "vaultName",      "keyName",      "secretName",
      "clientInfo",   "isAccessPolicyMatch", "trustedService", "addressAuthorizationType",
      "requestResourceType", "resultSignature", "httpStatusCode", "tlsVersion",
      "event",        "statement",     "database_name",  "server_instance_name",
      "application_name", "session_id", "affected_rows",  "succeeded",    "permission_bitmask",
      "flow_tuple",   "macAddress",    "direction",      "primaryIPv4Address", "ruleName",
      "type",         "conditions_destinationIP", "conditions_sourcePortRange", "matchedConnections"};
  static constexpr const char* kSuffixes[] = {"_s", "_d", "_g", "_b", "_t"};
  static constexpr const char* kTypes[] = {"string", "real", "guid", "bool", "datetime"};
  size_t i = 0;
  while (columns.size() < kDiagnosticsColumns) {
    const size_t stem = i % (sizeof(kStems) / sizeof(kStems[0]));
    const size_t suffix = (i / (sizeof(kStems) / sizeof(kStems[0]))) % 5;
    const size_t round = i / (5 * (sizeof(kStems) / sizeof(kStems[0])));
    std::string name = kStems[stem];
    if (round > 0) absl::StrAppend(&name, "_", round);
    name += kSuffixes[suffix];
    columns.push_back({name, kTypes[suffix]});
    ++i;
  }
  return columns;
}

inline const std::vector<Column>& DiagnosticsColumnsCached() {
  static const std::vector<Column>* columns = new std::vector<Column>(DiagnosticsColumns());
  return *columns;
}

inline void DiagnosticsRow(Random& random, size_t row, const std::string& tenant,
                           std::vector<std::string>* cells, std::string* out) {
  static constexpr const char* kCategories[] = {
      "ApplicationGatewayAccessLog", "ApplicationGatewayFirewallLog",
      "AzureFirewallNetworkRule", "AuditEvent", "SQLSecurityAuditEvents",
      "NetworkSecurityGroupFlowEvent"};
  static constexpr const char* kProviders[] = {
      "MICROSOFT.NETWORK", "MICROSOFT.NETWORK", "MICROSOFT.NETWORK", "MICROSOFT.KEYVAULT",
      "MICROSOFT.SQL", "MICROSOFT.NETWORK"};
  const size_t category = random.Below(6);
  const int64_t ticks = TimeTicks(random, row);
  const std::vector<Column>& columns = DiagnosticsColumnsCached();
  cells->assign(columns.size(), std::string());
  std::string cell;
  auto set = [&](size_t column, const std::string& json) { (*cells)[column] = json; };
  auto str = [&](absl::string_view text) {
    cell.clear();
    AppendString(text, &cell);
    return cell;
  };
  const std::string subscription = Guid(random);
  const std::string resource = absl::StrCat("APPGW-", random.Below(20));
  const std::string resource_id =
      absl::StrCat("/SUBSCRIPTIONS/", subscription, "/RESOURCEGROUPS/RG-PROD/PROVIDERS/",
                   kProviders[category], "/RESOURCES/", resource);
  set(0, str(tenant));
  cell.clear();
  AppendDatetime(ticks, &cell);
  set(1, cell);
  set(2, str(resource_id));
  set(3, str(kCategories[category]));
  set(4, str("RG-PROD"));
  set(5, str(subscription));
  set(6, str(kProviders[category]));
  set(7, str(resource));
  set(9, str(absl::StrCat(kCategories[category], "Operation")));
  set(10, str(random.OneIn(8) ? "Failed" : "Success"));
  cell.clear();
  AppendGuid(random, &cell);
  set(11, cell);
  if (random.OneIn(4)) set(12, str("Request blocked by rule 942100: SQL Injection Attack Detected via libinjection"));
  set(13, str(random.OneIn(10) ? "Warning" : "Informational"));
  set(14, absl::StrCat(random.Below(2000)));
  set(15, str(absl::StrCat("10.", random.Below(256), ".", random.Below(256), ".", random.Below(256))));
  set(16, str("AzureDiagnostics"));
  set(17, str(absl::AsciiStrToLower(resource_id)));
  cell.clear();
  AppendGuid(random, &cell);
  set(18, cell);
  cell.clear();
  AppendDatetime(ticks + 900000000, &cell);
  set(19, cell);
  // About 15 category-specific columns out of the other 480.
  const size_t first = 20 + category * 70;
  for (size_t k = 0; k < 15; ++k) {
    const size_t column = first + k * 3 + random.Below(3);
    if (column >= columns.size()) break;
    const std::string& type = columns[column].type;
    if (type == "string") {
      switch (random.Below(5)) {
        case 0:
          set(column, str(absl::StrCat("C:\\Windows\\System32\\", random.Below(100), "\\svchost.exe")));
          break;
        case 1:
          set(column, str(absl::StrCat("/api/v2/orders?id=", random.Below(100000), "&sig=a%2Fb")));
          break;
        case 2:
          set(column, str(absl::StrCat(R"({"ruleId":")", random.Below(1000000),
                                       R"(","matched":"<script>alert(1)</script>"})")));
          break;
        case 3:
          set(column, str("TLSv1.2"));
          break;
        default:
          set(column, str(random.Pick(kUsers)));
      }
    } else if (type == "real") {
      if (random.OneIn(50)) {
        set(column, "\"NaN\"");
      } else {
        set(column, absl::StrCat(random.Below(100000), random.OneIn(2) ? ".5" : ""));
      }
    } else if (type == "guid") {
      cell.clear();
      AppendGuid(random, &cell);
      set(column, cell);
    } else if (type == "bool") {
      set(column, random.OneIn(2) ? "true" : "false");
    } else {
      cell.clear();
      AppendDatetime(ticks - static_cast<int64_t>(random.Below(100000000)), &cell);
      set(column, cell);
    }
  }
  out->push_back('[');
  for (size_t c = 0; c < cells->size(); ++c) {
    if (c) out->push_back(',');
    const std::string& value = (*cells)[c];
    if (value.empty()) {
      out->append("null");
    } else {
      out->append(value);
    }
  }
  out->push_back(']');
}

// ---- union * -------------------------------------------------------------------------

inline std::vector<Column> UnionColumns() {
  return {{"TenantId", "string"},
          {"TimeGenerated", "datetime"},
          {"Type", "string"},
          {"OperationName", "string"},
          {"Category", "string"},
          {"CorrelationId", "string"},
          {"ResourceId", "string"},
          // AzureActivity
          {"Caller", "string"},
          {"CallerIpAddress", "string"},
          {"OperationNameValue", "string"},
          {"ActivityStatusValue", "string"},
          {"Authorization_d", "dynamic"},
          {"Claims_d", "dynamic"},
          {"Properties_d", "dynamic"},
          {"SubscriptionId", "string"},
          {"EventDataId", "string"},
          {"SequenceNumber", "long"},
          // SecurityAlert
          {"AlertName", "string"},
          {"AlertSeverity", "string"},
          {"Description", "string"},
          {"ProviderName", "string"},
          {"CompromisedEntity", "string"},
          {"ConfidenceScore", "real"},
          {"Entities", "string"},
          {"ExtendedProperties", "string"},
          {"Tactics", "string"},
          {"Techniques", "dynamic"},
          {"IsIncident", "bool"},
          // AuditLogs
          {"ActivityDisplayName", "string"},
          {"InitiatedBy", "dynamic"},
          {"TargetResources", "dynamic"},
          {"AdditionalDetails", "dynamic"},
          {"Result", "string"},
          {"Cost", "decimal"},
          // SigninLogs
          {"UserPrincipalName", "string"},
          {"AppDisplayName", "string"},
          {"IPAddress", "string"},
          {"LocationDetails", "dynamic"},
          {"DeviceDetail", "dynamic"},
          {"ConditionalAccessPolicies", "dynamic"},
          {"Status", "dynamic"},
          {"_ItemId", "string"},
          {"_IngestionTime", "datetime"}};
}

inline const std::vector<Column>& UnionColumnsCached() {
  static const std::vector<Column>* columns = new std::vector<Column>(UnionColumns());
  return *columns;
}

inline void UnionRow(Random& random, size_t row, const std::string& tenant,
                     std::vector<std::string>* cells, std::string* out) {
  const std::vector<Column>& columns = UnionColumnsCached();
  cells->assign(columns.size(), std::string());
  std::string cell;
  auto str = [&](absl::string_view text) {
    cell.clear();
    AppendString(text, &cell);
    return cell;
  };
  auto guid = [&] {
    cell.clear();
    AppendGuid(random, &cell);
    return cell;
  };
  auto dynamic = [&](const std::string& json) {
    cell.clear();
    AppendDynamic(json, &cell);
    return cell;
  };
  const int64_t ticks = TimeTicks(random, row);
  const size_t table = random.Below(4);
  std::vector<std::string>& c = *cells;
  c[0] = str(tenant);
  cell.clear();
  AppendDatetime(ticks, &cell);
  c[1] = cell;
  c[5] = guid();
  const std::string user = absl::StrCat("user", random.Below(5000), "@contoso.com");
  switch (table) {
    case 0: {  // AzureActivity
      c[2] = str("AzureActivity");
      c[3] = str("Create or Update Virtual Machine");
      c[4] = str("Administrative");
      c[6] = str("/subscriptions/0000/resourceGroups/rg-prod/providers/Microsoft.Compute/virtualMachines/vm-01");
      c[7] = str(user);
      c[8] = str(absl::StrCat("52.", random.Below(256), ".", random.Below(256), ".", random.Below(256)));
      c[9] = str("MICROSOFT.COMPUTE/VIRTUALMACHINES/WRITE");
      c[10] = str(random.OneIn(5) ? "Failure" : "Success");
      c[11] = dynamic(R"({"action":"Microsoft.Compute/virtualMachines/write","evidence":{"role":"Contributor","principalType":"User"},"scope":"/subscriptions/0000/resourceGroups/rg-prod"})");
      c[12] = dynamic(absl::StrCat(R"({"aud":"https://management.core.windows.net/","iat":")",
                                   1714521600 + row, R"(","http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn":")",
                                   user, R"("})"));
      c[13] = dynamic(R"({"statusCode":"Created","serviceRequestId":null,"eventCategory":"Administrative","entity":"/subscriptions/0000/resourcegroups/rg-prod/providers/Microsoft.Compute/virtualMachines/vm-01","message":"Microsoft.Compute/virtualMachines/write","hierarchy":"tenant/0000"})");
      c[14] = str("00000000-1111-2222-3333-444444444444");
      c[15] = guid();
      c[16] = absl::StrCat(9007199254740993ULL + random.Below(1000000000));
      break;
    }
    case 1: {  // SecurityAlert
      c[2] = str("SecurityAlert");
      c[17] = str(random.OneIn(2) ? "Suspicious PowerShell command line" : "Impossible travel activity");
      c[18] = str(random.OneIn(3) ? "High" : "Medium");
      c[19] = str("Machine logs indicate a suspicious command line:\n\t\"powershell -enc ...\"");
      c[20] = str("Microsoft Defender for Cloud");
      c[21] = str(absl::StrCat("vm-", random.Below(100), ".contoso.local"));
      c[22] = random.OneIn(4) ? std::string("\"NaN\"") : absl::StrCat("0.", random.Below(100));
      c[23] = str(R"([{"$id":"2","HostName":"vm-01","Type":"host"},{"$id":"3","Name":"alice","Type":"account"}])");
      c[24] = str(R"({"Alert Type":"SuspiciousPS","Resource Type":"Virtual Machine"})");
      c[25] = str("Execution, Persistence");
      c[26] = dynamic(R"(["T1059","T1059.001"])");
      c[27] = random.OneIn(5) ? "true" : "false";
      break;
    }
    case 2: {  // AuditLogs
      c[2] = str("AuditLogs");
      c[3] = str("Add member to role");
      c[4] = str("RoleManagement");
      c[28] = str("Add member to role");
      c[29] = dynamic(absl::StrCat(R"({"user":{"id":")", Guid(random), R"(","displayName":null,"userPrincipalName":")",
                                   user, R"(","ipAddress":""}})"));
      c[30] = dynamic(R"([{"id":"a1","displayName":"Global Administrator","type":"Role","modifiedProperties":[{"displayName":"Role.DisplayName","oldValue":null,"newValue":"\"Global Administrator\""}]}])");
      c[31] = dynamic(R"([{"key":"User-Agent","value":"Mozilla/5.0"}])");
      c[32] = str(random.OneIn(10) ? "failure" : "success");
      c[33] = str(absl::StrCat(random.Below(1000), ".", random.Below(10000000), "0000000001"));
      break;
    }
    default: {  // SigninLogs
      c[2] = str("SigninLogs");
      c[3] = str("Sign-in activity");
      c[4] = str("SignInLogs");
      c[34] = str(user);
      c[35] = str(random.Pick(kApps));
      c[36] = str(absl::StrCat(random.Below(224) + 1, ".", random.Below(256), ".1.2"));
      c[37] = dynamic(LocationDetails(random));
      c[38] = dynamic(DeviceDetail(random));
      c[39] = dynamic(ConditionalAccessPolicies(random));
      c[40] = dynamic(R"({"errorCode":0})");
      break;
    }
  }
  c[41] = guid();
  cell.clear();
  AppendDatetime(ticks + 1500000000, &cell);
  c[42] = cell;
  out->push_back('[');
  for (size_t i = 0; i < c.size(); ++i) {
    if (i) out->push_back(',');
    out->append(c[i].empty() ? std::string("null") : c[i]);
  }
  out->push_back(']');
}

}  // namespace internal

// Returns a Log Analytics answer body (one "PrimaryResult" table) of the given shape,
// with rows added until the body reaches `target_bytes` (so it is at most one row
// longer; a target of 0 gives a table without rows). Deterministic in
// (shape, target_bytes, seed).
inline std::string GenerateAnswer(Shape shape, size_t target_bytes, uint64_t seed) {
  internal::Random random(seed ^ 0x5bd1e9955bd1e995ULL);
  const std::string tenant = internal::Guid(random);
  std::vector<internal::Column> columns;
  switch (shape) {
    case Shape::kSignin: columns = internal::SigninColumns(); break;
    case Shape::kDiagnostics: columns = internal::DiagnosticsColumns(); break;
    case Shape::kUnion: columns = internal::UnionColumns(); break;
  }
  std::string out;
  out.reserve(target_bytes + (1 << 16));
  out.append(R"({"tables":[{"name":"PrimaryResult","columns":[)");
  for (size_t i = 0; i < columns.size(); ++i) {
    if (i) out.push_back(',');
    out.append(R"({"name":)");
    internal::AppendString(columns[i].name, &out);
    out.append(R"(,"type":)");
    internal::AppendString(columns[i].type, &out);
    out.push_back('}');
  }
  out.append(R"(],"rows":[)");
  constexpr absl::string_view kEnd = "]}]}";
  std::vector<std::string> cells;
  for (size_t row = 0; out.size() + kEnd.size() < target_bytes; ++row) {
    if (row) out.push_back(',');
    switch (shape) {
      case Shape::kSignin: internal::SigninRow(random, row, tenant, &out); break;
      case Shape::kDiagnostics:
        internal::DiagnosticsRow(random, row, tenant, &cells, &out);
        break;
      case Shape::kUnion: internal::UnionRow(random, row, tenant, &cells, &out); break;
    }
  }
  out.append(kEnd.data(), kEnd.size());
  return out;
}

}  // namespace answer_generator

#endif  // TESTDATA_GENERATOR_ANSWER_GENERATOR_H_
