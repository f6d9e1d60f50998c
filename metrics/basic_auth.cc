// SPDX-License-Identifier: Apache-2.0

#include "metrics/basic_auth.h"

#include <crypt.h>
#include <time.h>

#include <algorithm>
#include <cstring>
#include <optional>

namespace hbfence {
namespace {

// RFC 4648 base64, strict: no whitespace inside, padding optional.
std::optional<std::string> DecodeBase64(std::string_view in) {
  while (!in.empty() && in.back() == '=') in.remove_suffix(1);
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    int v;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
    else if (c >= '0' && c <= '9') v = c - '0' + 52;
    else if (c == '+') v = 62;
    else if (c == '/') v = 63;
    else return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return out;
}

// The bcrypt cost of "$2y$10$…", or nullopt.
std::optional<int> Cost(const std::string& hash) {
  if (hash.size() < 7 || hash[0] != '$' || hash[3] != '$' || hash[6] != '$') return std::nullopt;
  if (hash[4] < '0' || hash[4] > '9' || hash[5] < '0' || hash[5] > '9') return std::nullopt;
  return (hash[4] - '0') * 10 + (hash[5] - '0');
}

// Compares without an early exit, over the guess's length only: the time taken
// depends on what the client sent, not on the secret.
bool SameSecret(std::string_view secret, std::string_view guess) {
  unsigned char diff = secret.size() == guess.size() ? 0 : 1;
  if (secret.empty()) return guess.empty();
  for (size_t i = 0; i < guess.size(); ++i) diff |= static_cast<unsigned char>(guess[i] ^ secret[i % secret.size()]);
  return diff == 0;
}

Duration ThreadCpuTime() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
}

}  // namespace

BasicAuth::BasicAuth(std::map<std::string, std::string> users, const Clock& clock, Verifier verify)
    : users_(std::move(users)), clock_(clock), verify_(std::move(verify)), total_{kTotalBudget.burst, clock.Now()} {
  // The dummy costs what the users' hashes cost (the highest, if they differ): a
  // salt from crypt_gensalt and a hash part no password produces.
  int cost = 0;
  for (const auto& [user, hash] : users_) cost = std::max(cost, Cost(hash).value_or(0));
  if (cost < 4 || cost > 31) cost = 10;  // htpasswd -B's range; the config accepted something else
  char setting[CRYPT_GENSALT_OUTPUT_SIZE];
  if (crypt_gensalt_rn("$2b$", static_cast<unsigned long>(cost), nullptr, 0, setting, sizeof setting) == nullptr) {
    std::snprintf(setting, sizeof setting, "$2b$%02d$%s", cost, "abcdefghijklmnopqrstuu");
  }
  dummy_hash_ = std::string(setting) + std::string(31, '.');
}

BasicAuth::Verification BasicAuth::BcryptVerify(std::string_view password, const std::string& hash) {
  Verification v;
  if (password.find('\0') != std::string_view::npos) return v;
  const std::string pw(password);
  crypt_data data{};
  const Duration start = ThreadCpuTime();
  const char* out = crypt_r(pw.c_str(), hash.c_str(), &data);
  v.cpu = ThreadCpuTime() - start;
  v.match = out != nullptr && out[0] != '*' && SameSecret(hash, out);
  return v;
}

bool BasicAuth::Available(Bucket& b, const Budget& budget, MonoTime now) {
  if (now > b.at) {
    const auto refill = std::chrono::duration_cast<Duration>((now - b.at) * budget.share);
    b.level = std::min<Duration>(budget.burst, b.level + refill);
    b.at = now;
  }
  return b.level > Duration::zero();
}

BasicAuth::Bucket& BasicAuth::PeerBucket(std::string_view peer, MonoTime now) {
  if (auto it = peers_.find(peer); it != peers_.end()) return it->second;
  if (peers_.size() >= kMaxPeers) {
    // Forget the peer that failed longest ago: an attacker with more addresses
    // than this still meets the total budget.
    auto oldest = std::min_element(peers_.begin(), peers_.end(),
                                   [](const auto& a, const auto& b) { return a.second.at < b.second.at; });
    peers_.erase(oldest);
  }
  return peers_.emplace(std::string(peer), Bucket{kPeerBudget.burst, now}).first->second;
}

BasicAuth::Verdict BasicAuth::Check(const char* authorization, std::string_view peer) {
  if (authorization == nullptr) return Verdict::kDenied;
  std::string_view header(authorization);
  static constexpr std::string_view kBasic = "basic ";
  if (header.size() < kBasic.size() ||
      !std::equal(kBasic.begin(), kBasic.end(), header.begin(),
                  [](char a, char b) { return a == (b >= 'A' && b <= 'Z' ? b - 'A' + 'a' : b); })) {
    return Verdict::kDenied;
  }
  header.remove_prefix(kBasic.size());
  while (!header.empty() && header.front() == ' ') header.remove_prefix(1);
  while (!header.empty() && header.back() == ' ') header.remove_suffix(1);
  const auto decoded = DecodeBase64(header);
  if (!decoded) return Verdict::kDenied;
  const auto colon = decoded->find(':');
  if (colon == std::string::npos || decoded->find('\0') != std::string::npos) return Verdict::kDenied;
  const std::string_view user = std::string_view(*decoded).substr(0, colon);
  const std::string_view password = std::string_view(*decoded).substr(colon + 1);

  const auto known = users_.find(std::string(user));
  {
    std::lock_guard lock(mu_);
    if (known != users_.end()) {
      if (auto it = verified_.find(user); it != verified_.end() && SameSecret(it->second, password)) {
        return Verdict::kAllowed;
      }
    }
  }
  std::lock_guard one_at_a_time(verify_mu_);
  {
    std::lock_guard lock(mu_);
    const MonoTime now = clock_.Now();
    const bool total_left = Available(total_, kTotalBudget, now);
    if (!Available(PeerBucket(peer, now), kPeerBudget, now) || !total_left) return Verdict::kThrottled;
  }
  const Verification v = verify_(password, known != users_.end() ? known->second : dummy_hash_);
  std::lock_guard lock(mu_);
  if (v.match && known != users_.end()) {
    verified_[known->first] = std::string(password);
    return Verdict::kAllowed;
  }
  total_.level -= v.cpu;
  PeerBucket(peer, clock_.Now()).level -= v.cpu;
  return Verdict::kDenied;
}

}  // namespace hbfence
