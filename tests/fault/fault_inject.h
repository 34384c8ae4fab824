/* SPDX-License-Identifier: ISC */
/* The state the fault interposer (fault_inject.c, loaded with LD_PRELOAD into
 * breakglassd, breakglassctl and the PAM client) shares with the driver
 * (fault_driver.cpp) through a file named by BG_FAULT_STATE, mapped by every
 * process: one call counter over all of them, so "the Nth call" is the Nth
 * failable call of the whole scenario, whichever process makes it. */
#ifndef BG_FAULT_INJECT_H
#define BG_FAULT_INJECT_H

#include <stdint.h>

#define BG_FAULT_MAX_CALLS 65536
#define BG_FAULT_MAX_SYNCS 256

/* What each counted call is (kinds[] of the counting run). */
enum bg_fault_kind {
    BG_FAULT_NONE = 0,
    BG_FAULT_OPEN,
    BG_FAULT_READ,
    BG_FAULT_WRITE,
    BG_FAULT_FSYNC,
    BG_FAULT_RENAME,
    BG_FAULT_SEND,
    BG_FAULT_RECV,
    BG_FAULT_NSS,
    BG_FAULT_PAM,
    BG_FAULT_SDBUS,
    BG_FAULT_SDJOURNAL,
    BG_FAULT_OPENSSL,
    BG_FAULT_CURL,
    BG_FAULT_TRUNCATE,
    BG_FAULT_MALLOC, /* only in a build with BG_FAULT_WITH_MALLOC (not under ASan, whose allocator wins) */
    BG_FAULT_KIND_COUNT
};

struct bg_fault_sync {
    uint64_t index; /* the call's number */
    int64_t size;   /* the audit log's size once synced */
};

struct bg_fault_shared {
    uint64_t armed;   /* 1: calls are counted (and may fail); set by the driver */
    uint64_t fail_at; /* the call to fail (1-based); 0: none, count only */
    uint64_t calls;   /* counted calls so far */
    uint64_t only_kind; /* if not 0: only calls of this kind are counted (and may fail); 0: every kind but malloc */
    char match[160];  /* if set: fail the first call named so ("pam_get_item item 3"), whatever its number */
    uint64_t fired;   /* calls failed */
    uint64_t fired_at; /* the failed call's number */
    int32_t fired_pid;
    int32_t fired_kind;
    char fired_name[160]; /* the call, and what it was on (a path, an item) */
    uint64_t syncs;   /* successful fsync/fdatasync of a file named audit.log */
    struct bg_fault_sync sync[BG_FAULT_MAX_SYNCS];
    unsigned char kinds[BG_FAULT_MAX_CALLS];
};

#endif
