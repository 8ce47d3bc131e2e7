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
 *
 * One signalfd for every port, and each SIGIO re-checks them all. SIGIO is
 * one pending bit per process, whichever port raised it (the driver raises
 * it on a host's open and close and on every arrival of bytes), and reading
 * it from any signalfd clears it. With a signalfd per port, a SIGIO that
 * came for port A after A's handler had checked A, but before port B's
 * handler read its signalfd in the same main-loop round, was taken by B's
 * handler, which checks B only: A never saw its host, whose request then
 * waited for the next SIGIO, forever if the host waits for the answer
 * (tests/integration/test-virtio-sigio.py; a possible cause of a guest-sync
 * unanswered for 30 s in vm/systemd-resilience once the agent served a
 * second port, never seen again in a guest). The list of open ports
 * is the one piece of process-wide state in the daemon besides main.c's
 * options (docs/style.md §5): it mirrors the signal's own, which two agents
 * in one process would share as well.
 *
 * Back-to-back reconnects (a host that closes and connects again at once, as
 * Proxmox does per command) and the rule for replies. The driver learns of
 * the host's close and of the next open from two control messages, handled
 * later in a workqueue, while the new host's bytes arrive on the port's own
 * queue and are readable at once; so under load the agent reads the new
 * request while the port still shows the old connection, or already shows
 * none (POLLHUP, and read() still returns queued bytes). Then the reply's
 * write finds no host (EAGAIN: the close was just handled, the open not yet)
 * and, before this rule, the hang-up that followed dropped it: 1-2 of 200
 * commands lost under TCG (tests/vm/scenario-reconnect.sh, the trace of
 * `quiesced -v`: "read 97 IN HUP", two writes EAGAIN, "read 0", 31 bytes
 * dropped, the open 0.9 ms later). Bytes carry no connection: the agent
 * knows connections only by the notices it sees (POLLHUP, SIGIO), and those
 * trail the bytes. The rule:
 *   - A reply the agent wrote (all of it, or the rest of it) that the port
 *     refused because it saw no host is kept at the hang-up, and goes to the
 *     host the agent sees next if that host is there within VIRTIO_HOLD_US
 *     (1 s) of the hang-up; else it is dropped. A reconnect the driver is
 *     still catching up with takes milliseconds (0.5-8 ms measured under
 *     TCG); a host that sent and left without its reply is followed, if
 *     ever, by a host that did not ask, which must not get it.
 *   - The hang-up is taken when read() returns 0 (POLLHUP and nothing
 *     queued). Bytes read before it, even under POLLHUP, are fed to the
 *     conversation of the time (the next host's request or the old host's
 *     last); bytes read after it go to the next host's conversation, which
 *     starts with a reset parser. A request still running at the hang-up
 *     is the old host's: its conversation ends and its reply goes nowhere
 *     (agent/channels/qga-channel.c).
 *   - What the agent cannot see, it cannot sort: a reply written while the
 *     port still shows the old host reaches QEMU, which passes it to
 *     whichever connection it holds then, or keeps it for the next (a write
 *     that met the closed socket). qemu-ga hands every such reply to the
 *     next host; quiesced only those QEMU carries over.
 * Hosts match replies to requests with guest-sync-delimited's id, as every
 * QGA client does.
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

/* Replies the port refused at a hang-up go to a host that connects within
 * this long after it, else nowhere (see the top of the file). */
#define VIRTIO_HOLD_US (1 * G_USEC_PER_SEC)

#define VIRTIO_TRACE(fmt, ...) \
    g_debug("virtio-serial %" G_GINT64_FORMAT " us: " fmt, g_get_monotonic_time(), __VA_ARGS__)

typedef struct {
    int fd;
    gboolean watched; /* in virtio_sigio_ports */
    FdStream *stream; /* non-NULL while a host is connected */
    Transport *transport;
    GByteArray *held; /* replies refused at the last hang-up */
    gint64 held_at;   /* when (monotonic µs) */
} VirtioSerial;

static void virtio_host_gone(void *opaque);

/* The ports open in this process and the signalfd that serves them all
 * (see the top of the file). */
typedef struct {
    int fd; /* the signalfd, -1 while no port is open */
    guint watch;
    GPtrArray *ports; /* VirtioSerial, borrowed */
} VirtioSigio;

static VirtioSigio virtio_sigio_ports = { .fd = -1 };

/* Non-blocking check of the host side: POLLHUP means nobody is there. */
static gboolean virtio_host_present(const VirtioSerial *port)
{
    struct pollfd pfd = { .fd = port->fd, .events = POLLIN };
    int rc = poll(&pfd, 1, 0);

    VIRTIO_TRACE("poll: %s%s", pfd.revents & POLLIN ? "IN " : "",
                 rc >= 0 && !(pfd.revents & POLLHUP) ? "host present" : "HUP");
    return rc >= 0 && !(pfd.revents & POLLHUP);
}

static void virtio_host_data(void *opaque, const char *bytes, gsize len)
{
    VirtioSerial *port = opaque;

    port->transport->events.data(port->transport->opaque, TRANSPORT_CONN_SOLE, bytes, len);
}

static void virtio_attach_host(VirtioSerial *port)
{
    VIRTIO_TRACE("%s", "attach: connected, parser reset");
    port->transport->events.connected(port->transport->opaque, TRANSPORT_CONN_SOLE);
    port->stream = fd_stream_new(port->fd, virtio_host_data, virtio_host_gone, port);
    if (port->held->len > 0) {
        gint64 age = g_get_monotonic_time() - port->held_at;

        VIRTIO_TRACE("%u held reply bytes from a hang-up %" G_GINT64_FORMAT " us ago: %s",
                     port->held->len, age, age <= VIRTIO_HOLD_US ? "sent" : "dropped");
        if (age <= VIRTIO_HOLD_US) {
            fd_stream_write(port->stream, (const char *)port->held->data, port->held->len);
        }
        g_byte_array_set_size(port->held, 0);
    }
}

static gboolean virtio_detach_idle(gpointer user_data)
{
    VirtioSerial *port = user_data;

    VIRTIO_TRACE("%s", "detach");
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

    VIRTIO_TRACE("%s", "stream ended: disconnected");
    g_byte_array_set_size(port->held, 0);
    fd_stream_take_unsent(port->stream, port->held);
    port->held_at = g_get_monotonic_time();
    port->transport->events.disconnected(port->transport->opaque, TRANSPORT_CONN_SOLE);
    g_idle_add(virtio_detach_idle, port);
}

static gboolean virtio_sigio(int fd, GIOCondition condition, gpointer user_data)
{
    VirtioSigio *sigio = user_data;
    struct signalfd_siginfo info;

    /* Drain: SIGIO is not queued, at most one is pending. */
    while (read(fd, &info, sizeof(info)) == sizeof(info)) {
        VIRTIO_TRACE("SIGIO band %#x, %u port(s)", (unsigned)info.ssi_band, sigio->ports->len);
    }
    /* Every port: the signal does not say whose it was. Attaching calls
     * nothing that opens or closes a port. */
    for (guint i = 0; i < sigio->ports->len; i++) {
        VirtioSerial *port = g_ptr_array_index(sigio->ports, i);

        if (!port->stream && virtio_host_present(port)) {
            virtio_attach_host(port);
        }
    }
    return G_SOURCE_CONTINUE;
}

static void virtio_sigio_unwatch(VirtioSerial *port)
{
    VirtioSigio *sigio = &virtio_sigio_ports;

    if (!port->watched) {
        return;
    }
    port->watched = FALSE;
    g_ptr_array_remove(sigio->ports, port);
    if (sigio->ports->len == 0) {
        g_clear_handle_id(&sigio->watch, g_source_remove);
        close(sigio->fd);
        sigio->fd = -1;
        g_clear_pointer(&sigio->ports, g_ptr_array_unref);
    }
}

static gboolean virtio_sigio_watch(VirtioSerial *port, GError **error)
{
    VirtioSigio *sigio = &virtio_sigio_ports;

    if (sigio->fd < 0) {
        sigset_t set;

        sigemptyset(&set);
        sigaddset(&set, SIGIO);
        sigio->fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
        if (sigio->fd < 0) {
            g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED,
                        "cannot watch %s for host connections: signalfd: %s",
                        port->transport->address, g_strerror(errno));
            return FALSE;
        }
        sigio->ports = g_ptr_array_new();
        sigio->watch = g_unix_fd_add(sigio->fd, G_IO_IN, virtio_sigio, sigio);
    }
    g_ptr_array_add(sigio->ports, port);
    port->watched = TRUE;
    if (fcntl(port->fd, F_SETOWN, getpid()) < 0 ||
        fcntl(port->fd, F_SETFL, fcntl(port->fd, F_GETFL) | O_ASYNC) < 0) {
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED,
                    "cannot watch %s for host connections: %s", port->transport->address,
                    g_strerror(errno));
        virtio_sigio_unwatch(port);
        return FALSE;
    }
    return TRUE;
}

static gboolean virtio_open(Transport *transport, GError **error)
{
    VirtioSerial *port = transport->priv;

    port->transport = transport;
    port->held = g_byte_array_new();
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
    if (!virtio_sigio_watch(port, error)) {
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
    virtio_sigio_unwatch(port);
    if (port->fd >= 0) {
        close(port->fd);
    }
    g_clear_pointer(&port->held, g_byte_array_unref);
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
