/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * open-busy-seam.c — LD_PRELOAD library for tests: open(2) of the path in
 * QUIESCE_SEAM_BUSY_PATH fails with EBUSY, as the kernel's hv_vss device
 * does while another process holds it (hv_utils_transport.c, hvt_op_open).
 * Every other open goes to libc. Built as a module, never linked into the
 * daemon.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

typedef int (*OpenFn)(const char *, int, ...);

int open(const char *path, int flags, ...);
int open64(const char *path, int flags, ...);
int __open_2(const char *path, int flags);
int __open64_2(const char *path, int flags);

static int seam_busy(const char *path)
{
    const char *busy = getenv("QUIESCE_SEAM_BUSY_PATH");

    return busy && path && strcmp(busy, path) == 0;
}

static int seam_open(const char *symbol, const char *path, int flags, mode_t mode)
{
    OpenFn real = (OpenFn)dlsym(RTLD_NEXT, symbol);

    if (seam_busy(path)) {
        errno = EBUSY;
        return -1;
    }
    return real(path, flags, mode);
}

static mode_t seam_mode(int flags, va_list ap)
{
    return (flags & (O_CREAT | O_TMPFILE)) ? va_arg(ap, mode_t) : 0;
}

int open(const char *path, int flags, ...)
{
    va_list ap;
    mode_t mode;

    va_start(ap, flags);
    mode = seam_mode(flags, ap);
    va_end(ap);
    return seam_open("open", path, flags, mode);
}

int open64(const char *path, int flags, ...)
{
    va_list ap;
    mode_t mode;

    va_start(ap, flags);
    mode = seam_mode(flags, ap);
    va_end(ap);
    return seam_open("open64", path, flags, mode);
}

int __open_2(const char *path, int flags)
{
    return seam_open("open", path, flags, 0);
}

int __open64_2(const char *path, int flags)
{
    return seam_open("open64", path, flags, 0);
}
