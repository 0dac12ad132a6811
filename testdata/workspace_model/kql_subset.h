// File: testdata/workspace_model/kql_subset.h
//
// A parser for the small part of KQL the workspace model answers (README.md in this
// folder lists it): a source (a table, ['quoted table'], `union [isfuzzy=true] A, B` or
// `union *`), then any of `where <predicate>`, `extend X = ingestion_time()` /
// `extend X = Column`, `order by`/`sort by`, `take`/`limit`. Predicates combine
// comparisons of a column with a literal (datetime(...), 'string', "string", integer,
// or a list for `in`) with and / or / not(...) / parentheses. String literals read the
// escapes \\ \' \" \n \r \t; anything else after a backslash is a syntax error, as is
// any text the subset does not cover. Errors carry the line, 1-based position and token
// of the offending text, like Log Analytics' SyntaxError.
//
// Example:
//   absl::StatusOr<workspace_model::ParsedQuery> q = workspace_model::ParseKql(
//       "SigninLogs | extend _IngestionTime = ingestion_time() "
//       "| where _IngestionTime > datetime(2024-01-01T00:00:00Z) | take 10");
//   if (!q.ok()) ...;   // kInvalidArgument with KqlSyntaxError details
//
// Pure functions; thread-safe.
#ifndef TESTDATA_WORKSPACE_MODEL_KQL_SUBSET_H_
#define TESTDATA_WORKSPACE_MODEL_KQL_SUBSET_H_

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace workspace_model {

// Where a syntax error is, as Log Analytics reports it.
struct KqlSyntaxError {
  int line = 1;
  int pos = 1;  // 1-based column
  std::string token;
  std::string message;
};

struct Literal {
  enum class Type { kDatetime, kString, kLong, kList };
  Type type = Type::kString;
  absl::Time time;
  std::string text;
  int64_t number = 0;
  std::vector<std::string> list;
};

struct Expr {
  enum class Kind { kAnd, kOr, kNot, kCompare };
  Kind kind = Kind::kCompare;
  std::vector<std::unique_ptr<Expr>> children;
  std::string column;  // kCompare
  std::string op;      // == != < <= > >= =~ startswith in
  Literal literal;
};

struct Operator {
  enum class Kind { kWhere, kExtend, kOrderBy, kTake };
  Kind kind = Kind::kWhere;
  std::unique_ptr<Expr> predicate;                           // kWhere
  std::vector<std::pair<std::string, std::string>> assigns;  // kExtend: name, source
                                                             // ("ingestion_time()" or a column)
  std::vector<std::pair<std::string, bool>> order;           // kOrderBy: column, ascending
  int64_t take = 0;                                          // kTake
};

struct ParsedQuery {
  bool union_all = false;           // union *
  bool fuzzy = false;               // union isfuzzy=true
  std::vector<std::string> tables;  // empty with union_all
  std::vector<Operator> operators;
};

namespace kql_internal {

struct Token {
  enum class Kind { kIdent, kString, kNumber, kDatetime, kPunct, kEnd };
  Kind kind = Kind::kEnd;
  std::string text;  // identifier / unescaped string / number / datetime body / punct
  int line = 1;
  int pos = 1;
  std::string raw;   // as written, for error messages
};

class Lexer {
 public:
  explicit Lexer(absl::string_view text) : text_(text) {}

  absl::StatusOr<std::vector<Token>> Run(KqlSyntaxError* error) {
    std::vector<Token> tokens;
    while (true) {
      SkipSpace();
      Token token;
      token.line = line_;
      token.pos = static_cast<int>(i_ - line_start_) + 1;
      if (i_ >= text_.size()) {
        token.kind = Token::Kind::kEnd;
        tokens.push_back(token);
        return tokens;
      }
      const size_t start = i_;
      const char c = text_[i_];
      if (absl::ascii_isalpha(static_cast<unsigned char>(c)) || c == '_') {
        while (i_ < text_.size() &&
               (absl::ascii_isalnum(static_cast<unsigned char>(text_[i_])) ||
                text_[i_] == '_')) {
          ++i_;
        }
        token.kind = Token::Kind::kIdent;
        token.text = std::string(text_.substr(start, i_ - start));
        // datetime(<raw text>) is one token.
        if (token.text == "datetime" && i_ < text_.size() && text_[i_] == '(') {
          size_t close = text_.find(')', i_);
          if (close == absl::string_view::npos) {
            return Fail(error, token, "datetime( is not closed");
          }
          token.kind = Token::Kind::kDatetime;
          token.text = std::string(text_.substr(i_ + 1, close - i_ - 1));
          i_ = close + 1;
        }
      } else if (absl::ascii_isdigit(static_cast<unsigned char>(c)) ||
                 (c == '-' && i_ + 1 < text_.size() &&
                  absl::ascii_isdigit(static_cast<unsigned char>(text_[i_ + 1])))) {
        ++i_;
        while (i_ < text_.size() && absl::ascii_isdigit(static_cast<unsigned char>(text_[i_]))) {
          ++i_;
        }
        token.kind = Token::Kind::kNumber;
        token.text = std::string(text_.substr(start, i_ - start));
      } else if (c == '\'' || c == '"') {
        token.kind = Token::Kind::kString;
        if (!ReadString(c, &token.text)) {
          token.raw = std::string(text_.substr(start, std::min<size_t>(i_ - start + 1, 32)));
          return Fail(error, token, "string literal is not closed or has a bad escape");
        }
      } else if (c == '[' && i_ + 1 < text_.size() &&
                 (text_[i_ + 1] == '\'' || text_[i_ + 1] == '"')) {
        // ['bracketed name']
        const char quote = text_[i_ + 1];
        ++i_;
        std::string name;
        if (!ReadString(quote, &name) || i_ >= text_.size() || text_[i_] != ']') {
          token.raw = "[";
          return Fail(error, token, "bracketed name is not closed");
        }
        ++i_;
        token.kind = Token::Kind::kIdent;
        token.text = name;
      } else {
        static constexpr absl::string_view kTwo[] = {"==", "!=", "<=", ">=", "=~"};
        token.kind = Token::Kind::kPunct;
        bool two = false;
        for (absl::string_view p : kTwo) {
          if (text_.substr(i_, 2) == p) {
            token.text = std::string(p);
            i_ += 2;
            two = true;
            break;
          }
        }
        if (!two) {
          if (absl::string_view("|(),=<>*").find(c) == absl::string_view::npos) {
            token.raw = std::string(1, c);
            return Fail(error, token, "unexpected character");
          }
          token.text = std::string(1, c);
          ++i_;
        }
      }
      if (token.raw.empty()) token.raw = std::string(text_.substr(start, i_ - start));
      tokens.push_back(std::move(token));
    }
  }

 private:
  void SkipSpace() {
    while (i_ < text_.size()) {
      const char c = text_[i_];
      if (c == '\n') {
        ++line_;
        ++i_;
        line_start_ = i_;
      } else if (c == ' ' || c == '\t' || c == '\r') {
        ++i_;
      } else if (c == '/' && i_ + 1 < text_.size() && text_[i_ + 1] == '/') {
        while (i_ < text_.size() && text_[i_] != '\n') ++i_;
      } else {
        return;
      }
    }
  }

  // Reads a quoted literal starting at text_[i_] == quote; leaves i_ after the
  // closing quote.
  bool ReadString(char quote, std::string* out) {
    ++i_;
    while (i_ < text_.size()) {
      const char c = text_[i_];
      if (c == quote) {
        ++i_;
        return true;
      }
      if (c == '\n') return false;
      if (c == '\\') {
        if (i_ + 1 >= text_.size()) return false;
        const char e = text_[i_ + 1];
        switch (e) {
          case '\\': out->push_back('\\'); break;
          case '\'': out->push_back('\''); break;
          case '"': out->push_back('"'); break;
          case 'n': out->push_back('\n'); break;
          case 'r': out->push_back('\r'); break;
          case 't': out->push_back('\t'); break;
          default: return false;
        }
        i_ += 2;
        continue;
      }
      out->push_back(c);
      ++i_;
    }
    return false;
  }

  absl::Status Fail(KqlSyntaxError* error, const Token& token, absl::string_view why) {
    error->line = token.line;
    error->pos = token.pos;
    error->token = token.raw.empty() ? token.text : token.raw;
    error->message = std::string(why);
    return absl::InvalidArgumentError(
        absl::StrCat("Query could not be parsed at '", error->token, "' on line [",
                     token.line, ",", token.pos, "]: ", why));
  }

  absl::string_view text_;
  size_t i_ = 0;
  int line_ = 1;
  size_t line_start_ = 0;
};

class Parser {
 public:
  Parser(std::vector<Token> tokens, KqlSyntaxError* error)
      : tokens_(std::move(tokens)), error_(error) {}

  absl::StatusOr<ParsedQuery> Run() {
    ParsedQuery query;
    if (absl::Status s = Source(&query); !s.ok()) return s;
    while (Peek().kind != Token::Kind::kEnd) {
      if (!IsPunct("|")) return Fail("expected '|'");
      Next();
      Operator op;
      if (absl::Status s = ParseOperator(&op); !s.ok()) return s;
      query.operators.push_back(std::move(op));
    }
    return query;
  }

 private:
  const Token& Peek(size_t ahead = 0) const {
    size_t k = std::min(at_ + ahead, tokens_.size() - 1);
    return tokens_[k];
  }
  const Token& Next() {
    const Token& t = tokens_[at_];
    if (at_ + 1 < tokens_.size()) ++at_;
    return t;
  }
  bool IsPunct(absl::string_view p) const {
    return Peek().kind == Token::Kind::kPunct && Peek().text == p;
  }
  bool IsWord(absl::string_view w) const {
    return Peek().kind == Token::Kind::kIdent && Peek().text == w;
  }
  absl::Status Fail(absl::string_view why) {
    const Token& t = Peek();
    error_->line = t.line;
    error_->pos = t.pos;
    error_->token = t.kind == Token::Kind::kEnd ? "<end of query>" : t.raw;
    error_->message = std::string(why);
    return absl::InvalidArgumentError(
        absl::StrCat("Query could not be parsed at '", error_->token, "' on line [",
                     t.line, ",", t.pos, "]: ", why));
  }

  absl::Status Source(ParsedQuery* query) {
    if (IsWord("union")) {
      Next();
      if (IsWord("isfuzzy")) {
        Next();
        if (!IsPunct("=")) return Fail("expected '=' after isfuzzy");
        Next();
        if (IsWord("true")) {
          query->fuzzy = true;
        } else if (!IsWord("false")) {
          return Fail("expected true or false");
        }
        Next();
      }
      if (IsPunct("*")) {
        Next();
        query->union_all = true;
        return absl::OkStatus();
      }
      while (true) {
        if (Peek().kind != Token::Kind::kIdent) return Fail("expected a table name");
        query->tables.push_back(Next().text);
        if (!IsPunct(",")) return absl::OkStatus();
        Next();
      }
    }
    if (Peek().kind != Token::Kind::kIdent) return Fail("expected a table name");
    query->tables.push_back(Next().text);
    return absl::OkStatus();
  }

  absl::Status ParseOperator(Operator* op) {
    if (IsWord("where")) {
      Next();
      op->kind = Operator::Kind::kWhere;
      absl::StatusOr<std::unique_ptr<Expr>> e = Or();
      if (!e.ok()) return e.status();
      op->predicate = *std::move(e);
      return absl::OkStatus();
    }
    if (IsWord("extend")) {
      Next();
      op->kind = Operator::Kind::kExtend;
      while (true) {
        if (Peek().kind != Token::Kind::kIdent) return Fail("expected a column name");
        std::string name = Next().text;
        if (!IsPunct("=")) return Fail("expected '='");
        Next();
        if (IsWord("ingestion_time") && Peek(1).kind == Token::Kind::kPunct &&
            Peek(1).text == "(" && Peek(2).kind == Token::Kind::kPunct &&
            Peek(2).text == ")") {
          Next();
          Next();
          Next();
          op->assigns.emplace_back(name, "ingestion_time()");
        } else if (Peek().kind == Token::Kind::kIdent) {
          op->assigns.emplace_back(name, Next().text);
        } else {
          return Fail("expected ingestion_time() or a column name");
        }
        if (!IsPunct(",")) return absl::OkStatus();
        Next();
      }
    }
    if (IsWord("order") || IsWord("sort")) {
      Next();
      if (!IsWord("by")) return Fail("expected 'by'");
      Next();
      op->kind = Operator::Kind::kOrderBy;
      while (true) {
        if (Peek().kind != Token::Kind::kIdent) return Fail("expected a column name");
        std::string column = Next().text;
        bool ascending = false;  // KQL sorts descending by default
        if (IsWord("asc")) {
          ascending = true;
          Next();
        } else if (IsWord("desc")) {
          Next();
        }
        op->order.emplace_back(column, ascending);
        if (!IsPunct(",")) return absl::OkStatus();
        Next();
      }
    }
    if (IsWord("take") || IsWord("limit")) {
      Next();
      op->kind = Operator::Kind::kTake;
      if (Peek().kind != Token::Kind::kNumber ||
          !absl::SimpleAtoi(Peek().text, &op->take) || op->take < 0) {
        return Fail("expected a row count");
      }
      Next();
      return absl::OkStatus();
    }
    return Fail("unsupported operator");
  }

  absl::StatusOr<std::unique_ptr<Expr>> Or() {
    absl::StatusOr<std::unique_ptr<Expr>> left = And();
    if (!left.ok() || !IsWord("or")) return left;
    auto node = std::make_unique<Expr>();
    node->kind = Expr::Kind::kOr;
    node->children.push_back(*std::move(left));
    while (IsWord("or")) {
      Next();
      absl::StatusOr<std::unique_ptr<Expr>> right = And();
      if (!right.ok()) return right;
      node->children.push_back(*std::move(right));
    }
    return node;
  }

  absl::StatusOr<std::unique_ptr<Expr>> And() {
    absl::StatusOr<std::unique_ptr<Expr>> left = Unary();
    if (!left.ok() || !IsWord("and")) return left;
    auto node = std::make_unique<Expr>();
    node->kind = Expr::Kind::kAnd;
    node->children.push_back(*std::move(left));
    while (IsWord("and")) {
      Next();
      absl::StatusOr<std::unique_ptr<Expr>> right = Unary();
      if (!right.ok()) return right;
      node->children.push_back(*std::move(right));
    }
    return node;
  }

  absl::StatusOr<std::unique_ptr<Expr>> Unary() {
    if (IsPunct("(")) {
      Next();
      absl::StatusOr<std::unique_ptr<Expr>> inner = Or();
      if (!inner.ok()) return inner;
      if (!IsPunct(")")) return Fail("expected ')'");
      Next();
      return inner;
    }
    if (IsWord("not") && Peek(1).kind == Token::Kind::kPunct && Peek(1).text == "(") {
      Next();
      Next();
      absl::StatusOr<std::unique_ptr<Expr>> inner = Or();
      if (!inner.ok()) return inner;
      if (!IsPunct(")")) return Fail("expected ')'");
      Next();
      auto node = std::make_unique<Expr>();
      node->kind = Expr::Kind::kNot;
      node->children.push_back(*std::move(inner));
      return node;
    }
    if (Peek().kind != Token::Kind::kIdent) return Fail("expected a column name");
    auto node = std::make_unique<Expr>();
    node->kind = Expr::Kind::kCompare;
    node->column = Next().text;
    if (IsWord("startswith") || IsWord("in")) {
      node->op = Next().text;
    } else if (Peek().kind == Token::Kind::kPunct &&
               (Peek().text == "==" || Peek().text == "!=" || Peek().text == "<" ||
                Peek().text == "<=" || Peek().text == ">" || Peek().text == ">=" ||
                Peek().text == "=~")) {
      node->op = Next().text;
    } else {
      return Fail("expected a comparison operator");
    }
    if (node->op == "in") {
      if (!IsPunct("(")) return Fail("expected '('");
      Next();
      node->literal.type = Literal::Type::kList;
      while (true) {
        if (Peek().kind != Token::Kind::kString) return Fail("expected a string");
        node->literal.list.push_back(Next().text);
        if (IsPunct(")")) break;
        if (!IsPunct(",")) return Fail("expected ',' or ')'");
        Next();
      }
      Next();
      return node;
    }
    const Token& value = Peek();
    switch (value.kind) {
      case Token::Kind::kString:
        node->literal.type = Literal::Type::kString;
        node->literal.text = value.text;
        break;
      case Token::Kind::kNumber:
        node->literal.type = Literal::Type::kLong;
        if (!absl::SimpleAtoi(value.text, &node->literal.number)) {
          return Fail("number out of range");
        }
        break;
      case Token::Kind::kDatetime: {
        node->literal.type = Literal::Type::kDatetime;
        std::string err;
        if (!absl::ParseTime("%Y-%m-%dT%H:%M:%E*S%Ez", value.text, absl::UTCTimeZone(),
                             &node->literal.time, &err)) {
          return Fail("not a datetime");
        }
        break;
      }
      default:
        return Fail("expected a literal");
    }
    Next();
    return node;
  }

  std::vector<Token> tokens_;
  size_t at_ = 0;
  KqlSyntaxError* error_;
};

}  // namespace kql_internal

// Parses `text`. Returns kInvalidArgument for text outside the subset, with `*error`
// (when given) saying where.
inline absl::StatusOr<ParsedQuery> ParseKql(absl::string_view text,
                                           KqlSyntaxError* error = nullptr) {
  KqlSyntaxError local;
  if (error == nullptr) error = &local;
  kql_internal::Lexer lexer(text);
  absl::StatusOr<std::vector<kql_internal::Token>> tokens = lexer.Run(error);
  if (!tokens.ok()) return tokens.status();
  kql_internal::Parser parser(*std::move(tokens), error);
  return parser.Run();
}

}  // namespace workspace_model

#endif  // TESTDATA_WORKSPACE_MODEL_KQL_SUBSET_H_
