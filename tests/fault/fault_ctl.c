/* SPDX-License-Identifier: ISC */
/* fault_ctl: the fault interposer's state file (fault_inject.h) from a shell,
 * for the system test's sweeps of the packaged daemon (scripts/system-test.sh,
 * scenario i), where the driver is a script:
 *
 *   fault_ctl FILE init              create it (0600), zeroed, disarmed
 *   fault_ctl FILE arm KIND N        count only KIND (sd-bus | malloc), fail call N (0: count only)
 *   fault_ctl FILE disarm            stop counting; what was counted stays
 *   fault_ctl FILE report            calls=C fired=F at=N pid=P name=NAME
 *
 * Exit status 0, or 2 with a message on a usage or file error. */
#include "fault_inject.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static int usage(void) {
    fputs("usage: fault_ctl FILE init | arm sd-bus|malloc N | disarm | report\n", stderr);
    return 2;
}

static struct bg_fault_shared* map(const char* path, int create) {
    const int fd = open(path, O_RDWR | O_CLOEXEC | (create ? O_CREAT | O_TRUNC | O_NOFOLLOW : 0), 0600);
    if (fd < 0) {
        fprintf(stderr, "fault_ctl: %s: %s\n", path, strerror(errno));
        return NULL;
    }
    if (create && ftruncate(fd, sizeof(struct bg_fault_shared)) != 0) {
        fprintf(stderr, "fault_ctl: %s: %s\n", path, strerror(errno));
        close(fd);
        return NULL;
    }
    void* p = mmap(NULL, sizeof(struct bg_fault_shared), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (p == MAP_FAILED) {
        fprintf(stderr, "fault_ctl: mmap %s: %s\n", path, strerror(errno));
        return NULL;
    }
    return p;
}

int main(int argc, char** argv) {
    if (argc < 3) return usage();
    const char* cmd = argv[2];
    if (strcmp(cmd, "init") == 0 && argc == 3) return map(argv[1], 1) != NULL ? 0 : 2;
    struct bg_fault_shared* s = map(argv[1], 0);
    if (s == NULL) return 2;
    if (strcmp(cmd, "arm") == 0 && argc == 5) {
        uint64_t kind;
        if (strcmp(argv[3], "sd-bus") == 0) kind = BG_FAULT_SDBUS;
        else if (strcmp(argv[3], "malloc") == 0) kind = BG_FAULT_MALLOC;
        else return usage();
        char* end = NULL;
        errno = 0;
        const unsigned long long n = strtoull(argv[4], &end, 10);
        if (errno != 0 || end == argv[4] || *end != '\0') return usage();
        __atomic_store_n(&s->armed, 0, __ATOMIC_RELEASE);
        s->fail_at = n;
        s->calls = 0;
        s->match[0] = '\0';
        s->fired = 0;
        s->fired_at = 0;
        s->fired_pid = 0;
        s->fired_kind = 0;
        s->fired_name[0] = '\0';
        s->syncs = 0;
        __atomic_store_n(&s->only_kind, kind, __ATOMIC_RELEASE);
        __atomic_store_n(&s->armed, 1, __ATOMIC_RELEASE);
        return 0;
    }
    if (strcmp(cmd, "disarm") == 0 && argc == 3) {
        __atomic_store_n(&s->armed, 0, __ATOMIC_RELEASE);
        return 0;
    }
    if (strcmp(cmd, "report") == 0 && argc == 3) {
        char name[sizeof s->fired_name + 1];
        memcpy(name, s->fired_name, sizeof s->fired_name);
        name[sizeof s->fired_name] = '\0';
        for (char* c = name; *c != '\0'; ++c)
            if (*c <= ' ' || *c == 0x7f) *c = '_';
        printf("calls=%llu fired=%llu at=%llu pid=%d name=%s\n", (unsigned long long)s->calls,
               (unsigned long long)s->fired, (unsigned long long)s->fired_at, (int)s->fired_pid,
               name[0] != '\0' ? name : "-");
        return 0;
    }
    return usage();
}
