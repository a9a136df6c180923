// Result<T> and Status: the error channel for loading, parsing, device setup and I/O.
//
// Every error says where it comes from: the file it is about, the 1-based line and
// column inside that file (0 when unknown), and the field (a dotted path such as
// `joint[elbow].limit.lower`). Hot paths do not use this; they use PF_CHECK.
#pragma once

#include <expected>
#include <string>
#include <utility>

namespace pf::core {

// Where in an input an error was found. All parts are optional.
struct Location {
  std::string file;    // path of the input file ("" when not about a file)
  int line = 0;        // 1-based line, 0 = unknown
  int column = 0;      // 1-based column, 0 = unknown
  std::string field;   // field or element path inside the file, "" = whole file
};

struct Error {
  std::string message;
  Location where;

  // "file:line:column: field: message", leaving out the parts that are unknown.
  std::string ToString() const;
};

using Status = std::expected<void, Error>;
template <class T>
using Result = std::expected<T, Error>;

// Builds the error value returned from a function yielding Result<T> or Status.
inline std::unexpected<Error> Fail(std::string message, Location where = {}) {
  return std::unexpected<Error>(Error{std::move(message), std::move(where)});
}

inline Status Ok() { return {}; }

}  // namespace pf::core

// Returns early with the error of `expr` (a Status or Result) if it failed.
#define PF_TRY(expr)                                                   \
  do {                                                                 \
    auto&& pf_try_result_ = (expr);                                    \
    if (!pf_try_result_) return std::unexpected(std::move(pf_try_result_).error()); \
  } while (0)

#define PF_CONCAT_INNER_(a, b) a##b
#define PF_CONCAT_(a, b) PF_CONCAT_INNER_(a, b)
// `PF_ASSIGN_OR_RETURN(auto x, LoadX())`: declares x from the value, or returns the error.
#define PF_ASSIGN_OR_RETURN(lhs, expr) \
  PF_ASSIGN_OR_RETURN_IMPL_(PF_CONCAT_(pf_result_, __LINE__), lhs, expr)
#define PF_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr)                     \
  auto tmp = (expr);                                                  \
  if (!tmp) return std::unexpected(std::move(tmp).error());           \
  lhs = std::move(*tmp)
