// SPDX-License-Identifier: Apache-2.0

/* A tripwire, not a crutch: hbfence takes every fence path from its config, so no
 * test should ever reach the real ones. Preloaded into every test process (and the
 * daemons they start), this aborts loudly if one does. */
#define _GNU_SOURCE
/* This file defines open() itself, which glibc's fortified headers define inline:
 * no fortification here, whatever the build flags (cmake/DebianBuildFlags.cmake).
 * Fortified callers are caught by the wrappers of __open_2 and friends below. */
#undef _FORTIFY_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define kSysrq "/proc/sysrq-trigger"

static void trip(const char* what) {
  static const char msg[] = "nofence_preload: TRIPWIRE: a test tried to fence the machine: ";
  (void)!write(2, msg, sizeof msg - 1);
  (void)!write(2, what, strlen(what));
  (void)!write(2, "\n", 1);
  abort();
}

static int is_sysrq(const char* path) {
  if (path == NULL || strstr(path, "sysrq") == NULL) return 0;  /* cheap for every other open */
  char resolved[4096];
  if (strcmp(path, kSysrq) == 0) return 1;
  /* Catch spellings like /proc//sysrq-trigger or /proc/self/../sysrq-trigger. */
  return realpath(path, resolved) != NULL && strcmp(resolved, kSysrq) == 0;
}

int reboot(int cmd) {
  (void)cmd;
  trip("reboot(2)");
  return -1;
}

#define FORWARD_OPEN(name, ...)                                     \
  mode_t mode = 0;                                                  \
  if (flags & (O_CREAT | O_TMPFILE)) {                              \
    va_list ap;                                                     \
    va_start(ap, flags);                                            \
    mode = va_arg(ap, mode_t);                                      \
    va_end(ap);                                                     \
  }                                                                 \
  if (is_sysrq(path)) trip("open " kSysrq);                         \
  static int (*real)() = NULL;                                      \
  if (!real) real = (int (*)())dlsym(RTLD_NEXT, name);              \
  return real(__VA_ARGS__, mode);

int open(const char* path, int flags, ...) { FORWARD_OPEN("open", path, flags) }
int open64(const char* path, int flags, ...) { FORWARD_OPEN("open64", path, flags) }
int openat(int dirfd, const char* path, int flags, ...) { FORWARD_OPEN("openat", dirfd, path, flags) }
int openat64(int dirfd, const char* path, int flags, ...) { FORWARD_OPEN("openat64", dirfd, path, flags) }

/* What open() becomes in a caller built with -D_FORTIFY_SOURCE (the Debian build
 * flags, cmake/DebianBuildFlags.cmake) when its flags are not a compile-time
 * constant: these never take a mode. */
#define FORWARD_OPEN_2(name, ...)                                   \
  if (is_sysrq(path)) trip("open " kSysrq);                         \
  static int (*real)() = NULL;                                      \
  if (!real) real = (int (*)())dlsym(RTLD_NEXT, name);              \
  return real(__VA_ARGS__);

int __open_2(const char* path, int flags) { FORWARD_OPEN_2("__open_2", path, flags) }
int __open64_2(const char* path, int flags) { FORWARD_OPEN_2("__open64_2", path, flags) }
int __openat_2(int dirfd, const char* path, int flags) { FORWARD_OPEN_2("__openat_2", dirfd, path, flags) }
int __openat64_2(int dirfd, const char* path, int flags) { FORWARD_OPEN_2("__openat64_2", dirfd, path, flags) }

FILE* fopen(const char* path, const char* mode) {
  if (is_sysrq(path)) trip("fopen " kSysrq);
  static FILE* (*real)(const char*, const char*) = NULL;
  if (!real) real = (FILE * (*)(const char*, const char*)) dlsym(RTLD_NEXT, "fopen");
  return real(path, mode);
}

FILE* fopen64(const char* path, const char* mode) {
  if (is_sysrq(path)) trip("fopen64 " kSysrq);
  static FILE* (*real)(const char*, const char*) = NULL;
  if (!real) real = (FILE * (*)(const char*, const char*)) dlsym(RTLD_NEXT, "fopen64");
  return real(path, mode);
}
