/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * virtio-port-seam.c — LD_PRELOAD library for tests: a unix socket stands
 * in for a virtio-serial port (transports/virtio-serial.c), so the real
 * daemon's port handling runs on a machine without one. Active when
 * QUIESCE_SEAM_VIRTIO is set; built as a module, never linked into the
 * daemon.
 *
 *   open(2)  of a path that is a unix socket connects to it: the test's
 *            end is the host's chardev. O_NONBLOCK and O_CLOEXEC carry
 *            over; F_SETOWN and O_ASYNC work on sockets, and the kernel
 *            sends SIGIO when bytes arrive, as the virtio console driver
 *            does (drivers/char/virtio_console.c, in_intr).
 *   poll(2)  of that one fd alone (the transport's check for a host):
 *            POLLHUP while PATH.host does not exist (no host holds the
 *            chardev), else the real poll.
 *
 * QUIESCE_SEAM_VIRTIO=late: the first check that finds PATH.host still
 * answers POLLHUP, and raises SIGIO — the driver's host-open notice,
 * handled in its workqueue after the bytes that came with it, landing
 * just after the agent looked (tests/integration/test-virtio-sigio.py).
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <unistd.h>

#define SEAM_PORTS_MAX 8

typedef int (*OpenFn)(const char *, int, ...);
typedef int (*PollFn)(struct pollfd *, nfds_t, int);

typedef struct {
    int fd; /* -1: free */
    char marker[sizeof(((struct sockaddr_un *)0)->sun_path) + 8]; /* PATH.host */
    int late_done;
} SeamPort;

/* The ports this process opened (test-only: one process, one table). */
static SeamPort seam_ports[SEAM_PORTS_MAX];
static int seam_ports_used;

int poll(struct pollfd *fds, nfds_t nfds, int timeout);

static int seam_is_port_path(const char *path)
{
    struct stat st;

    return getenv("QUIESCE_SEAM_VIRTIO") && path && stat(path, &st) == 0 && S_ISSOCK(st.st_mode);
}

static int seam_connect(const char *path, int flags)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    int fd;

    if (strlen(path) >= sizeof(addr.sun_path) || seam_ports_used >= SEAM_PORTS_MAX) {
        errno = ENAMETOOLONG;
        return -1;
    }
    strcpy(addr.sun_path, path);
    fd = socket(AF_UNIX, SOCK_STREAM | ((flags & O_CLOEXEC) ? SOCK_CLOEXEC : 0), 0);
    if (fd < 0) {
        return -1;
    }
    if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
        ((flags & O_NONBLOCK) && fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0)) {
        int saved = errno;

        close(fd);
        errno = saved;
        return -1;
    }
    seam_ports[seam_ports_used].fd = fd;
    snprintf(seam_ports[seam_ports_used].marker, sizeof(seam_ports[0].marker), "%s.host", path);
    seam_ports_used++;
    return fd;
}

static int seam_open(const char *symbol, const char *path, int flags, mode_t mode)
{
    OpenFn real = (OpenFn)dlsym(RTLD_NEXT, symbol);

    if (seam_is_port_path(path)) {
        return seam_connect(path, flags);
    }
    return real(path, flags, mode);
}

#include "seam-open.h"

static SeamPort *seam_port_of(int fd)
{
    for (int i = 0; i < seam_ports_used; i++) {
        if (seam_ports[i].fd == fd) {
            return &seam_ports[i];
        }
    }
    return NULL;
}

int poll(struct pollfd *fds, nfds_t nfds, int timeout)
{
    PollFn real = (PollFn)dlsym(RTLD_NEXT, "poll");
    SeamPort *port = nfds == 1 ? seam_port_of(fds[0].fd) : NULL;
    const char *mode = getenv("QUIESCE_SEAM_VIRTIO");

    if (!port) {
        return real(fds, nfds, timeout);
    }
    if (access(port->marker, F_OK) == 0) {
        if (!(mode && strcmp(mode, "late") == 0) || port->late_done) {
            return real(fds, nfds, timeout);
        }
        port->late_done = 1;
        kill(getpid(), SIGIO); /* the open notice, just too late for this look */
    }
    fds[0].revents = POLLHUP;
    return 1;
}
