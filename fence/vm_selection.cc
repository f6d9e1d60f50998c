// SPDX-License-Identifier: Apache-2.0

#include "fence/vm_selection.h"

#include <sys/stat.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include <algorithm>
#include <memory>
#include <set>

namespace hbfence {
namespace {

std::string_view Name(const xmlNode* n) { return reinterpret_cast<const char*>(n->name); }

std::string Attr(const xmlNode* n, const char* name) {
  xmlChar* v = xmlGetProp(n, reinterpret_cast<const xmlChar*>(name));
  if (!v) return {};
  std::string out(reinterpret_cast<const char*>(v));
  xmlFree(v);
  return out;
}

std::string Text(const xmlNode* n) {
  xmlChar* v = xmlNodeGetContent(n);
  if (!v) return {};
  std::string out(reinterpret_cast<const char*>(v));
  xmlFree(v);
  return out;
}

const xmlNode* Child(const xmlNode* n, std::string_view name) {
  for (const xmlNode* c = n->children; c; c = c->next) {
    if (c->type == XML_ELEMENT_NODE && Name(c) == name) return c;
  }
  return nullptr;
}

// A <source> names a file by one of these attributes, depending on its type.
constexpr const char* kPathAttributes[] = {"file", "dir", "path", "dev"};

class Collector {
 public:
  explicit Collector(std::vector<DomainSource>& out) : out_(out) {}

  // Every <source> below `n` (a device, its backing chain, a mirror…), recursively.
  // `top` is the device's own <source>, the one a guest writes to.
  void Sources(const xmlNode* n, const std::string& element, bool writable_disk, const std::string& cache) {
    for (const xmlNode* c = n->children; c; c = c->next) {
      if (c->type != XML_ELEMENT_NODE) continue;
      if (Name(c) == "source") {
        for (const char* attr : kPathAttributes) {
          if (std::string p = Attr(c, attr); !p.empty()) {
            out_.push_back({element, p, writable_disk && c->parent == n, cache});
          }
        }
      } else if (Name(c) == "backingStore" || Name(c) == "mirror") {
        Sources(c, element, false, cache);
      }
    }
  }

  std::string error;

  void Device(const xmlNode* d) {
    const std::string element(Name(d));
    if (element == "disk") {
      const std::string type = Attr(d, "type");
      if (type == "volume") {
        error = "a disk is a storage-pool volume: its file is not named in the domain XML";
        return;
      }
      const std::string device = Attr(d, "device");
      const bool readonly = Child(d, "readonly") != nullptr;
      const bool writable = !readonly && (device.empty() || device == "disk" || device == "lun");
      const xmlNode* driver = Child(d, "driver");
      Sources(d, device.empty() ? "disk" : device, writable, driver ? Attr(driver, "cache") : "");
      return;
    }
    Sources(d, element, false, "");
  }

 private:
  std::vector<DomainSource>& out_;
};

bool Below(const std::filesystem::path& p, const std::filesystem::path& dir) {
  auto rel = p.lexically_relative(dir);
  return !rel.empty() && *rel.begin() != "..";
}

}  // namespace

Result<std::vector<DomainSource>, std::string> DomainSources(std::string_view domain_xml) {
  static const bool initialised = [] {
    xmlInitParser();
    return true;
  }();
  (void)initialised;
  // No network, no external entities, no DTD loading: libvirt's XML needs none.
  std::unique_ptr<xmlDoc, decltype(&xmlFreeDoc)> doc(
      xmlReadMemory(domain_xml.data(), static_cast<int>(domain_xml.size()), "domain.xml", nullptr,
                    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING),
      &xmlFreeDoc);
  if (!doc) return Err{std::string("the domain XML does not parse")};
  const xmlNode* root = xmlDocGetRootElement(doc.get());
  if (!root || Name(root) != "domain") return Err{std::string("the XML is not a <domain>")};
  std::vector<DomainSource> out;
  Collector collect(out);
  if (const xmlNode* devices = Child(root, "devices")) {
    for (const xmlNode* d = devices->children; d; d = d->next) {
      if (d->type == XML_ELEMENT_NODE) collect.Device(d);
      if (!collect.error.empty()) return Err{collect.error};
    }
  }
  if (const xmlNode* os = Child(root, "os")) {
    for (const char* boot_file : {"kernel", "initrd", "loader", "nvram", "dtb"}) {
      if (const xmlNode* f = Child(os, boot_file)) {
        if (std::string p = Text(f); !p.empty()) out.push_back({boot_file, p, false, ""});
      }
    }
  }
  return out;
}

VmSelection SelectDomains(std::span<const DomainInfo> domains, const std::filesystem::path& pool_mount,
                          const PathResolver& resolve, const MountOf& mount_of) {
  VmSelection selection;
  const auto pool = pool_mount.lexically_normal();
  for (const auto& d : domains) {
    auto sources = DomainSources(d.xml);
    if (!sources) {
      // Cannot be placed on or off the pool: it may hold the pool, and destroying
      // only the others would not be proven enough.
      selection.affected.push_back({d.name, d.uuid, {}});
      selection.refusals.push_back({d.name, "unknown_source", sources.error()});
      continue;
    }
    AffectedDomain affected{d.name, d.uuid, {}};
    for (const auto& s : sources.value()) {
      if (mount_of(resolve(s.path).lexically_normal()).lexically_normal() != pool) continue;
      affected.on_pool.push_back(s.path);
      if (s.writable_disk && s.cache != "none" && s.cache != "directsync") {
        selection.refusals.push_back(
            {d.name, "host_page_cache",
             "disk " + s.path.string() + " is on the pool with cache mode '" + (s.cache.empty() ? "default" : s.cache) +
                 "': the host's dirty pages could reach the storage after the VM is restarted elsewhere"});
      }
    }
    if (!affected.on_pool.empty()) selection.affected.push_back(std::move(affected));
  }
  return selection;
}

PathResolver ResolveUpToPool(std::filesystem::path pool_mount, MountOf mount_of) {
  return [pool = pool_mount.lexically_normal(), mount_of = std::move(mount_of)](const std::filesystem::path& path) {
    if (!path.is_absolute()) return path.lexically_normal();
    std::filesystem::path done = "/";
    std::vector<std::filesystem::path> todo(++path.begin(), path.end());
    std::reverse(todo.begin(), todo.end());  // a stack: the next component at the back
    for (int hops = 0; !todo.empty();) {
      if (done == pool || Below(done, pool)) break;  // never touch the failed pool
      const auto part = todo.back();
      todo.pop_back();
      if (part == "." || part.empty()) continue;
      if (part == "..") {
        done = done.parent_path();
        continue;
      }
      const auto next = done / part;
      if (next == pool || mount_of(next) == next) {
        done = next;
        continue;
      }
      struct stat st {};
      if (::lstat(next.c_str(), &st) != 0 || !S_ISLNK(st.st_mode) || ++hops > 40) {
        done = next;
        continue;
      }
      char target[4096];
      const ssize_t n = ::readlink(next.c_str(), target, sizeof target - 1);
      if (n <= 0) {
        done = next;
        continue;
      }
      const std::filesystem::path link(std::string(target, static_cast<size_t>(n)));
      if (link.is_absolute()) done = "/";
      std::vector<std::filesystem::path> more(link.is_absolute() ? ++link.begin() : link.begin(), link.end());
      todo.insert(todo.end(), more.rbegin(), more.rend());
    }
    for (auto it = todo.rbegin(); it != todo.rend(); ++it) done /= *it;
    return done.lexically_normal();
  };
}

}  // namespace hbfence
