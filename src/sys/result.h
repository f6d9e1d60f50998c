// SPDX-License-Identifier: Apache-2.0

// Result<T, E>: a value or an error, for libraries that return errors and let the
// program decide how to log them. Deliberately tiny: C++20 has no std::expected.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace hbfence {

template <typename E>
struct Err {
  E error;
};
template <typename E>
Err(E) -> Err<E>;

template <typename T, typename E = std::string>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  template <typename F>
  Result(Err<F> e) : v_(std::in_place_index<1>, E(std::move(e.error))) {}  // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  const E& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, E> v_;
};

// Status: success or an error message.
struct Ok {};
using Status = Result<Ok, std::string>;
inline Status OkStatus() { return Ok{}; }

}  // namespace hbfence
