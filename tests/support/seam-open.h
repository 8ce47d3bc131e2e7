/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * seam-open.h — the open(2) family of an LD_PRELOAD seam (open, open64 and
 * the _FORTIFY_SOURCE entry points), each handing the path, flags and mode
 * to the seam's own
 *     static int seam_open(const char *symbol, const char *path, int flags,
 *                          mode_t mode);
 * which the seam defines before including this, once, in its one source
 * file. symbol is libc's name to call through dlsym(RTLD_NEXT, symbol).
 */
#ifndef QUIESCE_TESTS_SUPPORT_SEAM_OPEN_H
#define QUIESCE_TESTS_SUPPORT_SEAM_OPEN_H

#include <fcntl.h>
#include <stdarg.h>
#include <sys/types.h>

int open(const char *path, int flags, ...);
int open64(const char *path, int flags, ...);
int __open_2(const char *path, int flags);
int __open64_2(const char *path, int flags);

static mode_t seam_mode(int flags, va_list ap)
{
    return (flags & (O_CREAT | O_TMPFILE)) ? va_arg(ap, mode_t) : 0;
}

static int seam_open_va(const char *symbol, const char *path, int flags, va_list ap)
{
    return seam_open(symbol, path, flags, seam_mode(flags, ap));
}

int open(const char *path, int flags, ...)
{
    va_list ap;
    int fd;

    va_start(ap, flags);
    fd = seam_open_va("open", path, flags, ap);
    va_end(ap);
    return fd;
}

int open64(const char *path, int flags, ...)
{
    va_list ap;
    int fd;

    va_start(ap, flags);
    fd = seam_open_va("open64", path, flags, ap);
    va_end(ap);
    return fd;
}

int __open_2(const char *path, int flags)
{
    return seam_open("open", path, flags, 0);
}

int __open64_2(const char *path, int flags)
{
    return seam_open("open64", path, flags, 0);
}

#endif
