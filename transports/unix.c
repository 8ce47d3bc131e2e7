/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * unix.c — unix-listen:PATH, for tests and local use.
 *
 * The socket file is created with mode 0600 (umask 0177 around bind(), so no
 * other user can connect in the window a later chmod() would leave) and a
 * stale socket file from an earlier run is replaced; anything else at PATH
 * that is not a socket is refused rather than deleted.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/quiesce-error.h"
#include "transports/listener.h"

static gboolean unix_remove_stale(const char *path, GError **error)
{
    struct stat st;

    if (lstat(path, &st) < 0) {
        return TRUE;
    }
    if (!S_ISSOCK(st.st_mode)) {
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_INVALID_ARGUMENT,
                    "%s exists and is not a socket; refusing to replace it", path);
        return FALSE;
    }
    unlink(path);
    return TRUE;
}

static int unix_listen_fd(const char *path, GError **error)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    int fd;
    int rc;
    mode_t old_umask;

    if (strlen(path) >= sizeof(addr.sun_path)) {
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_INVALID_ARGUMENT,
                    "socket path too long: %s", path);
        return -1;
    }
    if (!unix_remove_stale(path, error)) {
        return -1;
    }
    strcpy(addr.sun_path, path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED, "socket: %s", g_strerror(errno));
        return -1;
    }
    old_umask = umask(0177);
    rc = bind(fd, (struct sockaddr *)&addr, sizeof(addr));
    umask(old_umask);
    if (rc < 0 || listen(fd, LISTENER_BACKLOG) < 0) {
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED, "cannot listen on %s: %s",
                    path, g_strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

static gboolean unix_open(Transport *transport, GError **error)
{
    int fd = unix_listen_fd(transport->address, error);

    if (fd < 0) {
        return FALSE;
    }
    listener_start(transport->priv, transport, fd);
    return TRUE;
}

static void unix_write(Transport *transport, TransportConn conn, const char *bytes, gsize len)
{
    listener_write(transport->priv, conn, bytes, len);
}

static void unix_close(Transport *transport)
{
    Listener *listener = transport->priv;

    if (listener->transport) {
        listener_stop(listener);
        unlink(transport->address);
    }
}

const TransportOps transport_unix_listen_ops = {
    .kind = "unix-listen",
    .framing = TRANSPORT_FRAMING_STREAM,
    .default_address = NULL,
    .priv_size = sizeof(Listener),
    .open = unix_open,
    .write = unix_write,
    .close = unix_close,
};
