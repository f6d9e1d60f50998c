// SPDX-License-Identifier: Apache-2.0

// metrics/basic_auth.h: the dummy hash for unknown users, NUL bytes, the failure
// budget and the remembered password, through the verifier and clock seams.
#include <crypt.h>

#include <algorithm>
#include <vector>

#include <gtest/gtest.h>

#include "metrics/basic_auth.h"
#include "tests/support/base64.h"
#include "tests/support/fake_clock.h"

namespace hbfence {
namespace {

using namespace std::chrono_literals;
using testing::Base64;
using Verdict = BasicAuth::Verdict;

std::string Header(const std::string& user_colon_password) { return "Basic " + Base64(user_colon_password); }

std::string Hash(const std::string& password, int cost) {
  char salt[CRYPT_GENSALT_OUTPUT_SIZE];
  EXPECT_NE(crypt_gensalt_rn("$2y$", static_cast<unsigned long>(cost), nullptr, 0, salt, sizeof salt), nullptr);
  crypt_data data{};
  return crypt_r(password.c_str(), salt, &data);
}

// A verifier that records what it was asked and answers from a table.
struct FakeVerifier {
  std::vector<std::pair<std::string, std::string>> calls;  // (password, hash)
  std::string good_password = "s3cret";
  Duration cpu = 100ms;
  BasicAuth::Verifier Fn() {
    return [this](std::string_view password, const std::string& hash) {
      calls.emplace_back(std::string(password), hash);
      return BasicAuth::Verification{password == good_password && hash.rfind("$2y$", 0) == 0, cpu};
    };
  }
};

const std::string kUserHash = "$2y$07$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234";

TEST(BasicAuthTest, UnknownUserIsVerifiedAgainstADummyHashOfTheUsersCost) {
  testing::FakeClock clock;
  FakeVerifier v;
  BasicAuth auth({{"prometheus", kUserHash}}, clock, v.Fn());
  EXPECT_EQ(auth.Check(Header("nobody:s3cret").c_str(), "10.0.0.1"), Verdict::kDenied);
  ASSERT_EQ(v.calls.size(), 1u) << "an unknown user costs a verification too";
  EXPECT_EQ(v.calls[0].second, auth.dummy_hash());
  EXPECT_EQ(auth.dummy_hash().rfind("$2b$07$", 0), 0u) << auth.dummy_hash();
  EXPECT_EQ(auth.dummy_hash().size(), kUserHash.size());

  EXPECT_EQ(auth.Check(Header("prometheus:wrong").c_str(), "10.0.0.1"), Verdict::kDenied);
  ASSERT_EQ(v.calls.size(), 2u);
  EXPECT_EQ(v.calls[1].second, kUserHash);
}

// The dummy makes crypt(3) do the whole bcrypt work: a malformed setting would fail
// fast ("*0") and give unknown users away again.
TEST(BasicAuthTest, DummyHashCostsAsMuchCpuAsARealOne) {
  testing::FakeClock clock;
  const std::string real = Hash("s3cret", 8);
  BasicAuth auth({{"prometheus", real}}, clock);
  crypt_data data{};
  const std::string out = crypt_r("anything", auth.dummy_hash().c_str(), &data);
  EXPECT_EQ(out.rfind(auth.dummy_hash().substr(0, 29), 0), 0u) << out;
  EXPECT_EQ(out.size(), 60u);
  Duration dummy = Duration::max(), known = Duration::max();
  for (int i = 0; i < 3; ++i) {
    dummy = std::min(dummy, BasicAuth::BcryptVerify("wrong", auth.dummy_hash()).cpu);
    known = std::min(known, BasicAuth::BcryptVerify("wrong", real).cpu);
  }
  std::printf("bcrypt cost 8: dummy %.2f ms, real %.2f ms of CPU\n", ToSeconds(dummy) * 1e3, ToSeconds(known) * 1e3);
  EXPECT_GT(ToSeconds(dummy), 0.5 * ToSeconds(known));
  EXPECT_LT(ToSeconds(dummy), 2.0 * ToSeconds(known));
}

TEST(BasicAuthTest, PasswordWithANulIsRefusedUnverified) {
  const std::string real = Hash("pw", 4);
  EXPECT_TRUE(BasicAuth::BcryptVerify("pw", real).match);
  EXPECT_FALSE(BasicAuth::BcryptVerify(std::string("pw\0x", 4), real).match) << "crypt(3) would stop at the NUL";

  testing::FakeClock clock;
  FakeVerifier v;
  v.good_password = "pw";
  BasicAuth auth({{"prometheus", kUserHash}}, clock, v.Fn());
  EXPECT_EQ(auth.Check(Header(std::string("prometheus:pw\0x", 15)).c_str(), "10.0.0.1"), Verdict::kDenied);
  EXPECT_EQ(auth.Check(Header(std::string("prome\0theus:pw", 14)).c_str(), "10.0.0.1"), Verdict::kDenied);
  EXPECT_TRUE(v.calls.empty());
  EXPECT_EQ(auth.Check(Header("prometheus:pw").c_str(), "10.0.0.1"), Verdict::kAllowed);
}

TEST(BasicAuthTest, MalformedHeadersAreDeniedUnverified) {
  testing::FakeClock clock;
  FakeVerifier v;
  BasicAuth auth({{"prometheus", kUserHash}}, clock, v.Fn());
  for (const char* h : {"", "Bearer abc", "Basic", "Basic !!!!", "Basic cHJvbWV0aGV1cw=="}) {  // last: no colon
    EXPECT_EQ(auth.Check(h, "10.0.0.1"), Verdict::kDenied) << h;
  }
  EXPECT_EQ(auth.Check(nullptr, "10.0.0.1"), Verdict::kDenied);
  EXPECT_TRUE(v.calls.empty());
  EXPECT_EQ(auth.Check(("bAsIc  " + Base64("prometheus:s3cret")).c_str(), "10.0.0.1"), Verdict::kAllowed)
      << "the scheme is case-insensitive";
}

TEST(BasicAuthTest, AVerifiedPasswordIsRememberedForItsUser) {
  testing::FakeClock clock;
  FakeVerifier v;
  BasicAuth auth({{"prometheus", kUserHash}}, clock, v.Fn());
  for (int i = 0; i < 3; ++i) EXPECT_EQ(auth.Check(Header("prometheus:s3cret").c_str(), "10.0.0.1"), Verdict::kAllowed);
  EXPECT_EQ(v.calls.size(), 1u) << "one bcrypt, then the remembered password";
  EXPECT_EQ(auth.Check(Header("prometheus:s3cre").c_str(), "10.0.0.1"), Verdict::kDenied);
  EXPECT_EQ(auth.Check(Header("prometheus:s3cretX").c_str(), "10.0.0.1"), Verdict::kDenied);
  EXPECT_EQ(v.calls.size(), 3u) << "a different password is verified";
}

// Each failed verification charges its CPU time to the client's budget and to the
// total; an empty budget refuses without verifying, and refills with time.
TEST(BasicAuthTest, FailedLoginsSpendACpuBudgetPerClientAndInTotal) {
  testing::FakeClock clock;
  FakeVerifier v;  // 100 ms of CPU per verification
  BasicAuth auth({{"prometheus", kUserHash}}, clock, v.Fn());
  const auto wrong = Header("prometheus:wrong");
  int verified = 0;
  for (int i = 0; i < 20 && auth.Check(wrong.c_str(), "10.0.0.66") == Verdict::kDenied; ++i) ++verified;
  EXPECT_EQ(verified, 5) << "500 ms of burst per client";
  EXPECT_EQ(auth.Check(wrong.c_str(), "10.0.0.66"), Verdict::kThrottled);
  EXPECT_EQ(v.calls.size(), 5u);

  // Another client still has its own budget, and the total has 500 ms left.
  EXPECT_EQ(auth.Check(Header("prometheus:s3cret").c_str(), "10.0.0.1"), Verdict::kAllowed);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(auth.Check(wrong.c_str(), "10.0.0.2"), Verdict::kDenied);
  EXPECT_EQ(auth.Check(wrong.c_str(), "10.0.0.3"), Verdict::kThrottled) << "the total is spent";
  EXPECT_EQ(auth.Check(Header("nobody:s3cret").c_str(), "10.0.0.3"), Verdict::kThrottled);
  EXPECT_EQ(auth.Check(Header("prometheus:s3cret").c_str(), "10.0.0.1"), Verdict::kAllowed)
      << "a remembered password needs no bcrypt and passes";

  // 10 % of a core refills the total: 1 s brings back 100 ms, room for one more.
  clock.Advance(1s);
  const size_t before = v.calls.size();
  EXPECT_EQ(auth.Check(wrong.c_str(), "10.0.0.3"), Verdict::kDenied);
  EXPECT_EQ(auth.Check(wrong.c_str(), "10.0.0.3"), Verdict::kThrottled);
  EXPECT_EQ(v.calls.size(), before + 1);
  // At 5 % of a core, the first client's budget is back after 2 s; the total's too.
  clock.Advance(2s);
  EXPECT_EQ(auth.Check(wrong.c_str(), "10.0.0.66"), Verdict::kDenied);
}

}  // namespace
}  // namespace hbfence
