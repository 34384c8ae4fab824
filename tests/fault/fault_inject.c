/* SPDX-License-Identifier: ISC */
/* The fault interposer: an LD_PRELOAD library that fails the Nth failable call
 * of a scenario (issue 16, item 3). It sits in front of libc (open, read,
 * write, fsync, rename, send/recv, the NSS lookups, ...) and in front of the
 * libraries the product calls through their shared objects (libpam,
 * libsystemd's sd-bus and sd-journal, libcrypto, libcurl): a preloaded
 * definition comes first in symbol resolution, and the real one is found
 * with dlsym(RTLD_NEXT). The product is not changed or rebuilt for it.
 *
 * Environment: BG_FAULT_STATE names a file holding struct bg_fault_shared
 * (fault_inject.h), mapped shared by every process of the scenario; without
 * it every call passes through untouched. While the driver has set `armed`,
 * each call is counted (one counter for all processes); the call whose number
 * is `fail_at` fails as its manual page says it can (return value and errno,
 * or the library's error code), and is recorded in the file.
 *
 * With `only_kind` set, only calls of that kind are counted: a sweep of one
 * kind (the system test's sd-bus and malloc sweeps of the packaged daemon,
 * scripts/system-test.sh scenario i) numbers its calls without the others.
 *
 * malloc, calloc and realloc are interposed only when this file is compiled
 * with BG_FAULT_WITH_MALLOC (the system test does, for the packaged build):
 * the ASan sweep preloads this library before the sanitizer runtime, so a
 * malloc defined here would take allocations away from ASan's allocator.
 * Even then they are counted only when `only_kind` is BG_FAULT_MALLOC.
 *
 * Not interposed: calls libc makes to itself (fopen's open, getpwnam_r's
 * reads), and variadic library calls (sd_bus_message_append) whose arguments
 * cannot be forwarded. */
#define _GNU_SOURCE
#include "fault_inject.h"

#include <dlfcn.h>
#include <execinfo.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <grp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))

static struct bg_fault_shared* shared;
static int init_state; /* 0 not yet, 1 done */

static void init(void) {
    if (__atomic_load_n(&init_state, __ATOMIC_ACQUIRE)) return;
    const char* path = getenv("BG_FAULT_STATE");
    struct bg_fault_shared* s = NULL;
    if (path != NULL && *path != '\0') {
        /* Raw system calls: our own open/mmap wrappers must not count these. */
        const long fd = syscall(SYS_openat, AT_FDCWD, path, O_RDWR | O_CLOEXEC);
        if (fd >= 0) {
            void* p = mmap(NULL, sizeof *s, PROT_READ | PROT_WRITE, MAP_SHARED, (int)fd, 0);
            syscall(SYS_close, fd);
            if (p != MAP_FAILED) s = p;
        }
    }
    shared = s;
    __atomic_store_n(&init_state, 1, __ATOMIC_RELEASE);
}

/* 1 when this call (of `kind`, named `name`) is the one to fail. */
static int should_fail_on(enum bg_fault_kind kind, const char* name, const char* detail) {
    init();
    struct bg_fault_shared* s = shared;
    if (s == NULL || !__atomic_load_n(&s->armed, __ATOMIC_ACQUIRE)) return 0;
    const uint64_t only = __atomic_load_n(&s->only_kind, __ATOMIC_ACQUIRE);
    if (only != 0 && only != (uint64_t)kind) return 0;
    const uint64_t n = __atomic_add_fetch(&s->calls, 1, __ATOMIC_ACQ_REL);
    if (n <= BG_FAULT_MAX_CALLS) s->kinds[n - 1] = (unsigned char)kind;
    char what[sizeof s->fired_name];
    snprintf(what, sizeof what, "%s%s%s", name, detail != NULL ? " " : "", detail != NULL ? detail : "");
    if (s->match[0] != '\0') {
        if (strcmp(what, s->match) != 0 || __atomic_load_n(&s->fired, __ATOMIC_ACQUIRE) != 0) return 0;
    } else if (n != __atomic_load_n(&s->fail_at, __ATOMIC_ACQUIRE)) {
        return 0;
    }
    if (__atomic_fetch_add(&s->fired, 1, __ATOMIC_ACQ_REL) != 0) return 0; /* one failure per run */
    s->fired_at = n;
    s->fired_pid = (int32_t)getpid();
    s->fired_kind = (int32_t)kind;
    memcpy(s->fired_name, what, sizeof what);
    return 1;
}

static int should_fail(enum bg_fault_kind kind, const char* name) { return should_fail_on(kind, name, NULL); }

/* The file a descriptor is open on, for the record of a failed call. */
static const char* fd_target(int fd, char* out, size_t size) {
    char link[64];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    const long len = syscall(SYS_readlinkat, AT_FDCWD, link, out, size - 1);
    out[len > 0 ? len : 0] = '\0';
    return out;
}

/* After a successful fsync/fdatasync of a file named audit.log: its size and
 * the call's number, so the driver knows when a record became durable. */
static void note_sync(int fd) {
    struct bg_fault_shared* s = shared;
    if (s == NULL || !__atomic_load_n(&s->armed, __ATOMIC_ACQUIRE)) return;
    char link[64], target[512];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    const long len = syscall(SYS_readlinkat, AT_FDCWD, link, target, sizeof target - 1);
    if (len <= 0) return;
    target[len] = '\0';
    const char* base = strrchr(target, '/');
    if (base == NULL || strcmp(base, "/audit.log") != 0) return;
    struct stat st;
    if (syscall(SYS_fstat, fd, &st) != 0) return;
    const uint64_t i = __atomic_fetch_add(&s->syncs, 1, __ATOMIC_ACQ_REL);
    if (i < BG_FAULT_MAX_SYNCS) {
        s->sync[i].index = __atomic_load_n(&s->calls, __ATOMIC_ACQUIRE);
        s->sync[i].size = st.st_size;
    }
}

#define REAL(ret, name, params)                                         \
    static ret(*real_##name) params;                                    \
    if (real_##name == NULL) real_##name = (ret(*) params)dlsym(RTLD_NEXT, #name)

/* ---- files ---- */

static mode_t mode_of(int flags, va_list ap) {
    return (flags & (O_CREAT | O_TMPFILE)) != 0 ? (mode_t)va_arg(ap, int) : 0;
}

#define DEFINE_OPEN(name)                                               \
    EXPORT int name(const char* path, int flags, ...) {                 \
        va_list ap;                                                     \
        va_start(ap, flags);                                            \
        const mode_t mode = mode_of(flags, ap);                         \
        va_end(ap);                                                     \
        REAL(int, name, (const char*, int, ...));                       \
        if (should_fail_on(BG_FAULT_OPEN, #name, path)) {                        \
            errno = EMFILE;                                             \
            return -1;                                                  \
        }                                                               \
        return real_##name(path, flags, mode);                          \
    }
DEFINE_OPEN(open)
DEFINE_OPEN(open64)

#define DEFINE_OPENAT(name)                                             \
    EXPORT int name(int dirfd, const char* path, int flags, ...) {      \
        va_list ap;                                                     \
        va_start(ap, flags);                                            \
        const mode_t mode = mode_of(flags, ap);                         \
        va_end(ap);                                                     \
        REAL(int, name, (int, const char*, int, ...));                  \
        if (should_fail_on(BG_FAULT_OPEN, #name, path)) {                        \
            errno = EMFILE;                                             \
            return -1;                                                  \
        }                                                               \
        return real_##name(dirfd, path, flags, mode);                   \
    }
DEFINE_OPENAT(openat)
DEFINE_OPENAT(openat64)

#define DEFINE_FOPEN(name)                                              \
    EXPORT FILE* name(const char* path, const char* mode) {            \
        REAL(FILE*, name, (const char*, const char*));                  \
        if (should_fail_on(BG_FAULT_OPEN, #name, path)) {                        \
            errno = EMFILE;                                             \
            return NULL;                                                \
        }                                                               \
        return real_##name(path, mode);                                 \
    }
DEFINE_FOPEN(fopen)
DEFINE_FOPEN(fopen64)

EXPORT ssize_t read(int fd, void* buf, size_t count) {
    REAL(ssize_t, read, (int, void*, size_t));
    char target[256];
    if (should_fail_on(BG_FAULT_READ, "read", fd_target(fd, target, sizeof target))) {
        errno = EIO;
        return -1;
    }
    return real_read(fd, buf, count);
}

#define DEFINE_PREAD(name)                                              \
    EXPORT ssize_t name(int fd, void* buf, size_t count, off_t off) {   \
        REAL(ssize_t, name, (int, void*, size_t, off_t));               \
        char target[256];                                               \
        if (should_fail_on(BG_FAULT_READ, #name, fd_target(fd, target, sizeof target))) {                        \
            errno = EIO;                                                \
            return -1;                                                  \
        }                                                               \
        return real_##name(fd, buf, count, off);                        \
    }
DEFINE_PREAD(pread)
DEFINE_PREAD(pread64)

EXPORT ssize_t write(int fd, const void* buf, size_t count) {
    REAL(ssize_t, write, (int, const void*, size_t));
    char target[256];
    if (should_fail_on(BG_FAULT_WRITE, "write", fd_target(fd, target, sizeof target))) {
        errno = ENOSPC;
        return -1;
    }
    return real_write(fd, buf, count);
}

#define DEFINE_PWRITE(name)                                                 \
    EXPORT ssize_t name(int fd, const void* buf, size_t count, off_t off) { \
        REAL(ssize_t, name, (int, const void*, size_t, off_t));             \
        char target[256];                                               \
        if (should_fail_on(BG_FAULT_WRITE, #name, fd_target(fd, target, sizeof target))) {                           \
            errno = ENOSPC;                                                 \
            return -1;                                                      \
        }                                                                   \
        return real_##name(fd, buf, count, off);                            \
    }
DEFINE_PWRITE(pwrite)
DEFINE_PWRITE(pwrite64)

EXPORT ssize_t writev(int fd, const struct iovec* iov, int n) {
    REAL(ssize_t, writev, (int, const struct iovec*, int));
    char target[256];
    if (should_fail_on(BG_FAULT_WRITE, "writev", fd_target(fd, target, sizeof target))) {
        errno = ENOSPC;
        return -1;
    }
    return real_writev(fd, iov, n);
}

EXPORT int fsync(int fd) {
    REAL(int, fsync, (int));
    char target[256];
    if (should_fail_on(BG_FAULT_FSYNC, "fsync", fd_target(fd, target, sizeof target))) {
        errno = EIO;
        return -1;
    }
    const int r = real_fsync(fd);
    if (r == 0) note_sync(fd);
    return r;
}

EXPORT int fdatasync(int fd) {
    REAL(int, fdatasync, (int));
    char target[256];
    if (should_fail_on(BG_FAULT_FSYNC, "fdatasync", fd_target(fd, target, sizeof target))) {
        errno = EIO;
        return -1;
    }
    const int r = real_fdatasync(fd);
    if (r == 0) note_sync(fd);
    return r;
}

EXPORT int ftruncate(int fd, off_t length) {
    REAL(int, ftruncate, (int, off_t));
    char target[256];
    if (should_fail_on(BG_FAULT_TRUNCATE, "ftruncate", fd_target(fd, target, sizeof target))) {
        errno = EIO;
        return -1;
    }
    return real_ftruncate(fd, length);
}

EXPORT int posix_fallocate(int fd, off_t offset, off_t len) {
    REAL(int, posix_fallocate, (int, off_t, off_t));
    if (should_fail(BG_FAULT_TRUNCATE, "posix_fallocate")) return ENOSPC; /* returns the error */
    return real_posix_fallocate(fd, offset, len);
}

EXPORT int rename(const char* from, const char* to) {
    REAL(int, rename, (const char*, const char*));
    if (should_fail_on(BG_FAULT_RENAME, "rename", to)) {
        errno = ENOSPC;
        return -1;
    }
    return real_rename(from, to);
}

EXPORT int renameat(int fromdir, const char* from, int todir, const char* to) {
    REAL(int, renameat, (int, const char*, int, const char*));
    if (should_fail_on(BG_FAULT_RENAME, "renameat", to)) {
        errno = ENOSPC;
        return -1;
    }
    return real_renameat(fromdir, from, todir, to);
}

EXPORT int renameat2(int fromdir, const char* from, int todir, const char* to, unsigned flags) {
    REAL(int, renameat2, (int, const char*, int, const char*, unsigned));
    if (should_fail_on(BG_FAULT_RENAME, "renameat2", to)) {
        errno = ENOSPC;
        return -1;
    }
    return real_renameat2(fromdir, from, todir, to, flags);
}

/* ---- sockets ---- */

EXPORT ssize_t send(int fd, const void* buf, size_t len, int flags) {
    REAL(ssize_t, send, (int, const void*, size_t, int));
    char target[256];
    if (should_fail_on(BG_FAULT_SEND, "send", fd_target(fd, target, sizeof target))) {
        errno = ENOBUFS;
        return -1;
    }
    return real_send(fd, buf, len, flags);
}

EXPORT ssize_t sendmsg(int fd, const struct msghdr* msg, int flags) {
    REAL(ssize_t, sendmsg, (int, const struct msghdr*, int));
    char target[256];
    if (should_fail_on(BG_FAULT_SEND, "sendmsg", fd_target(fd, target, sizeof target))) {
        errno = ENOBUFS;
        return -1;
    }
    return real_sendmsg(fd, msg, flags);
}

EXPORT ssize_t recv(int fd, void* buf, size_t len, int flags) {
    REAL(ssize_t, recv, (int, void*, size_t, int));
    char target[256];
    if (should_fail_on(BG_FAULT_RECV, "recv", fd_target(fd, target, sizeof target))) {
        errno = ENOMEM;
        return -1;
    }
    return real_recv(fd, buf, len, flags);
}

EXPORT ssize_t recvmsg(int fd, struct msghdr* msg, int flags) {
    REAL(ssize_t, recvmsg, (int, struct msghdr*, int));
    char target[256];
    if (should_fail_on(BG_FAULT_RECV, "recvmsg", fd_target(fd, target, sizeof target))) {
        errno = ENOMEM;
        return -1;
    }
    return real_recvmsg(fd, msg, flags);
}

EXPORT int connect(int fd, const struct sockaddr* addr, socklen_t len) {
    REAL(int, connect, (int, const struct sockaddr*, socklen_t));
    if (should_fail(BG_FAULT_SEND, "connect")) {
        errno = EAGAIN; /* unix socket: no room in the listener's backlog */
        return -1;
    }
    return real_connect(fd, addr, len);
}

EXPORT int accept4(int fd, struct sockaddr* addr, socklen_t* len, int flags) {
    REAL(int, accept4, (int, struct sockaddr*, socklen_t*, int));
    if (should_fail(BG_FAULT_RECV, "accept4")) {
        errno = EMFILE;
        return -1;
    }
    return real_accept4(fd, addr, len, flags);
}

/* ---- NSS ---- */

EXPORT int getpwnam_r(const char* name, struct passwd* pwd, char* buf, size_t size, struct passwd** result) {
    REAL(int, getpwnam_r, (const char*, struct passwd*, char*, size_t, struct passwd**));
    if (should_fail_on(BG_FAULT_NSS, "getpwnam_r", name)) {
        *result = NULL;
        return EIO;
    }
    return real_getpwnam_r(name, pwd, buf, size, result);
}

EXPORT int getpwuid_r(uid_t uid, struct passwd* pwd, char* buf, size_t size, struct passwd** result) {
    REAL(int, getpwuid_r, (uid_t, struct passwd*, char*, size_t, struct passwd**));
    if (should_fail(BG_FAULT_NSS, "getpwuid_r")) {
        *result = NULL;
        return EIO;
    }
    return real_getpwuid_r(uid, pwd, buf, size, result);
}

EXPORT int getgrnam_r(const char* name, struct group* grp, char* buf, size_t size, struct group** result) {
    REAL(int, getgrnam_r, (const char*, struct group*, char*, size_t, struct group**));
    if (should_fail(BG_FAULT_NSS, "getgrnam_r")) {
        *result = NULL;
        return EIO;
    }
    return real_getgrnam_r(name, grp, buf, size, result);
}

/* ---- libpam (as the module calls it) ---- */

#define BG_PAM_SYSTEM_ERR 4 /* <security/_pam_types.h> */

EXPORT int pam_get_item(const void* pamh, int item_type, const void** item) {
    REAL(int, pam_get_item, (const void*, int, const void**));
    char detail[32];
    snprintf(detail, sizeof detail, "item %d", item_type);
    if (should_fail_on(BG_FAULT_PAM, "pam_get_item", detail)) return BG_PAM_SYSTEM_ERR;
    return real_pam_get_item(pamh, item_type, item);
}

EXPORT int pam_get_user(void* pamh, const char** user, const char* prompt) {
    REAL(int, pam_get_user, (void*, const char**, const char*));
    if (should_fail(BG_FAULT_PAM, "pam_get_user")) return BG_PAM_SYSTEM_ERR;
    return real_pam_get_user(pamh, user, prompt);
}

/* ---- libsystemd: sd-bus and sd-journal (negative errno) ---- */

EXPORT int sd_bus_open_system(void** bus) {
    REAL(int, sd_bus_open_system, (void**));
    if (should_fail(BG_FAULT_SDBUS, "sd_bus_open_system")) return -ENOMEM;
    return real_sd_bus_open_system(bus);
}

EXPORT int sd_bus_new(void** bus) {
    REAL(int, sd_bus_new, (void**));
    if (should_fail(BG_FAULT_SDBUS, "sd_bus_new")) return -ENOMEM;
    return real_sd_bus_new(bus);
}

EXPORT int sd_bus_start(void* bus) {
    REAL(int, sd_bus_start, (void*));
    if (should_fail(BG_FAULT_SDBUS, "sd_bus_start")) return -ECONNREFUSED;
    return real_sd_bus_start(bus);
}

EXPORT int sd_bus_message_new_method_call(void* bus, void** m, const char* dest, const char* path,
                                          const char* iface, const char* member) {
    REAL(int, sd_bus_message_new_method_call, (void*, void**, const char*, const char*, const char*, const char*));
    if (should_fail(BG_FAULT_SDBUS, "sd_bus_message_new_method_call")) return -ENOMEM;
    return real_sd_bus_message_new_method_call(bus, m, dest, path, iface, member);
}

EXPORT int sd_bus_call_async(void* bus, void** slot, void* m, void* callback, void* userdata, uint64_t usec) {
    REAL(int, sd_bus_call_async, (void*, void**, void*, void*, void*, uint64_t));
    if (should_fail(BG_FAULT_SDBUS, "sd_bus_call_async")) return -ENOBUFS;
    return real_sd_bus_call_async(bus, slot, m, callback, userdata, usec);
}

EXPORT int sd_journal_sendv(const struct iovec* iov, int n) {
    REAL(int, sd_journal_sendv, (const struct iovec*, int));
    if (should_fail(BG_FAULT_SDJOURNAL, "sd_journal_sendv")) return -ENOBUFS;
    return real_sd_journal_sendv(iov, n);
}

EXPORT int sd_journal_open_files(void** j, const char** paths, int flags) {
    REAL(int, sd_journal_open_files, (void**, const char**, int));
    if (should_fail(BG_FAULT_SDJOURNAL, "sd_journal_open_files")) return -ENOMEM;
    return real_sd_journal_open_files(j, paths, flags);
}

/* ---- libcrypto (0 or NULL on failure) ---- */

EXPORT unsigned char* HMAC(const void* md, const void* key, int key_len, const unsigned char* data, size_t len,
                           unsigned char* out, unsigned int* out_len) {
    REAL(unsigned char*, HMAC, (const void*, const void*, int, const unsigned char*, size_t, unsigned char*,
                                unsigned int*));
    if (should_fail(BG_FAULT_OPENSSL, "HMAC")) return NULL;
    return real_HMAC(md, key, key_len, data, len, out, out_len);
}

EXPORT unsigned char* SHA256(const unsigned char* data, size_t len, unsigned char* out) {
    REAL(unsigned char*, SHA256, (const unsigned char*, size_t, unsigned char*));
    if (should_fail(BG_FAULT_OPENSSL, "SHA256")) return NULL;
    return real_SHA256(data, len, out);
}

EXPORT int EVP_Digest(const void* data, size_t count, unsigned char* md, unsigned int* size, const void* type,
                      void* engine) {
    REAL(int, EVP_Digest, (const void*, size_t, unsigned char*, unsigned int*, const void*, void*));
    if (should_fail(BG_FAULT_OPENSSL, "EVP_Digest")) return 0;
    return real_EVP_Digest(data, count, md, size, type, engine);
}

EXPORT int EVP_DigestSign(void* ctx, unsigned char* sig, size_t* siglen, const unsigned char* tbs, size_t tbslen) {
    REAL(int, EVP_DigestSign, (void*, unsigned char*, size_t*, const unsigned char*, size_t));
    if (should_fail(BG_FAULT_OPENSSL, "EVP_DigestSign")) return 0;
    return real_EVP_DigestSign(ctx, sig, siglen, tbs, tbslen);
}

EXPORT int EVP_MAC_init(void* ctx, const unsigned char* key, size_t keylen, const void* params) {
    REAL(int, EVP_MAC_init, (void*, const unsigned char*, size_t, const void*));
    if (should_fail(BG_FAULT_OPENSSL, "EVP_MAC_init")) return 0;
    return real_EVP_MAC_init(ctx, key, keylen, params);
}

EXPORT int EVP_MAC_final(void* ctx, unsigned char* out, size_t* outl, size_t outsize) {
    REAL(int, EVP_MAC_final, (void*, unsigned char*, size_t*, size_t));
    if (should_fail(BG_FAULT_OPENSSL, "EVP_MAC_final")) return 0;
    return real_EVP_MAC_final(ctx, out, outl, outsize);
}

EXPORT int RAND_bytes(unsigned char* buf, int num) {
    REAL(int, RAND_bytes, (unsigned char*, int));
    if (should_fail(BG_FAULT_OPENSSL, "RAND_bytes")) return 0;
    return real_RAND_bytes(buf, num);
}

/* ---- libcurl ---- */

EXPORT int curl_easy_perform(void* curl) {
    REAL(int, curl_easy_perform, (void*));
    if (should_fail(BG_FAULT_CURL, "curl_easy_perform")) return 7; /* CURLE_COULDNT_CONNECT */
    return real_curl_easy_perform(curl);
}

/* ---- the allocator (BG_FAULT_WITH_MALLOC only) ---- */

#ifdef BG_FAULT_WITH_MALLOC
/* glibc's own entry points: no dlsym, which itself allocates. */
extern void* __libc_malloc(size_t size);
extern void* __libc_calloc(size_t count, size_t size);
extern void* __libc_realloc(void* p, size_t size);

/* Like should_fail, without snprintf: this runs inside every allocation. */
static int malloc_should_fail(const char* name) {
    init();
    struct bg_fault_shared* s = shared;
    if (s == NULL || !__atomic_load_n(&s->armed, __ATOMIC_ACQUIRE)) return 0;
    if (__atomic_load_n(&s->only_kind, __ATOMIC_ACQUIRE) != BG_FAULT_MALLOC) return 0;
    const uint64_t n = __atomic_add_fetch(&s->calls, 1, __ATOMIC_ACQ_REL);
    if (n <= BG_FAULT_MAX_CALLS) s->kinds[n - 1] = BG_FAULT_MALLOC;
    if (n != __atomic_load_n(&s->fail_at, __ATOMIC_ACQUIRE)) return 0;
    if (__atomic_fetch_add(&s->fired, 1, __ATOMIC_ACQ_REL) != 0) return 0;
    s->fired_at = n;
    s->fired_pid = (int32_t)syscall(SYS_getpid);
    s->fired_kind = BG_FAULT_MALLOC;
    if (getenv("BG_FAULT_BACKTRACE") != NULL) {
        void* frames[64];
        const int depth = backtrace(frames, 64);
        char path[128];
        snprintf(path, sizeof path, "%s.bt.%llu", getenv("BG_FAULT_STATE"), (unsigned long long)n);
        const long fd = syscall(SYS_openat, AT_FDCWD, path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd >= 0) {
            backtrace_symbols_fd(frames, depth, (int)fd);
            syscall(SYS_close, fd);
        }
    }
    const size_t len = strlen(name);
    memcpy(s->fired_name, name, len < sizeof s->fired_name ? len + 1 : sizeof s->fired_name);
    return 1;
}

EXPORT void* malloc(size_t size) {
    if (malloc_should_fail("malloc")) {
        errno = ENOMEM;
        return NULL;
    }
    return __libc_malloc(size);
}

EXPORT void* calloc(size_t count, size_t size) {
    if (malloc_should_fail("calloc")) {
        errno = ENOMEM;
        return NULL;
    }
    return __libc_calloc(count, size);
}

EXPORT void* realloc(void* p, size_t size) {
    if (size != 0 && malloc_should_fail("realloc")) {
        errno = ENOMEM;
        return NULL;
    }
    return __libc_realloc(p, size);
}
#endif
