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

#include "seam-open.h"
