// SPDX-License-Identifier: Apache-2.0

// src/agent_properties.h: ParseJavaProperties (java.util.Properties.load semantics,
// line numbers, the \uXXXX error) and MapAgentProperties (CloudStack keys -> hbfence
// defaults, warnings, sources).
#include "src/agent_properties.h"

#include <chrono>
#include <ostream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace hbfence {

void PrintTo(const PropertyValue& v, std::ostream* os) { *os << '"' << v.value << "\"@" << v.line; }

namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kFile[] = "/etc/cloudstack/agent/agent.properties";

struct ParseCase {
  const char* name;
  std::string text;
  Properties want;
};

// What Java's Properties.load() keeps for each input, with the line where each key's
// logical line starts.
const std::vector<ParseCase> kParseCases = {
    {"EqualsColonAndWhitespaceSeparate", "a=1\nb:2\nc 3\nd\t4\ne\f5\n",
     {{"a", {"1", 1}}, {"b", {"2", 2}}, {"c", {"3", 3}}, {"d", {"4", 4}}, {"e", {"5", 5}}}},
    {"WhitespaceAroundSeparator", "a  =  1\nb :2\nc:  3\n", {{"a", {"1", 1}}, {"b", {"2", 2}}, {"c", {"3", 3}}}},
    {"OnlyOneSeparatorIsEaten", "a = = 1\nb :: 2\nc =:3\n", {{"a", {"= 1", 1}}, {"b", {": 2", 2}}, {"c", {":3", 3}}}},
    {"WhitespaceThenSeparator", "key  = value\n", {{"key", {"value", 1}}}},
    {"SecondEqualsBelongsToValue", "a=b=c\n", {{"a", {"b=c", 1}}}},
    {"TrailingWhitespaceIsKept", "a=b  \n", {{"a", {"b  ", 1}}}},
    {"EmptyValue", "a=\nb:\nc =   \n", {{"a", {"", 1}}, {"b", {"", 2}}, {"c", {"", 3}}}},
    {"KeyWithoutValue", "lonely\n  spaced   \n", {{"lonely", {"", 1}}, {"spaced", {"", 2}}}},
    {"EscapedSeparatorsInKey", "key\\ with\\ spaces = v\na\\=b\\:c=d\n",
     {{"key with spaces", {"v", 1}}, {"a=b:c", {"d", 2}}}},
    {"LeadingWhitespaceIgnored", "   a=1\n\t\fb=2\n", {{"a", {"1", 1}}, {"b", {"2", 2}}}},
    {"HashAndBangComments", "# a=1\n! b=2\n   # c=3\n\t! d=4\ne=5\n", {{"e", {"5", 5}}}},
    {"CommentCharLaterIsData", "a=#1\nb!=2\n", {{"a", {"#1", 1}}, {"b!", {"2", 2}}}},
    {"BlankLinesSkipped", "\n\n  \n\t\na=1\n\n", {{"a", {"1", 5}}}},
    {"CommentDoesNotContinue", "# comment \\\na=1\n", {{"a", {"1", 2}}}},
    {"Continuation", "fruits apple, \\\n        banana, \\\n  pear\nnext=1\n",
     {{"fruits", {"apple, banana, pear", 1}}, {"next", {"1", 4}}}},
    {"ContinuationDropsLeadingWhitespaceOnly", "a=x\\\n \t  y  z\n", {{"a", {"xy  z", 1}}}},
    {"ContinuationLineStartingWithHashIsData", "a=x\\\n#y\n", {{"a", {"x#y", 1}}}},
    {"ContinuationInsideKey", "ab\\\n  cd=1\n", {{"abcd", {"1", 1}}}},
    {"EmptyContinuationLineEndsTheValue", "a=x\\\n\nb=2\n", {{"a", {"x", 1}}, {"b", {"2", 3}}}},
    {"ContinuationAtEndOfInput", "a=x\\", {{"a", {"x", 1}}}},
    {"ContinuationThenEndOfInput", "a=x\\\n", {{"a", {"x", 1}}}},
    {"EvenBackslashesDoNotContinue", "a=x\\\\\nb=2\n", {{"a", {"x\\", 1}}, {"b", {"2", 2}}}},
    {"ThreeBackslashesContinue", "a=x\\\\\\\ny\n", {{"a", {"x\\y", 1}}}},
    {"CharacterEscapes", "a=\\t\\n\\r\\f\\\\\\q\\=\\:\\ \\#\n", {{"a", {"\t\n\r\f\\q=: #", 1}}}},
    {"UnicodeEscapes", "a=\\u0041\\u00e9\\u20AC\n\\u006Bey=v\n",
     {{"a", {"A\xC3\xA9\xE2\x82\xAC", 1}}, {"key", {"v", 2}}}},
    {"UnicodeSurrogatePair", "a=\\uD83D\\uDE00\n", {{"a", {"\xF0\x9F\x98\x80", 1}}}},
    {"LoneSurrogateBecomesReplacement", "a=\\uD83Dx\n", {{"a", {"\xEF\xBF\xBDx", 1}}}},
    {"CrLfTerminators", "a=1\r\nb=2\r\n\r\nc=3", {{"a", {"1", 1}}, {"b", {"2", 2}}, {"c", {"3", 4}}}},
    {"LoneCrTerminators", "a=1\rb=2\r\rc=3\r", {{"a", {"1", 1}}, {"b", {"2", 2}}, {"c", {"3", 4}}}},
    {"ContinuationAcrossCrLf", "a=x\\\r\n   y\r\nb=2\r\n", {{"a", {"xy", 1}}, {"b", {"2", 3}}}},
    {"ContinuationAcrossLoneCr", "a=x\\\r   y\rb=2\r", {{"a", {"xy", 1}}, {"b", {"2", 3}}}},
    {"LineCountsIncludeContinuedLines", "a=1\\\n2\\\n3\nb=4\n", {{"a", {"123", 1}}, {"b", {"4", 4}}}},
    {"DuplicateKeyLastWinsWithItsLine", "a=1\nb=2\na=3\n", {{"a", {"3", 3}}, {"b", {"2", 2}}}},
    {"NoFinalNewline", "a=1", {{"a", {"1", 1}}}},
    {"EmptyInput", "", {}},
    {"OnlyComments", "# x\n!y", {}},
    // A value glued to the next key after a lost newline: Java sees one key whose
    // value is everything after the first '='.
    {"GluedLinesAreOneProperty", "kvm.heartbeat.fence.action=log-onlykvm.heartbeat.update.frequency=1000\n",
     {{"kvm.heartbeat.fence.action", {"log-onlykvm.heartbeat.update.frequency=1000", 1}}}},
};

class ParseJavaPropertiesTest : public ::testing::TestWithParam<ParseCase> {};

TEST_P(ParseJavaPropertiesTest, MatchesJava) {
  const auto& c = GetParam();
  const auto got = ParseJavaProperties(c.text);
  ASSERT_TRUE(got.ok()) << got.error();
  EXPECT_EQ(got.value(), c.want);
}

INSTANTIATE_TEST_SUITE_P(Table, ParseJavaPropertiesTest, ::testing::ValuesIn(kParseCases),
                         [](const auto& info) { return std::string(info.param.name); });

struct ErrorCase {
  const char* name;
  std::string text;
  std::string want;
};

const std::vector<ErrorCase> kErrorCases = {
    {"NonHexDigit", "a=1\nb=\\u12G4\n", "line 2: malformed \\uXXXX escape \"\\u12G4\""},
    {"TooShortAtEnd", "a=\\u12", "line 1: malformed \\uXXXX escape \"\\u12\""},
    {"InKey", "\n\nk\\uzzzz=1\n", "line 3: malformed \\uXXXX escape \"\\uzzzz\""},
    {"LineOfLogicalLineStart", "a=x\\\n  \\u00", "line 1: malformed \\uXXXX escape \"\\u00\""},
};

class ParseJavaPropertiesErrorTest : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(ParseJavaPropertiesErrorTest, MalformedUnicodeEscapeIsAnErrorWithItsLine) {
  const auto& c = GetParam();
  const auto got = ParseJavaProperties(c.text);
  ASSERT_FALSE(got.ok());
  EXPECT_THAT(got.error(), HasSubstr(c.want));
}

INSTANTIATE_TEST_SUITE_P(Table, ParseJavaPropertiesErrorTest, ::testing::ValuesIn(kErrorCases),
                         [](const auto& info) { return std::string(info.param.name); });

// ---- MapAgentProperties ----

AgentDefaults Map(std::string_view text) {
  auto props = ParseJavaProperties(text);
  EXPECT_TRUE(props.ok()) << props.error();
  return MapAgentProperties(props.ok() ? props.value() : Properties{}, kFile);
}

TEST(MapAgentPropertiesTest, NothingRelevantMeansEverythingEmpty) {
  const auto d = Map("guid=0b6a\nhost=10.0.0.1\nheartbeat.unrelated=5\n");
  EXPECT_FALSE(d.action);
  EXPECT_FALSE(d.custom_script);
  EXPECT_FALSE(d.interval);
  EXPECT_FALSE(d.timeout);
  EXPECT_FALSE(d.lease);
  EXPECT_TRUE(d.sources.empty());
  EXPECT_TRUE(d.warnings.empty());
  EXPECT_FALSE(d.unknown_fence_action);
}

struct ActionCase {
  const char* value;
  FenceActionKind want;
};

class FenceActionValueTest : public ::testing::TestWithParam<ActionCase> {};

TEST_P(FenceActionValueTest, EachKnownValueMapsWithoutWarning) {
  const auto d = Map(std::string("# agent\nkvm.heartbeat.fence.action=") + GetParam().value + "\n");
  ASSERT_TRUE(d.action);
  EXPECT_EQ(*d.action, GetParam().want);
  EXPECT_FALSE(d.unknown_fence_action);
  EXPECT_EQ(d.sources.at("fence.action"), std::string(kFile) + ":2 (kvm.heartbeat.fence.action)");
}

INSTANTIATE_TEST_SUITE_P(Table, FenceActionValueTest,
                         ::testing::Values(ActionCase{"hard-reboot", FenceActionKind::kHardReboot},
                                           ActionCase{"reboot", FenceActionKind::kHardReboot},
                                           ActionCase{"graceful-reboot", FenceActionKind::kGracefulReboot},
                                           ActionCase{"restart-agent", FenceActionKind::kRestartAgent},
                                           ActionCase{"log-only", FenceActionKind::kLogOnly},
                                           ActionCase{"custom", FenceActionKind::kCustom}),
                         [](const auto& info) {
                           std::string name = info.param.value;
                           std::erase(name, '-');
                           return name;
                         });

TEST(MapAgentPropertiesTest, KnownActionsOtherThanCustomWarnNothing) {
  EXPECT_TRUE(Map("kvm.heartbeat.fence.action=restart-agent\n").warnings.empty());
}

TEST(MapAgentPropertiesTest, UnknownActionFallsBackToHardRebootAndNamesTheValue) {
  const auto d = Map("kvm.heartbeat.fence.action=shutdown\n");
  ASSERT_TRUE(d.action);
  EXPECT_EQ(*d.action, FenceActionKind::kHardReboot);
  EXPECT_TRUE(d.unknown_fence_action);
  ASSERT_EQ(d.warnings.size(), 1u);
  EXPECT_EQ(d.warnings[0], std::string(kFile) +
                               ":1: kvm.heartbeat.fence.action \"shutdown\" is not one of hard-reboot, reboot, "
                               "graceful-reboot, restart-agent, log-only, custom, destroy-vms: falling back to hard-reboot, as "
                               "CloudStack's shell helper does");
  EXPECT_EQ(d.sources.at("fence.action"), std::string(kFile) + ":1 (kvm.heartbeat.fence.action)");
}

// PR #13090's helper, the component that acts on the value without hbfence, reads it
// with `cut -d= -f2- | tr -d '[:space:]'`: trailing blanks (which Java keeps) and
// tabs are gone before its `case`. hbfence must not reboot where it logs only.
TEST(MapAgentPropertiesTest, WhitespaceInTheActionIsDroppedAsTheHelperDoes) {
  for (const char* line : {"kvm.heartbeat.fence.action = log-only   \n", "kvm.heartbeat.fence.action=log-only\t\n",
                           "kvm.heartbeat.fence.action=log-only \t \f\n", "kvm.heartbeat.fence.action=log-only\\t\r\n"}) {
    const auto d = Map(line);
    ASSERT_TRUE(d.action) << line;
    EXPECT_EQ(*d.action, FenceActionKind::kLogOnly) << line;
    EXPECT_FALSE(d.unknown_fence_action) << line;
    EXPECT_TRUE(d.warnings.empty()) << line << d.warnings.front();
  }
}

TEST(MapAgentPropertiesTest, WhitespaceInTheCustomScriptIsDroppedAsTheHelperDoes) {
  const auto d = Map("kvm.heartbeat.fence.action=custom \nkvm.heartbeat.fence.custom.script=/usr/local/sbin/fence.sh  \n");
  EXPECT_EQ(d.action, FenceActionKind::kCustom);
  EXPECT_EQ(d.custom_script, std::filesystem::path("/usr/local/sbin/fence.sh"));
}

// Not a setting: the device whose address names this host in CloudStack's heartbeat
// files, which check-config compares with host.id (src/host_identity.h).
TEST(MapAgentPropertiesTest, PrivateNetworkDeviceIsKeptWithItsLine) {
  auto d = Map("# agent\nprivate.network.device = cloudbr7 \n");
  EXPECT_EQ(d.private_network_device, "cloudbr7");
  EXPECT_EQ(d.private_network_device_line, 2u);
  EXPECT_TRUE(d.warnings.empty());
  EXPECT_FALSE(Map("private.network.device=\n").private_network_device) << "blank is absent";
}

TEST(MapAgentPropertiesTest, ActionValuesAreExactLikeTheShellCase) {
  for (const char* value : {"Log-Only", "hard_reboot", "log-only;"}) {
    const auto d = Map(std::string("kvm.heartbeat.fence.action=") + value + "\n");
    ASSERT_TRUE(d.action) << value;
    EXPECT_EQ(*d.action, FenceActionKind::kHardReboot) << value;
    EXPECT_TRUE(d.unknown_fence_action) << value;
  }
}

TEST(MapAgentPropertiesTest, GluedLinesGiveAnUnknownActionAndNoFrequency) {
  const auto d = Map("kvm.heartbeat.fence.action=log-onlykvm.heartbeat.update.frequency=1000\n");
  ASSERT_TRUE(d.action);
  EXPECT_EQ(*d.action, FenceActionKind::kHardReboot);
  EXPECT_TRUE(d.unknown_fence_action);
  ASSERT_EQ(d.warnings.size(), 1u);
  EXPECT_THAT(d.warnings[0], HasSubstr("\"log-onlykvm.heartbeat.update.frequency=1000\" is not one of"));
  EXPECT_FALSE(d.interval);
  EXPECT_FALSE(d.lease);
}

TEST(MapAgentPropertiesTest, BlankActionIsAbsentAsInCloudStack) {
  const auto d = Map("kvm.heartbeat.fence.action=   \n");
  EXPECT_FALSE(d.action);
  EXPECT_FALSE(d.unknown_fence_action);
  EXPECT_TRUE(d.warnings.empty());
}

TEST(MapAgentPropertiesTest, RebootDisabledMeansLogOnly) {
  const auto d = Map("\nreboot.host.and.alert.management.on.heartbeat.timeout=false\n");
  ASSERT_TRUE(d.action);
  EXPECT_EQ(*d.action, FenceActionKind::kLogOnly);
  EXPECT_EQ(d.sources.at("fence.action"),
            std::string(kFile) + ":2 (reboot.host.and.alert.management.on.heartbeat.timeout)");
  EXPECT_TRUE(d.warnings.empty());
}

TEST(MapAgentPropertiesTest, RebootDisabledWinsOverFenceActionWithAWarning) {
  const auto d = Map(
      "kvm.heartbeat.fence.action=hard-reboot\n"
      "reboot.host.and.alert.management.on.heartbeat.timeout=false\n");
  ASSERT_TRUE(d.action);
  EXPECT_EQ(*d.action, FenceActionKind::kLogOnly);
  EXPECT_EQ(d.sources.at("fence.action"),
            std::string(kFile) + ":2 (reboot.host.and.alert.management.on.heartbeat.timeout)");
  EXPECT_THAT(d.warnings,
              ElementsAre(std::string(kFile) +
                          ":1: kvm.heartbeat.fence.action \"hard-reboot\" is overridden by "
                          "reboot.host.and.alert.management.on.heartbeat.timeout=false (line 2): log-only"));
}

TEST(MapAgentPropertiesTest, RebootDisabledAlsoOverridesAnUnknownAction) {
  const auto d = Map(
      "reboot.host.and.alert.management.on.heartbeat.timeout=FALSE\n"
      "kvm.heartbeat.fence.action=poweroff\n");
  ASSERT_TRUE(d.action);
  EXPECT_EQ(*d.action, FenceActionKind::kLogOnly);
  EXPECT_TRUE(d.unknown_fence_action);
  ASSERT_EQ(d.warnings.size(), 1u);
  EXPECT_THAT(d.warnings[0], HasSubstr("\"poweroff\" is not a known fence action and is overridden by"));
}

TEST(MapAgentPropertiesTest, RebootDisabledAgreesWithLogOnlySilently) {
  const auto d = Map(
      "kvm.heartbeat.fence.action=log-only\n"
      "reboot.host.and.alert.management.on.heartbeat.timeout=no\n");
  EXPECT_EQ(d.action, FenceActionKind::kLogOnly);
  EXPECT_TRUE(d.warnings.empty());
}

TEST(MapAgentPropertiesTest, RebootEnabledChangesNothing) {
  EXPECT_FALSE(Map("reboot.host.and.alert.management.on.heartbeat.timeout=true\n").action);
  const auto d = Map(
      "kvm.heartbeat.fence.action=graceful-reboot\n"
      "reboot.host.and.alert.management.on.heartbeat.timeout= True \n");
  EXPECT_EQ(d.action, FenceActionKind::kGracefulReboot);
  EXPECT_TRUE(d.warnings.empty());
}

TEST(MapAgentPropertiesTest, RebootFlagThatIsNoBooleanIsIgnoredWithAWarning) {
  const auto d = Map(
      "kvm.heartbeat.fence.action=hard-reboot\n"
      "reboot.host.and.alert.management.on.heartbeat.timeout=flase\n");
  EXPECT_EQ(d.action, FenceActionKind::kHardReboot);
  EXPECT_THAT(d.warnings,
              ElementsAre(std::string(kFile) +
                          ":2: reboot.host.and.alert.management.on.heartbeat.timeout \"flase\" is not true or "
                          "false: ignored"));
}

TEST(MapAgentPropertiesTest, CustomScriptAbsoluteAndRelative) {
  auto d = Map("kvm.heartbeat.fence.action=custom\nkvm.heartbeat.fence.custom.script=/usr/local/sbin/fence.sh\n");
  EXPECT_EQ(d.action, FenceActionKind::kCustom);
  EXPECT_EQ(d.custom_script, std::filesystem::path("/usr/local/sbin/fence.sh"));
  EXPECT_EQ(d.sources.at("fence.custom_script"), std::string(kFile) + ":2 (kvm.heartbeat.fence.custom.script)");
  EXPECT_TRUE(d.warnings.empty());

  d = Map("kvm.heartbeat.fence.custom.script=hooks/../fence.sh\n");
  EXPECT_EQ(d.custom_script, std::filesystem::path("/etc/cloudstack/agent/fence.sh"));
}

TEST(MapAgentPropertiesTest, CustomWithoutScriptWarnsThatHbfenceScriptApplies) {
  const auto d = Map("kvm.heartbeat.fence.action=custom\n");
  EXPECT_EQ(d.action, FenceActionKind::kCustom);
  EXPECT_FALSE(d.custom_script);
  EXPECT_THAT(d.warnings, ElementsAre(std::string(kFile) +
                                      ":1: kvm.heartbeat.fence.action is custom but kvm.heartbeat.fence.custom.script "
                                      "is not set: fence.custom_script from hbfence.toml or its default applies"));
}

struct TimingCase {
  const char* name;
  std::string text;
  std::optional<Duration> interval, timeout, lease;
};

// lease = frequency + max.tries × (timeout + retry.sleep), CloudStack's defaults
// (60000, 5, 10000, 60000 ms) filling in absent keys: 60 + 5 × 70 = 410 s.
const std::vector<TimingCase> kTimingCases = {
    {"FrequencyOnly", "kvm.heartbeat.update.frequency=10000\n", 10s, std::nullopt, 10s + 5 * 70s},
    {"TimeoutOnly", "heartbeat.update.timeout=30000\n", std::nullopt, 30s, 60s + 5 * 40s},
    {"MaxTriesOnly", "kvm.heartbeat.update.max.tries=2\n", std::nullopt, std::nullopt, 60s + 2 * 70s},
    {"RetrySleepOnly", "kvm.heartbeat.update.retry.sleep=2000\n", std::nullopt, std::nullopt, 60s + 5 * 62s},
    {"AllFour",
     "kvm.heartbeat.update.frequency=5000\nkvm.heartbeat.update.max.tries=3\n"
     "kvm.heartbeat.update.retry.sleep=1000\nheartbeat.update.timeout=4000\n",
     5s, 4s, 5s + 3 * 5s},
    {"CloudStackDefaultsSpelledOut",
     "kvm.heartbeat.update.frequency=60000\nkvm.heartbeat.update.max.tries=5\n"
     "kvm.heartbeat.update.retry.sleep=10000\nheartbeat.update.timeout=60000\n",
     60s, 60s, 410s},
    {"MillisecondsAreKept", "kvm.heartbeat.update.frequency=1500\n", 1500ms, std::nullopt, 1500ms + 5 * 70s},
    {"SurroundingSpacesTrimmed", "heartbeat.update.timeout =  2000  \n", std::nullopt, 2s, 60s + 5 * 12s},
};

class TimingTest : public ::testing::TestWithParam<TimingCase> {};

TEST_P(TimingTest, MapsAndDerivesTheLease) {
  const auto& c = GetParam();
  const auto d = Map(c.text);
  EXPECT_EQ(d.interval, c.interval);
  EXPECT_EQ(d.timeout, c.timeout);
  EXPECT_EQ(d.lease, c.lease);
  EXPECT_TRUE(d.warnings.empty());
  // hbfence requires both below the lease; the formula guarantees it.
  ASSERT_TRUE(d.lease);
  EXPECT_LT(d.interval.value_or(Duration::zero()), *d.lease);
  EXPECT_LT(d.timeout.value_or(Duration::zero()), *d.lease);
}

INSTANTIATE_TEST_SUITE_P(Table, TimingTest, ::testing::ValuesIn(kTimingCases),
                         [](const auto& info) { return std::string(info.param.name); });

struct InvalidNumberCase {
  const char* name;
  std::string value;
};

class InvalidNumberTest : public ::testing::TestWithParam<InvalidNumberCase> {};

TEST_P(InvalidNumberTest, IsAWarningAndTheKeyIsIgnored) {
  const auto d = Map("kvm.heartbeat.update.frequency=" + GetParam().value + "\n");
  EXPECT_FALSE(d.interval);
  EXPECT_FALSE(d.lease);  // no valid timing key left: nothing derived
  EXPECT_TRUE(d.sources.empty());
  ASSERT_EQ(d.warnings.size(), 1u);
  EXPECT_THAT(d.warnings[0], HasSubstr(std::string(kFile) + ":1: kvm.heartbeat.update.frequency \"" +
                                       GetParam().value + "\""));
  EXPECT_THAT(d.warnings[0], HasSubstr(": ignored"));
}

INSTANTIATE_TEST_SUITE_P(Table, InvalidNumberTest,
                         ::testing::Values(InvalidNumberCase{"Zero", "0"}, InvalidNumberCase{"Negative", "-5000"},
                                           InvalidNumberCase{"Fraction", "1.5"},
                                           InvalidNumberCase{"Unit", "60000ms"},
                                           InvalidNumberCase{"Word", "sixty"},
                                           InvalidNumberCase{"Overflow", "99999999999999999999"},
                                           InvalidNumberCase{"MoreThanADay", "86400001"}),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(MapAgentPropertiesTest, InvalidKeyIsReplacedByTheCloudStackDefaultInTheLease) {
  const auto d = Map("kvm.heartbeat.update.max.tries=0\nheartbeat.update.timeout=20000\n");
  EXPECT_EQ(d.timeout, 20s);
  EXPECT_EQ(d.lease, 60s + 5 * 30s);
  EXPECT_THAT(d.warnings, ElementsAre(std::string(kFile) +
                                      ":1: kvm.heartbeat.update.max.tries \"0\" is not a whole number of tries > 0: "
                                      "ignored"));
  EXPECT_EQ(d.sources.at("heartbeat.lease_seconds"),
            std::string(kFile) + ":2 (heartbeat.update.timeout) + CloudStack defaults");
}

TEST(MapAgentPropertiesTest, TooManyTriesIsIgnored) {
  const auto d = Map("kvm.heartbeat.update.max.tries=1001\n");
  EXPECT_FALSE(d.lease);
  EXPECT_THAT(d.warnings, ElementsAre(std::string(kFile) +
                                      ":1: kvm.heartbeat.update.max.tries \"1001\" is more than 1000 tries: ignored"));
}

TEST(MapAgentPropertiesTest, SourcesNameFileLineAndProperty) {
  const auto d = Map(
      "# CloudStack agent\n"
      "kvm.heartbeat.update.frequency=5000\n"
      "heartbeat.update.timeout=4000\n"
      "kvm.heartbeat.update.max.tries=3\n"
      "kvm.heartbeat.update.retry.sleep=1000\n"
      "kvm.heartbeat.fence.action=restart-agent\n");
  EXPECT_EQ(d.sources.at("heartbeat.interval_seconds"), std::string(kFile) + ":2 (kvm.heartbeat.update.frequency)");
  EXPECT_EQ(d.sources.at("heartbeat.timeout_seconds"), std::string(kFile) + ":3 (heartbeat.update.timeout)");
  EXPECT_EQ(d.sources.at("heartbeat.lease_seconds"),
            std::string(kFile) + ":4 (kvm.heartbeat.update.max.tries), " + kFile +
                ":5 (kvm.heartbeat.update.retry.sleep), " + kFile + ":2 (kvm.heartbeat.update.frequency), " + kFile +
                ":3 (heartbeat.update.timeout)")
      << "the lease's own keys first: an error about the lease points at max.tries";
  EXPECT_EQ(d.sources.at("fence.action"), std::string(kFile) + ":6 (kvm.heartbeat.fence.action)");
  EXPECT_EQ(d.sources.size(), 4u);
}

TEST(MapAgentPropertiesTest, SourceLineIsWhereTheContinuedLineStarts) {
  const auto d = Map("\n\nkvm.heartbeat.update.frequency=\\\n    30000\n");
  EXPECT_EQ(d.interval, 30s);
  EXPECT_EQ(d.sources.at("heartbeat.interval_seconds"), std::string(kFile) + ":3 (kvm.heartbeat.update.frequency)");
}

}  // namespace
}  // namespace hbfence
