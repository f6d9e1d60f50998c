// SPDX-License-Identifier: Apache-2.0

#include "fence/fence_config.h"

#include <array>
#include <utility>

namespace hbfence {
namespace {

constexpr std::array<std::pair<std::string_view, FenceActionKind>, 7> kActionNames{{
    {"hard-reboot", FenceActionKind::kHardReboot},
    {"graceful-reboot", FenceActionKind::kGracefulReboot},
    {"restart-agent", FenceActionKind::kRestartAgent},
    {"log-only", FenceActionKind::kLogOnly},
    {"custom", FenceActionKind::kCustom},
    {"destroy-vms", FenceActionKind::kDestroyVms},
    {"reboot", FenceActionKind::kHardReboot},  // alias last, so Name() finds the canonical one
}};

constexpr std::array<std::pair<std::string_view, Policy>, 3> kPolicyNames{{
    {"any", Policy::kAny}, {"all", Policy::kAll}, {"quorum", Policy::kQuorum}}};

template <typename Table, typename Value>
std::string_view NameIn(const Table& table, Value v) {
  for (const auto& [name, value] : table) {
    if (value == v) return name;
  }
  return "unknown";
}

template <typename Table>
auto ParseIn(const Table& table, std::string_view text) -> std::optional<typename Table::value_type::second_type> {
  for (const auto& [name, value] : table) {
    if (name == text) return value;
  }
  return std::nullopt;
}

}  // namespace

std::string_view Name(FenceActionKind action) { return NameIn(kActionNames, action); }
std::string_view Name(Policy policy) { return NameIn(kPolicyNames, policy); }
std::optional<FenceActionKind> ParseFenceAction(std::string_view text) { return ParseIn(kActionNames, text); }
std::optional<Policy> ParsePolicy(std::string_view text) { return ParseIn(kPolicyNames, text); }

bool RebootsHost(FenceActionKind action) {
  return action == FenceActionKind::kHardReboot || action == FenceActionKind::kGracefulReboot ||
         action == FenceActionKind::kCustom;
}

}  // namespace hbfence
