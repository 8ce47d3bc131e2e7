/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vsock.c — vsock-listen:PORT or vsock-listen:CID:PORT.
 *
 * qemu-ga takes "-p CID:PORT"; we also accept a bare PORT, meaning any CID
 * (VMADDR_CID_ANY), which is what a guest listening for its host wants.
 */
#include <errno.h>
#include <linux/vm_sockets.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/quiesce-error.h"
#include "transports/listener.h"

static gboolean vsock_parse(const char *address, unsigned *cid, unsigned *port, GError **error)
{
    g_auto(GStrv) parts = g_strsplit(address, ":", 2);
    guint64 cid_value = VMADDR_CID_ANY;
    guint64 port_value;
    gboolean ok = TRUE;

    if (parts[1]) {
        ok = g_ascii_string_to_unsigned(parts[0], 10, 0, G_MAXUINT32, &cid_value, NULL);
    }
    ok = ok && g_ascii_string_to_unsigned(parts[1] ? parts[1] : parts[0], 10, 0, G_MAXUINT32,
                                          &port_value, NULL);
    if (ok) {
        *cid = (unsigned)cid_value;
        *port = (unsigned)port_value;
        return TRUE;
    }
    g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_INVALID_ARGUMENT,
                "bad vsock address '%s' (expected PORT or CID:PORT)", address);
    return FALSE;
}

static gboolean vsock_open(Transport *transport, GError **error)
{
    struct sockaddr_vm addr = { .svm_family = AF_VSOCK };
    unsigned cid;
    unsigned port;
    int fd;

    if (!vsock_parse(transport->address, &cid, &port, error)) {
        return FALSE;
    }
    addr.svm_cid = cid;
    addr.svm_port = port;
    fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(fd, LISTENER_BACKLOG) < 0) {
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED,
                    "cannot listen on vsock %s: %s", transport->address, g_strerror(errno));
        if (fd >= 0) {
            close(fd);
        }
        return FALSE;
    }
    listener_start(transport->priv, transport, fd);
    return TRUE;
}

static void vsock_write(Transport *transport, TransportConn conn, const char *bytes, gsize len)
{
    listener_write(transport->priv, conn, bytes, len);
}

static void vsock_close(Transport *transport)
{
    listener_stop(transport->priv);
}

const TransportOps transport_vsock_listen_ops = {
    .kind = "vsock-listen",
    .framing = TRANSPORT_FRAMING_STREAM,
    .default_address = NULL,
    .priv_size = sizeof(Listener),
    .open = vsock_open,
    .write = vsock_write,
    .close = vsock_close,
};
