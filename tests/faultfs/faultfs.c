// SPDX-License-Identifier: Apache-2.0

// faultfs: a FUSE passthrough filesystem whose behaviour can be switched at
// runtime to inject storage faults (latency, hangs, errno failures).
//
// Usage:
//   faultfs [--control PATH] [--exit-with-parent] BACKING_DIR MOUNTPOINT [fuse options]
//
// The control file (--control, or the FAULTFS_CONTROL environment variable)
// lives outside the mount and holds one line:
//
//   MODE[@SCOPE]
//   MODE  := ok | hang | eio | enospc | erofs | estale | delay:MS | delay:MS:JITTER_MS
//   SCOPE := comma list of write,fsync,open,create,rename,read,getattr,mkdir,
//            truncate,unlink,rmdir,readdir,statfs,setattr,flush,all
//
// Without a scope the fault hits the data path only:
// open,create,write,fsync,rename,truncate,mkdir. A missing or empty control
// file means "ok". The file is polled every 10 ms; once a new mode is in
// effect for every later request, faultfs atomically writes PATH.ack holding
// the applied line, or "invalid: LINE" (the previous mode then stays).
//
// A hung request wakes as soon as the mode changes (the op then follows the
// new mode) or the FUSE session ends, so tests can always clean up.
// --exit-with-parent unmounts and exits when the spawning process dies, so a
// crashed test run does not leave a mount behind.

#define FUSE_USE_VERSION 35
#define _GNU_SOURCE

#include <fuse.h>
#include <fuse_lowlevel.h>  // fuse_session_exited

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

// One bit per class of operation; scopes are sets of these.
enum op_class {
  OP_OPEN, OP_CREATE, OP_WRITE, OP_FSYNC, OP_RENAME, OP_TRUNCATE, OP_MKDIR,
  OP_READ, OP_GETATTR, OP_UNLINK, OP_RMDIR, OP_READDIR, OP_STATFS, OP_SETATTR,
  OP_FLUSH, OP_COUNT
};
static const char *const op_names[OP_COUNT] = {
  "open", "create", "write", "fsync", "rename", "truncate", "mkdir",
  "read", "getattr", "unlink", "rmdir", "readdir", "statfs", "setattr", "flush",
};
#define BIT(op) (1u << (op))
static const unsigned kDataPathScope = BIT(OP_OPEN) | BIT(OP_CREATE) | BIT(OP_WRITE) |
    BIT(OP_FSYNC) | BIT(OP_RENAME) | BIT(OP_TRUNCATE) | BIT(OP_MKDIR);
static const unsigned kAllScope = (1u << OP_COUNT) - 1;

enum fault_kind { FAULT_NONE, FAULT_DELAY, FAULT_HANG, FAULT_ERRNO };

struct mode {
  enum fault_kind kind;
  int err;            // FAULT_ERRNO
  long delay_ms;      // FAULT_DELAY
  long jitter_ms;     // FAULT_DELAY
  unsigned scope;     // BIT(op) set
};

static struct {
  int root_fd;                 // BACKING_DIR; all paths resolve relative to it
  const char *control_path;    // NULL: plain passthrough, never faults
  pid_t parent;                // 0 unless --exit-with-parent
  struct fuse_session *session;
  pthread_mutex_t lock;
  pthread_cond_t changed;      // broadcast whenever `mode` changes
  struct mode mode;
  unsigned long generation;    // bumped on every mode change
  char mode_text[256];         // the control line currently applied
} g = { .root_fd = -1, .lock = PTHREAD_MUTEX_INITIALIZER };

// ---------------------------------------------------------------- modes ----

static int parse_scope(char *list, unsigned *scope) {
  *scope = 0;
  for (char *save = NULL, *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    if (strcmp(tok, "all") == 0) { *scope = kAllScope; continue; }
    int op = 0;
    while (op < OP_COUNT && strcmp(tok, op_names[op]) != 0) op++;
    if (op == OP_COUNT) return -1;
    *scope |= BIT(op);
  }
  return *scope ? 0 : -1;
}

static int parse_mode(const char *text, struct mode *out) {
  char buf[sizeof g.mode_text];
  snprintf(buf, sizeof buf, "%s", text);
  struct mode m = { .kind = FAULT_NONE, .scope = kDataPathScope };
  char *at = strchr(buf, '@');
  if (at) {
    *at = '\0';
    if (parse_scope(at + 1, &m.scope) != 0) return -1;
  }
  static const struct { const char *name; int err; } errnos[] = {
    { "eio", EIO }, { "enospc", ENOSPC }, { "erofs", EROFS }, { "estale", ESTALE },
  };
  for (size_t i = 0; i < sizeof errnos / sizeof errnos[0]; i++)
    if (strcmp(buf, errnos[i].name) == 0) { m.kind = FAULT_ERRNO; m.err = errnos[i].err; }
  if (strcmp(buf, "hang") == 0) m.kind = FAULT_HANG;
  if (strncmp(buf, "delay:", 6) == 0) {
    char *num = buf + 6, *end;
    m.delay_ms = strtol(num, &end, 10);
    if (end != num && *end == ':') m.jitter_ms = strtol(num = end + 1, &end, 10);
    if (end == num || *end != '\0' || m.delay_ms < 0 || m.jitter_ms < 0) return -1;
    m.kind = FAULT_DELAY;
  }
  if (m.kind == FAULT_NONE && strcmp(buf, "ok") != 0) return -1;
  *out = m;
  return 0;
}

// Reads the control line, trimmed. Missing file means "ok".
static void read_control(char *out, size_t size) {
  snprintf(out, size, "ok");
  FILE *f = fopen(g.control_path, "re");
  if (!f) return;
  if (fgets(out, (int)size, f)) {
    size_t n = strcspn(out, "\r\n");
    while (n > 0 && (out[n - 1] == ' ' || out[n - 1] == '\t')) n--;
    out[n] = '\0';
    if (n == 0) snprintf(out, size, "ok");
  }
  fclose(f);
}

// temp + rename so the test fixture never reads a half-written ack.
static void write_ack(const char *line) {
  char path[4096], tmp[4096 + 8];
  snprintf(path, sizeof path, "%s.ack", g.control_path);
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  FILE *f = fopen(tmp, "we");
  if (!f) { perror("faultfs: ack"); return; }
  fprintf(f, "%s\n", line);
  if (fclose(f) != 0 || rename(tmp, path) != 0) perror("faultfs: ack");
}

// Applies the control file if it changed. Acks only after the new mode is
// visible to every later request.
static void refresh_mode(void) {
  char text[sizeof g.mode_text], ack[sizeof g.mode_text + 16];
  read_control(text, sizeof text);
  pthread_mutex_lock(&g.lock);
  int unchanged = strcmp(text, g.mode_text) == 0;
  pthread_mutex_unlock(&g.lock);
  if (unchanged) return;

  struct mode m;
  int valid = parse_mode(text, &m) == 0;
  if (valid) {
    snprintf(ack, sizeof ack, "%s", text);
  } else {
    fprintf(stderr, "faultfs: invalid mode '%s', keeping the previous one\n", text);
    snprintf(ack, sizeof ack, "invalid: %s", text);
  }
  pthread_mutex_lock(&g.lock);
  snprintf(g.mode_text, sizeof g.mode_text, "%s", text);  // reports a bad line once
  if (valid) {
    g.mode = m;
    g.generation++;
    pthread_cond_broadcast(&g.changed);
  }
  pthread_mutex_unlock(&g.lock);
  write_ack(ack);
}

static void *watch_control(void *unused) {
  (void)unused;
  for (;;) {
    struct timespec tick = { 0, 10 * 1000 * 1000 };
    nanosleep(&tick, NULL);
    refresh_mode();
    // Lets libfuse's SIGTERM handler unmount cleanly, as if we were stopped.
    if (g.parent && getppid() != g.parent) kill(getpid(), SIGTERM);
  }
  return NULL;
}

static struct timespec deadline_after_ms(long ms) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  t.tv_sec += ms / 1000;
  t.tv_nsec += (ms % 1000) * 1000000L;
  if (t.tv_nsec >= 1000000000L) { t.tv_sec++; t.tv_nsec -= 1000000000L; }
  return t;
}

// libfuse sends intr_signal to the worker serving a request the kernel interrupts,
// but installs its handler only when `intr` is set before fuse_new(); ours is set
// in ffs_init(), so without a handler of our own SIGUSR1 would kill faultfs the
// first time a caller hung in it is killed. The signal only has to interrupt the
// worker: fault_gate() polls fuse_interrupted().
static void on_interrupt_signal(int sig) { (void)sig; }

static int session_over(void) { return g.session && fuse_session_exited(g.session); }

// Called at the start of every faultable op: returns 0 to proceed or -errno.
// Hangs and delays wait on the condition variable so a mode change (or the
// session ending) cuts them short; the op then follows the current mode.
static int fault_gate(enum op_class op) {
  if (!g.control_path) return 0;
  int result = 0;
  pthread_mutex_lock(&g.lock);
  while (g.mode.kind != FAULT_NONE && (g.mode.scope & BIT(op)) && !session_over()) {
    unsigned long seen = g.generation;
    if (g.mode.kind == FAULT_ERRNO) { result = -g.mode.err; break; }
    // Like a hard NFS mount (TASK_KILLABLE), a hang gives way to a fatal signal:
    // with -o intr the kernel forwards the interrupt of a killed caller and we
    // answer EINTR. Without that, a killed writer would sit in D state until the
    // mode changes, and a process holding it could never finish exiting.
    if (fuse_interrupted()) { result = -EINTR; break; }
    if (g.mode.kind == FAULT_HANG) {
      // Poll the session state every 20 ms: nothing signals us when it ends.
      struct timespec slice = deadline_after_ms(20);
      pthread_cond_timedwait(&g.changed, &g.lock, &slice);
      continue;
    }
    long ms = g.mode.delay_ms;
    if (g.mode.jitter_ms > 0) ms += random() % (2 * g.mode.jitter_ms + 1) - g.mode.jitter_ms;
    struct timespec until = deadline_after_ms(ms > 0 ? ms : 0);
    while (g.generation == seen &&
           pthread_cond_timedwait(&g.changed, &g.lock, &until) != ETIMEDOUT) {}
    if (g.generation == seen) break;  // full delay served; otherwise re-evaluate
  }
  pthread_mutex_unlock(&g.lock);
  return result;
}

// ---------------------------------------------------------- passthrough ----

// FUSE paths are absolute within the mount; make them relative to root_fd.
static const char *rel(const char *path) { return path[1] ? path + 1 : "."; }
static int ret(int res) { return res < 0 ? -errno : res; }

#define GATE(op) do { int gate_ = fault_gate(op); if (gate_) return gate_; } while (0)

// New files and dirs belong to the caller, not to the faultfs process.
static void chown_to_caller(const char *path) {
  struct fuse_context *ctx = fuse_get_context();
  if (ctx->uid == geteuid() && ctx->gid == getegid()) return;
  int res = fchownat(g.root_fd, rel(path), ctx->uid, ctx->gid, AT_SYMLINK_NOFOLLOW);
  (void)res;  // best effort, like a non-root passthrough would get
}

static void *ffs_init(struct fuse_conn_info *conn, struct fuse_config *cfg) {
  (void)conn;
  // No kernel caching: every op must reach us, or faults would be hidden.
  cfg->entry_timeout = cfg->attr_timeout = cfg->negative_timeout = 0;
  cfg->direct_io = 1;
  cfg->use_ino = 1;
  cfg->hard_remove = 1;  // unlink/rename-over of open files: no .fuse_hidden files
  cfg->intr = 1;         // forward interrupts of killed callers (see fault_gate)
  cfg->intr_signal = SIGUSR1;
  g.session = fuse_get_session(fuse_get_context()->fuse);
  return NULL;
}

static int ffs_getattr(const char *path, struct stat *st, struct fuse_file_info *fi) {
  GATE(OP_GETATTR);
  return ret(fi ? fstat((int)fi->fh, st) : fstatat(g.root_fd, rel(path), st, AT_SYMLINK_NOFOLLOW));
}

static int ffs_readdir(const char *path, void *buf, fuse_fill_dir_t fill, off_t offset,
                       struct fuse_file_info *fi, enum fuse_readdir_flags flags) {
  (void)offset; (void)fi; (void)flags;
  GATE(OP_READDIR);
  int fd = openat(g.root_fd, rel(path), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
  if (!dir) { int err = errno; if (fd >= 0) close(fd); return -err; }
  // Offset 0 everywhere: libfuse buffers the whole listing for us.
  for (struct dirent *e; (e = readdir(dir));) {
    struct stat st = { .st_ino = e->d_ino, .st_mode = (mode_t)DTTOIF(e->d_type) };
    if (fill(buf, e->d_name, &st, 0, 0)) break;
  }
  closedir(dir);
  return 0;
}

static int ffs_mkdir(const char *path, mode_t mode) {
  GATE(OP_MKDIR);
  if (mkdirat(g.root_fd, rel(path), mode) != 0) return -errno;
  chown_to_caller(path);
  return 0;
}

static int ffs_rmdir(const char *path) {
  GATE(OP_RMDIR);
  return ret(unlinkat(g.root_fd, rel(path), AT_REMOVEDIR));
}

static int ffs_unlink(const char *path) {
  GATE(OP_UNLINK);
  return ret(unlinkat(g.root_fd, rel(path), 0));
}

static int ffs_rename(const char *from, const char *to, unsigned int flags) {
  GATE(OP_RENAME);
  return ret(renameat2(g.root_fd, rel(from), g.root_fd, rel(to), flags));
}

// O_DIRECT is dropped on the backing fd: the buffers libfuse hands us are
// not aligned, and the kernel already bypasses its cache (direct_io).
static int open_backing(const char *path, struct fuse_file_info *fi, mode_t mode) {
  int fd = openat(g.root_fd, rel(path), (fi->flags & ~O_DIRECT) | O_CLOEXEC, mode);
  if (fd < 0) return -errno;
  fi->fh = (uint64_t)fd;
  return 0;
}

static int ffs_create(const char *path, mode_t mode, struct fuse_file_info *fi) {
  GATE(OP_CREATE);
  int res = open_backing(path, fi, mode);
  if (res == 0) chown_to_caller(path);
  return res;
}

static int ffs_open(const char *path, struct fuse_file_info *fi) {
  GATE(OP_OPEN);
  return open_backing(path, fi, 0);
}

static int ffs_read(const char *path, char *buf, size_t size, off_t off, struct fuse_file_info *fi) {
  (void)path;
  GATE(OP_READ);
  return ret((int)pread((int)fi->fh, buf, size, off));
}

static int ffs_write(const char *path, const char *buf, size_t size, off_t off,
                     struct fuse_file_info *fi) {
  (void)path;
  GATE(OP_WRITE);
  return ret((int)pwrite((int)fi->fh, buf, size, off));
}

static int ffs_fallocate(const char *path, int mode, off_t off, off_t len,
                         struct fuse_file_info *fi) {
  (void)path;
  GATE(OP_WRITE);
  return ret(fallocate((int)fi->fh, mode, off, len));
}

static int ffs_fsync(const char *path, int datasync, struct fuse_file_info *fi) {
  (void)path;
  GATE(OP_FSYNC);
  return ret(datasync ? fdatasync((int)fi->fh) : fsync((int)fi->fh));
}

// We keep no directory handles, so sync a fresh fd of the same directory.
static int ffs_fsyncdir(const char *path, int datasync, struct fuse_file_info *fi) {
  (void)fi;
  GATE(OP_FSYNC);
  int fd = openat(g.root_fd, rel(path), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return -errno;
  int res = ret(datasync ? fdatasync(fd) : fsync(fd));
  close(fd);
  return res;
}

// close(2) reports flush errors; closing a dup mirrors that on the backing fd.
static int ffs_flush(const char *path, struct fuse_file_info *fi) {
  (void)path;
  GATE(OP_FLUSH);
  return ret(close(dup((int)fi->fh)));
}

// Never faulted: the kernel ignores release errors and a hang would only leak.
static int ffs_release(const char *path, struct fuse_file_info *fi) {
  (void)path;
  close((int)fi->fh);
  return 0;
}

static int ffs_truncate(const char *path, off_t size, struct fuse_file_info *fi) {
  GATE(OP_TRUNCATE);
  if (fi) return ret(ftruncate((int)fi->fh, size));
  int fd = openat(g.root_fd, rel(path), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return -errno;
  int res = ret(ftruncate(fd, size));
  close(fd);
  return res;
}

static int ffs_chmod(const char *path, mode_t mode, struct fuse_file_info *fi) {
  GATE(OP_SETATTR);
  return ret(fi ? fchmod((int)fi->fh, mode) : fchmodat(g.root_fd, rel(path), mode, 0));
}

static int ffs_chown(const char *path, uid_t uid, gid_t gid, struct fuse_file_info *fi) {
  GATE(OP_SETATTR);
  return ret(fi ? fchown((int)fi->fh, uid, gid)
                : fchownat(g.root_fd, rel(path), uid, gid, AT_SYMLINK_NOFOLLOW));
}

static int ffs_utimens(const char *path, const struct timespec ts[2], struct fuse_file_info *fi) {
  GATE(OP_SETATTR);
  return ret(fi ? futimens((int)fi->fh, ts)
                : utimensat(g.root_fd, rel(path), ts, AT_SYMLINK_NOFOLLOW));
}

static int ffs_statfs(const char *path, struct statvfs *st) {
  (void)path;
  GATE(OP_STATFS);
  return ret(fstatvfs(g.root_fd, st));
}

static const struct fuse_operations ffs_ops = {
  .init = ffs_init,         .getattr = ffs_getattr,
  .readdir = ffs_readdir,   .mkdir = ffs_mkdir,         .rmdir = ffs_rmdir,
  .unlink = ffs_unlink,     .rename = ffs_rename,       .create = ffs_create,
  .open = ffs_open,         .read = ffs_read,           .write = ffs_write,
  .fallocate = ffs_fallocate, .fsync = ffs_fsync,       .fsyncdir = ffs_fsyncdir,
  .flush = ffs_flush,       .release = ffs_release,     .truncate = ffs_truncate,
  .chmod = ffs_chmod,       .chown = ffs_chown,         .utimens = ffs_utimens,
  .statfs = ffs_statfs,
};

// ------------------------------------------------------------------ main ----

// In sanitizer builds, LeakSanitizer's exit-time scan ptrace-stops every
// thread and can stall on ones blocked in /dev/fuse, delaying unmount by
// seconds. faultfs is a test tool: skip the scan (no effect without ASan).
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "detect_leaks=0"; }

static int usage(const char *argv0) {
  fprintf(stderr, "usage: %s [--control PATH] [--exit-with-parent] BACKING_DIR MOUNTPOINT "
                  "[fuse options]\n", argv0);
  return 2;
}

int main(int argc, char *argv[]) {
  g.control_path = getenv("FAULTFS_CONTROL");
  int i = 1;
  for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
    if (strcmp(argv[i], "--control") == 0 && i + 1 < argc) g.control_path = argv[++i];
    else if (strcmp(argv[i], "--exit-with-parent") == 0) g.parent = getppid();
    else return usage(argv[0]);
  }
  if (argc - i < 2) return usage(argv[0]);
  const char *backing = argv[i++];
  g.root_fd = open(backing, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (g.root_fd < 0) { perror(backing); return 1; }
  umask(0);  // the kernel already applied the caller's umask to every mode

  if (g.control_path) {
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&g.changed, &attr);
    refresh_mode();  // in effect before the first request
    // The watcher must not take libfuse's termination signals: a handler run
    // on this thread would set the exit flag without waking the fuse loop.
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM); sigaddset(&block, SIGINT); sigaddset(&block, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    pthread_t watcher;
    if (pthread_create(&watcher, NULL, watch_control, NULL) != 0) return 1;
    pthread_detach(watcher);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
  }

  struct sigaction interrupt_action;
  memset(&interrupt_action, 0, sizeof interrupt_action);
  interrupt_action.sa_handler = on_interrupt_signal;
  sigemptyset(&interrupt_action.sa_mask);
  sigaction(SIGUSR1, &interrupt_action, NULL);

  // Foreground, multi-threaded, root may do anything, and enough workers
  // that a few hung requests don't starve the others (e.g. stat). Setting
  // max_idle_threads only silences a libfuse 3.14 warning about its default.
  char *fuse_argv[argc + 6];
  int fuse_argc = 0;
  fuse_argv[fuse_argc++] = argv[0];
  fuse_argv[fuse_argc++] = "-f";
  fuse_argv[fuse_argc++] = "-o";
  fuse_argv[fuse_argc++] =
      "default_permissions,allow_other,fsname=faultfs,subtype=faultfs,"
      "max_threads=64,max_idle_threads=64";
  while (i < argc) fuse_argv[fuse_argc++] = argv[i++];
  fuse_argv[fuse_argc] = NULL;
  return fuse_main(fuse_argc, fuse_argv, &ffs_ops, NULL);
}
