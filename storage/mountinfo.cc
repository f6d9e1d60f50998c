// SPDX-License-Identifier: Apache-2.0

#include "storage/mountinfo.h"

#include <algorithm>
#include <array>
#include <map>

namespace hbfence {
namespace {

std::vector<std::string_view> SplitFields(std::string_view line) {
  std::vector<std::string_view> fields;
  size_t start = 0;
  while (start < line.size()) {
    const size_t end = std::min(line.find(' ', start), line.size());
    if (end > start) fields.push_back(line.substr(start, end - start));
    start = end + 1;
  }
  return fields;
}

bool IsOctalDigit(char c) { return c >= '0' && c <= '7'; }

// The kernel writes space, tab, newline and backslash in paths as \ooo (show_mountinfo's
// mangle()); any other backslash is literal.
std::string Unmangle(std::string_view field) {
  std::string out;
  for (size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && i + 3 < field.size() && IsOctalDigit(field[i + 1]) && IsOctalDigit(field[i + 2]) &&
        IsOctalDigit(field[i + 3])) {
      out += static_cast<char>(((field[i + 1] - '0') << 6) | ((field[i + 2] - '0') << 3) | (field[i + 3] - '0'));
      i += 3;
    } else {
      out += field[i];
    }
  }
  return out;
}

std::filesystem::path Normal(const std::filesystem::path& p) {
  std::filesystem::path n = p.lexically_normal();
  // "/mnt/" normalises to "/mnt/" (an empty last component): compare as "/mnt".
  if (!n.has_filename() && n.has_relative_path()) n = n.parent_path();
  return n;
}

}  // namespace

std::vector<MountEntry> ParseMountInfo(std::string_view text) {
  std::vector<MountEntry> entries;
  size_t start = 0;
  while (start < text.size()) {
    const size_t end = std::min(text.find('\n', start), text.size());
    const auto fields = SplitFields(text.substr(start, end - start));
    start = end + 1;
    // Six fixed fields, any number of optional ones ("shared:1 master:2"), then "-".
    const auto separator = std::find(fields.begin(), fields.end(), "-");
    if (separator == fields.end() || separator - fields.begin() < 6 || fields.end() - separator < 3) continue;
    MountEntry e{Unmangle(fields[4]), Unmangle(*(separator + 1)), Unmangle(*(separator + 2))};
    if (!e.mount_point.is_absolute()) continue;
    entries.push_back(std::move(e));
  }
  return entries;
}

std::vector<MountEntry> PoolMounts(const std::vector<MountEntry>& all, const std::filesystem::path& prefix) {
  const std::filesystem::path parent = Normal(prefix);
  std::map<std::filesystem::path, const MountEntry*> by_point;  // sorted; a later mount replaces an earlier one
  for (const auto& e : all) {
    const std::filesystem::path point = Normal(e.mount_point);
    if (point.has_filename() && point.parent_path() == parent) by_point[point] = &e;
  }
  std::vector<MountEntry> pools;
  for (const auto& [point, e] : by_point) pools.push_back(*e);
  return pools;
}

const MountEntry* MountContaining(const std::vector<MountEntry>& all, const std::filesystem::path& path) {
  if (!path.is_absolute()) return nullptr;
  const std::filesystem::path target = Normal(path);
  const MountEntry* best = nullptr;
  size_t best_depth = 0;
  for (const auto& e : all) {
    const std::filesystem::path point = Normal(e.mount_point);
    const auto [point_end, target_end] = std::mismatch(point.begin(), point.end(), target.begin(), target.end());
    if (point_end != point.end()) continue;
    const auto depth = static_cast<size_t>(std::distance(point.begin(), point.end()));
    if (!best || depth >= best_depth) {  // >=: on the same point the later mount is on top
      best = &e;
      best_depth = depth;
    }
  }
  return best;
}

}  // namespace hbfence
