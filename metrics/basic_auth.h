// SPDX-License-Identifier: Apache-2.0

// HTTP basic auth against bcrypt hashes (htpasswd -B), for every page but /healthz.
//
// - An unknown user is verified against a dummy hash of the configured users' cost,
//   so the time an answer takes does not tell which user names exist.
// - A user name or password containing a NUL byte is refused: crypt(3) would stop
//   at the NUL and accept "pw\0x" as "pw".
// - bcrypt runs one verification at a time, and failed verifications may use at
//   most a budget of CPU time (per client address and in total, see kPeerBudget and
//   kTotalBudget); past it a request is refused as throttled without being verified.
// - A password that verified is remembered for its user, in memory: a scraper's
//   later requests cost no bcrypt and get through while the budget is spent.
//
// Thread-safety: Check() may be called from any thread (civetweb's workers).
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "src/sys/clock.h"

namespace hbfence {

class BasicAuth {
 public:
  enum class Verdict { kAllowed, kDenied, kThrottled };

  // One bcrypt verification: whether `password` matches `hash`, and the CPU time it
  // took (charged to the failure budget when it did not match).
  struct Verification {
    bool match = false;
    Duration cpu{};
  };
  using Verifier = std::function<Verification(std::string_view password, const std::string& hash)>;

  // A token bucket of CPU time: `burst` may be spent at once, and it refills at
  // `share` seconds per second (the fraction of one core failed logins may keep).
  struct Budget {
    Duration burst;
    double share;
  };
  static constexpr Budget kPeerBudget{std::chrono::milliseconds(500), 0.05};
  static constexpr Budget kTotalBudget{std::chrono::seconds(1), 0.10};
  static constexpr size_t kMaxPeers = 256;  // client addresses with a budget of their own

  // `users`: user name -> bcrypt hash ($2y$, $2b$ or $2a$), not empty. `clock` and
  // `verify` are seams for tests; `clock` must outlive this object.
  BasicAuth(std::map<std::string, std::string> users, const Clock& clock, Verifier verify = BcryptVerify);

  // `authorization`: the Authorization header, or null; `peer`: the client address.
  Verdict Check(const char* authorization, std::string_view peer);

  // What an unknown user's password is verified against.
  const std::string& dummy_hash() const { return dummy_hash_; }

  // crypt_r(3) with thread CPU time; a password with a NUL never matches.
  static Verification BcryptVerify(std::string_view password, const std::string& hash);

 private:
  struct Bucket {
    Duration level;
    MonoTime at;
  };
  // Refills `b` up to `now` and tells whether anything is left.
  static bool Available(Bucket& b, const Budget& budget, MonoTime now);
  Bucket& PeerBucket(std::string_view peer, MonoTime now);  // mu_ held

  const std::map<std::string, std::string> users_;
  const Clock& clock_;
  const Verifier verify_;
  std::string dummy_hash_;

  std::mutex verify_mu_;  // one bcrypt at a time; taken before mu_
  std::mutex mu_;         // guards what follows
  std::map<std::string, std::string, std::less<>> verified_;  // user -> password that matched
  Bucket total_;
  std::map<std::string, Bucket, std::less<>> peers_;
};

}  // namespace hbfence
