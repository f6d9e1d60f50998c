#include "storage/fs_types.h"

#include <array>

namespace hbfence {
namespace {

// Magic numbers from linux/magic.h and the filesystems' own headers.
constexpr std::array kFilesystems{
    FilesystemType{"ext2", 0xEF53, true},       FilesystemType{"ext3", 0xEF53, true},
    FilesystemType{"ext4", 0xEF53, true},       FilesystemType{"xfs", 0x58465342, true},
    FilesystemType{"btrfs", 0x9123683E, true},  FilesystemType{"tmpfs", 0x01021994, true},
    FilesystemType{"ramfs", 0x858458F6, true},  FilesystemType{"overlay", 0x794C7630, true},
    FilesystemType{"zfs", 0x2FC12FC1, true},    FilesystemType{"f2fs", 0xF2F52010, true},
    FilesystemType{"vfat", 0x4D44, true},       FilesystemType{"squashfs", 0x73717368, true},
    FilesystemType{"nfs", 0x6969, false},       FilesystemType{"nfs4", 0x6969, false},
    FilesystemType{"cifs", 0xFF534D42, false},  FilesystemType{"smb3", 0xFE534D42, false},
    FilesystemType{"gfs2", 0x01161970, false},  FilesystemType{"ocfs2", 0x7461636F, false},
    FilesystemType{"ceph", 0x00C36400, false},  FilesystemType{"fuse", 0x65735546, false},
};

}  // namespace

std::optional<FilesystemType> FilesystemByName(std::string_view name) {
  // GlusterFS, MooseFS and friends appear as fuse.<name>: FUSE is how most
  // user-space cluster filesystems are mounted, so it counts as shared.
  if (name.starts_with("fuse.")) name = "fuse";
  for (const auto& fs : kFilesystems) {
    if (fs.name == name) return fs;
  }
  return std::nullopt;
}

std::optional<FilesystemType> FilesystemByMagic(long magic) {
  for (const auto& fs : kFilesystems) {
    if (fs.magic == magic) return fs;
  }
  return std::nullopt;
}

bool IsLocalFilesystemType(std::string_view name) {
  const auto fs = FilesystemByName(name);
  return fs && fs->local;
}

}  // namespace hbfence
