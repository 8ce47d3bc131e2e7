/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * virtio-serial.c — virtio-serial:PATH (default
 * /dev/virtio-ports/org.qemu.guest_agent.0), the channel libvirt, Proxmox
 * and OpenStack use.
 *
 * The guest side of a virtio-serial port stays open for the agent's whole
 * life (libvirt takes a closed port for "agent gone", docs/qga-reference.md §4).
 * While no host process holds the chardev, the Linux driver
 * (drivers/char/virtio_console.c, port_fops_poll) reports POLLHUP and read()
 * returns 0 — level-triggered, so watching the fd would spin; qemu-ga sleeps
 * 100 ms per EOF instead, which both burns CPU and delays a reconnecting host
 * (Proxmox opens a connection per command) inside the freeze window.
 * The driver sends SIGIO to the owner of an O_ASYNC fd whenever the host
 * opens or closes its side (handle_control_message, VIRTIO_CONSOLE_PORT_OPEN
 * -> send_sigio_to_port). So on hang-up we stop watching the fd and wait for
 * SIGIO on a signalfd — zero wake-ups while unconnected, an immediate reaction
 * to the reconnect, where the parser is reset. SIGIO must be blocked in every
 * thread for the signalfd to receive it: main() blocks it before anything
 * else (agent/main.c) and children unblock it.
 */
#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "common/quiesce-error.h"
#include "transports/fd-stream.h"
#include "transports/transport.h"

typedef struct {
    int fd;
    int signal_fd;
    guint signal_watch;
    FdStream *stream; /* non-NULL while a host is connected */
    Transport *transport;
} VirtioSerial;

static void virtio_host_gone(void *opaque);

/* Non-blocking check of the host side: POLLHUP means nobody is there. */
static gboolean virtio_host_present(const VirtioSerial *port)
{
    struct pollfd pfd = { .fd = port->fd, .events = POLLIN };

    return poll(&pfd, 1, 0) >= 0 && !(pfd.revents & POLLHUP);
}

static void virtio_host_data(void *opaque, const char *bytes, gsize len)
{
    VirtioSerial *port = opaque;

    port->transport->events.data(port->transport->opaque, TRANSPORT_CONN_SOLE, bytes, len);
}

static void virtio_attach_host(VirtioSerial *port)
{
    port->transport->events.connected(port->transport->opaque, TRANSPORT_CONN_SOLE);
    port->stream = fd_stream_new(port->fd, virtio_host_data, virtio_host_gone, port);
}

static gboolean virtio_detach_idle(gpointer user_data)
{
    VirtioSerial *port = user_data;

    g_clear_pointer(&port->stream, fd_stream_free);
    /* The host may have come back between the hang-up and now. */
    if (virtio_host_present(port)) {
        virtio_attach_host(port);
    }
    return G_SOURCE_REMOVE;
}

static void virtio_host_gone(void *opaque)
{
    VirtioSerial *port = opaque;

    port->transport->events.disconnected(port->transport->opaque, TRANSPORT_CONN_SOLE);
    g_idle_add(virtio_detach_idle, port);
}

static gboolean virtio_sigio(int fd, GIOCondition condition, gpointer user_data)
{
    VirtioSerial *port = user_data;
    struct signalfd_siginfo info;

    /* Drain: SIGIO is not queued, at most one is pending. */
    while (read(fd, &info, sizeof(info)) == sizeof(info)) {
    }
    if (!port->stream && virtio_host_present(port)) {
        virtio_attach_host(port);
    }
    return G_SOURCE_CONTINUE;
}

static gboolean virtio_setup_sigio(VirtioSerial *port, GError **error)
{
    sigset_t set;

    sigemptyset(&set);
    sigaddset(&set, SIGIO);
    port->signal_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (port->signal_fd < 0 || fcntl(port->fd, F_SETOWN, getpid()) < 0 ||
        fcntl(port->fd, F_SETFL, fcntl(port->fd, F_GETFL) | O_ASYNC) < 0) {
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED,
                    "cannot watch %s for host connections: %s", port->transport->address,
                    g_strerror(errno));
        return FALSE;
    }
    port->signal_watch = g_unix_fd_add(port->signal_fd, G_IO_IN, virtio_sigio, port);
    return TRUE;
}

static gboolean virtio_open(Transport *transport, GError **error)
{
    VirtioSerial *port = transport->priv;

    port->transport = transport;
    port->signal_fd = -1;
    port->fd = open(transport->address, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (port->fd < 0) {
        int saved = errno;
        g_set_error(error, QUIESCE_ERROR,
                    saved == EBUSY ? QUIESCE_ERROR_BUSY : QUIESCE_ERROR_FAILED,
                    "cannot open %s: %s%s", transport->address, g_strerror(saved),
                    saved == EBUSY ? " (another process holds the port: a second agent, or a"
                                     " child that inherited it)"
                                   : "");
        return FALSE;
    }
    if (!virtio_setup_sigio(port, error)) {
        return FALSE;
    }
    if (virtio_host_present(port)) {
        virtio_attach_host(port);
    }
    return TRUE;
}

static void virtio_write(Transport *transport, TransportConn conn, const char *bytes, gsize len)
{
    VirtioSerial *port = transport->priv;

    /* With no host the driver would block or return EAGAIN forever; a reply
     * nobody can read is dropped (qemu-ga busy-waits here and hands the stale
     * reply to the next host). */
    if (port->stream) {
        fd_stream_write(port->stream, bytes, len);
    }
}

static void virtio_close(Transport *transport)
{
    VirtioSerial *port = transport->priv;

    if (!port->transport) {
        return;
    }
    g_idle_remove_by_data(port);
    g_clear_pointer(&port->stream, fd_stream_free);
    g_clear_handle_id(&port->signal_watch, g_source_remove);
    if (port->signal_fd >= 0) {
        close(port->signal_fd);
    }
    if (port->fd >= 0) {
        close(port->fd);
    }
    port->transport = NULL;
}

const TransportOps transport_virtio_serial_ops = {
    .kind = "virtio-serial",
    .framing = TRANSPORT_FRAMING_STREAM,
    .default_address = "/dev/virtio-ports/org.qemu.guest_agent.0",
    .priv_size = sizeof(VirtioSerial),
    .open = virtio_open,
    .write = virtio_write,
    .close = virtio_close,
};
