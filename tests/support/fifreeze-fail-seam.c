/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fifreeze-fail.c — an LD_PRELOAD library that makes FIFREEZE or FITHAW fail
 * with a chosen errno for one filesystem, so the real daemon (or any program,
 * e.g. util-linux fsfreeze) can be tested against failures that cannot be
 * produced for real: EIO or ENOSPC from a filesystem's freeze_fs, EPERM,
 * a thaw that fails. It lives in tests/ and is never linked into the daemon.
 *
 * Environment (read at each call; unset = no injection):
 *   QUIESCE_SEAM_FAIL_FREEZE_DEV=MAJ:MIN   fail FIFREEZE on an fd whose
 *                                          fstat().st_dev is MAJ:MIN
 *   QUIESCE_SEAM_FAIL_FREEZE_PATH=/mnt/x   ... or whose /proc/self/fd path is
 *                                          realpath(/mnt/x)
 *   QUIESCE_SEAM_FAIL_FREEZE_ERRNO=EIO     errno to fail with: a name from the
 *                                          table below or a number; default EIO
 *   QUIESCE_SEAM_FAIL_THAW_DEV / _PATH / _ERRNO   the same for FITHAW
 *   QUIESCE_SEAM_FAIL_THAW_AFTER=1         thaw for real first, then report
 *                                          the error (the filesystem does not
 *                                          stay frozen after the test)
 *   QUIESCE_SEAM_VERBOSE=1                 say on stderr when it injects
 *   QUIESCE_SEAM_WITNESS_FROM=FILE[:FILE]  at each FIFREEZE (before the call),
 *   QUIESCE_SEAM_WITNESS_TO=LOG            append each FILE's first line to LOG
 *                                          (space-separated, one line per call):
 *                                          what files said while the freeze ran
 *   QUIESCE_SEAM_WITNESS_NICE=1            ... and " nice=N", the calling
 *                                          thread's nice value
 *   QUIESCE_SEAM_WITNESS_SYNCFS=1          ... and at each syncfs() too, each
 *                                          line then starting "syncfs " or
 *                                          "FIFREEZE "
 * An injected FIFREEZE failure never reaches the kernel: nothing is frozen.
 *
 * ioctl() is glibc's variadic `int ioctl(int, unsigned long, ...)`; its third
 * argument is one pointer-sized value, forwarded as such to the next ioctl
 * in the lookup order (RTLD_NEXT). Not for 32-bit builds with 64-bit time_t,
 * where glibc redirects ioctl to __ioctl_time64.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* RTLD_NEXT */
#endif
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <linux/fs.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

int ioctl(int fd, unsigned long request, ...);

typedef int (*IoctlFunc)(int fd, unsigned long request, ...);

static const struct {
    const char *name;
    int value;
} seam_errnos[] = {
    { "EIO", EIO },       { "ENOSPC", ENOSPC },   { "EPERM", EPERM },
    { "EBUSY", EBUSY },   { "EINVAL", EINVAL },   { "EOPNOTSUPP", EOPNOTSUPP },
    { "ENOMEM", ENOMEM }, { "EROFS", EROFS },     { "EACCES", EACCES },
    { "ENOTTY", ENOTTY }, { "EINTR", EINTR },     { "EAGAIN", EAGAIN },
};

static int seam_parse_errno(const char *text)
{
    if (!text || !*text) {
        return EIO;
    }
    for (size_t i = 0; i < sizeof(seam_errnos) / sizeof(seam_errnos[0]); i++) {
        if (strcmp(text, seam_errnos[i].name) == 0) {
            return seam_errnos[i].value;
        }
    }
    char *end = NULL;
    long value = strtol(text, &end, 10);
    return (end && *end == '\0' && value > 0 && value < 4096) ? (int)value : EIO;
}

static int seam_dev_matches(int fd, const char *spec)
{
    unsigned maj, min;
    char extra;
    struct stat st;
    if (!spec || sscanf(spec, "%u:%u%c", &maj, &min, &extra) != 2) {
        return 0;
    }
    return fstat(fd, &st) == 0 && st.st_dev == makedev(maj, min);
}

static int seam_path_matches(int fd, const char *spec)
{
    char link[64];
    char target[PATH_MAX];
    char wanted[PATH_MAX];
    if (!spec || !realpath(spec, wanted)) {
        return 0;
    }
    snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, target, sizeof(target) - 1);
    if (n < 0) {
        return 0;
    }
    target[n] = '\0';
    return strcmp(target, wanted) == 0;
}

/* Returns the errno to inject for @fd, or 0. @what is "FREEZE" or "THAW". */
static int seam_injection(int fd, const char *what)
{
    char name[64];
    snprintf(name, sizeof(name), "QUIESCE_SEAM_FAIL_%s_DEV", what);
    int hit = seam_dev_matches(fd, getenv(name));
    snprintf(name, sizeof(name), "QUIESCE_SEAM_FAIL_%s_PATH", what);
    hit = hit || seam_path_matches(fd, getenv(name));
    if (!hit) {
        return 0;
    }
    snprintf(name, sizeof(name), "QUIESCE_SEAM_FAIL_%s_ERRNO", what);
    return seam_parse_errno(getenv(name));
}

/* The first line of @path (or "-" when unreadable) appended to @out. */
static void seam_witness_file(FILE *out, const char *path)
{
    char line[64] = "-";
    FILE *in;

    if ((in = fopen(path, "re"))) {
        if (!fgets(line, sizeof(line), in)) {
            strcpy(line, "-");
        }
        fclose(in);
    }
    line[strcspn(line, "\n")] = '\0';
    fputs(line, out);
}

static int seam_env_on(const char *name)
{
    const char *value = getenv(name);
    return value && strcmp(value, "1") == 0;
}

/* QUIESCE_SEAM_WITNESS_*: one line appended to TO, for a call of @what. */
static void seam_witness(const char *what)
{
    const char *from = getenv("QUIESCE_SEAM_WITNESS_FROM");
    const char *to = getenv("QUIESCE_SEAM_WITNESS_TO");
    char paths[PATH_MAX * 2];
    char *save = NULL;
    FILE *out;

    if (!from || !to || strlen(from) >= sizeof(paths)) {
        return;
    }
    if (!(out = fopen(to, "ae"))) {
        return;
    }
    if (seam_env_on("QUIESCE_SEAM_WITNESS_SYNCFS")) {
        fprintf(out, "%s ", what);
    }
    strcpy(paths, from);
    for (char *path = strtok_r(paths, ":", &save); path; path = strtok_r(NULL, ":", &save)) {
        if (path != paths) {
            fputc(' ', out);
        }
        seam_witness_file(out, path);
    }
    if (seam_env_on("QUIESCE_SEAM_WITNESS_NICE")) {
        errno = 0;
        int nice = getpriority(PRIO_PROCESS, 0);
        fprintf(out, " nice=%d", errno == 0 ? nice : 99);
    }
    fputc('\n', out);
    fclose(out);
}

typedef int (*SyncfsFunc)(int fd);

int syncfs(int fd)
{
    SyncfsFunc next = (SyncfsFunc)dlsym(RTLD_NEXT, "syncfs");
    int saved;

    if (!next) {
        errno = ENOSYS;
        return -1;
    }
    saved = errno;
    if (seam_env_on("QUIESCE_SEAM_WITNESS_SYNCFS")) {
        seam_witness("syncfs");
    }
    errno = saved;
    return next(fd);
}

int ioctl(int fd, unsigned long request, ...)
{
    va_list args;
    va_start(args, request);
    void *arg = va_arg(args, void *);
    va_end(args);

    IoctlFunc next = (IoctlFunc)dlsym(RTLD_NEXT, "ioctl");
    if (!next) {
        errno = ENOSYS;
        return -1;
    }
    int inject = 0;
    int real_first = 0;
    if (request == FIFREEZE) {
        seam_witness("FIFREEZE");
        inject = seam_injection(fd, "FREEZE");
    } else if (request == FITHAW) {
        inject = seam_injection(fd, "THAW");
        const char *after = getenv("QUIESCE_SEAM_FAIL_THAW_AFTER");
        real_first = after && strcmp(after, "1") == 0;
    }
    if (!inject) {
        return next(fd, request, arg);
    }
    if (getenv("QUIESCE_SEAM_VERBOSE")) {
        fprintf(stderr, "fifreeze-fail: %s on fd %d fails with %s\n",
                request == FIFREEZE ? "FIFREEZE" : "FITHAW", fd, strerror(inject));
    }
    if (real_first) {
        next(fd, request, arg);
    }
    errno = inject;
    return -1;
}
