// SPDX-License-Identifier: Apache-2.0

#include "storage/block_target.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "src/sys/fs_util.h"
#include "storage/host_id.h"

namespace hbfence {
namespace {

// O_DIRECT needs the buffer aligned to the logical block size; 4096 covers every device.
struct alignas(kBlockSectorSize) SectorBuffer {
  std::array<uint8_t, kBlockSectorSize> bytes{};
};

enum class Transfer { kRead, kWrite };

WriteResult Failure(const std::string& what, int err) {
  WriteResult r{ClassifyErrno(err), ErrnoMessage(what, err)};
  if (err == EBUSY) r.detail += " (mounted, or opened exclusively by another program)";
  return r;
}

// One attempt at the transfer. `direct_refused`: O_DIRECT was refused with EINVAL
// and the caller should try again buffered.
struct Attempt {
  WriteResult result;
  bool direct_refused = false;
};

Attempt TransferOnOpenFd(int fd, const std::string& name, uint64_t offset, Transfer transfer,
                         std::span<uint8_t, kBlockSectorSize> buffer, bool direct) {
  const bool write = transfer == Transfer::kWrite;
  // Checked before writing: pwrite past the end of a regular file would grow it.
  const off_t size = ::lseek(fd, 0, SEEK_END);
  if (size < 0) return {Failure("seek " + name, errno)};
  if (static_cast<uint64_t>(size) < offset + kBlockSectorSize) {
    return {{WriteError::kOther, name + " is " + std::to_string(size) + " bytes, too small for a " +
                                     std::to_string(kBlockSectorSize) + "-byte sector at offset " +
                                     std::to_string(offset)}};
  }
  const auto at = static_cast<off_t>(offset);
  const ssize_t n = write ? ::pwrite(fd, buffer.data(), buffer.size(), at) : ::pread(fd, buffer.data(), buffer.size(), at);
  const std::string what = (write ? "write " : "read ") + name + " at offset " + std::to_string(offset);
  if (n < 0) {
    const int err = errno;
    return {Failure(what, err), direct && err == EINVAL};
  }
  if (static_cast<size_t>(n) != buffer.size()) {
    return {{WriteError::kOther, what + ": short " + (write ? "write" : "read") + ", " + std::to_string(n) + " of " +
                                     std::to_string(buffer.size()) + " bytes"}};
  }
  return {};
}

Attempt TransferOnce(const std::filesystem::path& device, int flags, uint64_t offset, Transfer transfer,
                     std::span<uint8_t, kBlockSectorSize> buffer, bool direct) {
  const int fd = ::open(device.c_str(), flags | (direct ? O_DIRECT : 0));
  if (fd < 0) {
    const int err = errno;
    return {Failure("open " + device.string(), err), direct && err == EINVAL};
  }
  Attempt attempt = TransferOnOpenFd(fd, device.string(), offset, transfer, buffer, direct);
  if (::close(fd) != 0 && attempt.result.ok()) attempt.result = Failure("close " + device.string(), errno);
  return attempt;
}

// One sector of I/O at `offset`. O_DIRECT first, so the bytes really come from (or
// reach) the device and not the page cache. Some filesystems refuse O_DIRECT with
// EINVAL, at open or at the first I/O (tmpfs, where tests keep their "devices"):
// then the transfer is repeated buffered. Writes stay O_DSYNC either way, so
// pwrite() returns only once the data is durable and no separate fdatasync is needed.
WriteResult TransferSector(const std::filesystem::path& device, uint64_t offset, Transfer transfer,
                           std::span<uint8_t, kBlockSectorSize> buffer) {
  const bool write = transfer == Transfer::kWrite;
  struct stat st{};
  if (::stat(device.c_str(), &st) != 0) return Failure("stat " + device.string(), errno);
  if (!S_ISBLK(st.st_mode) && !S_ISREG(st.st_mode)) {
    return {WriteError::kOther, device.string() + " is neither a block device nor a regular file"};
  }
  int flags = O_CLOEXEC | (write ? O_WRONLY | O_DSYNC : O_RDONLY);
  // Only writes claim the device: a neighbour reading it must not make our write fail.
  if (write && S_ISBLK(st.st_mode)) flags |= O_EXCL;
  auto attempt = TransferOnce(device, flags, offset, transfer, buffer, /*direct=*/true);
  if (attempt.direct_refused) attempt = TransferOnce(device, flags, offset, transfer, buffer, /*direct=*/false);
  return attempt.result;
}

}  // namespace

Result<BlockSector, std::string> ReadBlockSector(const std::filesystem::path& device, uint64_t offset) {
  SectorBuffer sector;
  if (auto read = TransferSector(device, offset, Transfer::kRead, sector.bytes); !read.ok()) return Err{read.detail};
  auto decoded = DecodeBlockSector(sector.bytes);
  if (!decoded) return Err{device.string() + " at offset " + std::to_string(offset) + ": " + decoded.error()};
  return decoded;
}

WriteResult BlockTarget::Write(WallTime content_time) {
  if (!next_sequence_) {
    SectorBuffer current;
    if (auto read = TransferSector(cfg_.path, cfg_.offset, Transfer::kRead, current.bytes); !read.ok()) return read;
    // Never written or unreadable garbage: nothing to continue from.
    auto found = DecodeBlockSector(current.bytes);
    // Another host's sector: two hosts advancing one sequence would make a dead one
    // look alive to peer-check. Refuse until the configuration is fixed.
    if (found && found.value().host_id != host_id_) {
      // Whoever can write the device chose that id: repeat it only if it is one.
      const std::string& other = found.value().host_id;
      const std::string whose = ValidHostId(other) ? "host " + other + "'s heartbeat"
                                                   : "another host's heartbeat (its host id is not a valid host.id)";
      return {WriteError::kOther,
              cfg_.path.string() + " at offset " + std::to_string(cfg_.offset) + " holds " + whose + ", not " +
                  host_id_ + "'s: give every host its own offset (if host.id was renamed, "
                  "zero the sector: dd if=/dev/zero of=" + cfg_.path.string() + " bs=4096 count=1 seek=" +
                  std::to_string(cfg_.offset / 4096) + " oflag=direct)"};
    }
    next_sequence_ = found ? found.value().sequence + 1 : 1;
  }
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(content_time.time_since_epoch()).count();
  SectorBuffer sector;
  if (auto encoded = EncodeBlockSector({host_id_, *next_sequence_, seconds}, sector.bytes); !encoded) {
    return {WriteError::kOther, cfg_.path.string() + ": " + encoded.error()};
  }
  // Used up before the write: a write that reports an error may still have reached the device.
  ++*next_sequence_;
  return TransferSector(cfg_.path, cfg_.offset, Transfer::kWrite, sector.bytes);
}

}  // namespace hbfence
