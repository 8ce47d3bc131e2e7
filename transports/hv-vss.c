/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hv-vss.c — the kernel's /dev/vmbus/hv_vss as a message transport; the
 * contract is in the header. Kernel behaviour this file relies on, all from
 * drivers/hv/hv_utils_transport.c and drivers/hv/hv_snapshot.c:
 *
 *  - One holder: hvt_op_open() fails with EBUSY while another process has
 *    the device open (hv_vss_daemon, a second quiesced). That is fatal at
 *    start-up, with the unit to stop named in the error.
 *  - hvt_op_read() waits for a message whatever O_NONBLOCK says, so we read
 *    only when poll() reported POLLIN. A buffer smaller than the queued
 *    message fails with EINVAL; ours is larger than any message.
 *  - A reply is accepted only while the request is active (vss_on_msg:
 *    "Transaction not active" -> EINVAL). The kernel gives up on a request
 *    after 900 s for FREEZE and 30 s for the others (vss_send_op,
 *    VSS_FREEZE_TIMEOUT / HV_UTIL_TIMEOUT) and answers the host HV_E_FAIL
 *    itself; hv_vss_pre_suspend() fakes a THAW before hibernation and forces
 *    the state back to READY. Either way our write() fails, and like
 *    hv_vss_daemon (its reopen_vss_fd path) we close, let the owner thaw,
 *    reopen and register again. Closing resets the kernel's side
 *    (hvt_op_release -> vss_on_reset).
 *  - When the driver goes away (integration service switched off, hv_utils
 *    unloaded) hvt_op_poll() reports POLLERR|POLLHUP and reads fail with
 *    EBADF; hvutil_transport_destroy() then *waits for our release*, so the
 *    fd is closed at once. The node disappears and may come back later: we
 *    retry the open with backoff (100 ms doubling to 5 s) for as long as it
 *    takes, without a restart.
 *
 * Logging: the transport recovers on its own, outside any caller that could
 * take a GError, so it logs its device's life (lost, why, back) itself.
 */
#include "transports/hv-vss.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/quiesce-error.h"

#define HV_VSS_BACKOFF_FIRST_MS 100
#define HV_VSS_BACKOFF_MAX_MS 5000
#define HV_VSS_READ_MAX 64 /* larger than any message: a bigger one is an error */

typedef struct {
    Transport *transport; /* NULL until opened */
    int fd;               /* the device, -1 while lost */
    guint watch;          /* POLLIN/POLLHUP on fd */
    guint retry;          /* the pending reopen */
    guint backoff_ms;     /* delay of the next reopen; 0 right after a registration */
    char *last_failure;   /* owned: the last reopen failure logged, to log a repeat once */
    gboolean registered;  /* the 4-byte handshake reply was read */
    gboolean announced;   /* connected() was told, so disconnected() is owed on loss */
    gboolean awaiting_reply;
} HvVss;

guint hv_vss_msg_get_operation(const char *request)
{
    struct hv_vss_msg msg;

    memcpy(&msg, request, sizeof(msg));
    return msg.vss_hdr.operation;
}

void hv_vss_msg_make_reply(const char *request, guint32 status, char reply[HV_VSS_MSG_SIZE])
{
    struct hv_vss_msg msg;

    memcpy(&msg, request, sizeof(msg));
    msg.error = (int)status;
    memcpy(reply, &msg, sizeof(msg));
}

const char *hv_vss_operation_name(guint operation)
{
    static const char *const names[] = {
        [VSS_OP_CREATE] = "CREATE",       [VSS_OP_DELETE] = "DELETE",
        [VSS_OP_HOT_BACKUP] = "HOT_BACKUP", [VSS_OP_GET_DM_INFO] = "GET_DM_INFO",
        [VSS_OP_BU_COMPLETE] = "BU_COMPLETE", [VSS_OP_FREEZE] = "FREEZE",
        [VSS_OP_THAW] = "THAW",           [VSS_OP_AUTO_RECOVER] = "AUTO_RECOVER",
    };

    return operation < G_N_ELEMENTS(names) ? names[operation] : NULL;
}

/* The tests' fake kernel listens on a SOCK_SEQPACKET unix socket. */
static int hv_vss_connect_fake(const char *path)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    int fd;

    if (strlen(path) >= sizeof(addr.sun_path)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    strcpy(addr.sun_path, path);
    fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

/* O_NONBLOCK is for the fake: the driver ignores it (see the file header). */
static int hv_vss_open_fd(const char *path)
{
    struct stat st;
    int fd = open(path, O_RDWR | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

    if (fd < 0 && errno == ENXIO && stat(path, &st) == 0 && S_ISSOCK(st.st_mode)) {
        fd = hv_vss_connect_fake(path);
    }
    return fd;
}

static void hv_vss_set_open_error(GError **error, const char *path, int saved)
{
    const char *hint = "";

    if (saved == EBUSY) {
        hint = ": another VSS daemon holds the device (it has one holder): stop and disable "
               "it first (systemctl disable --now hv-vss-daemon.service on Debian/Ubuntu, "
               "hypervvssd.service on Fedora/RHEL), or stop the other quiesced";
    } else if (saved == ENOENT) {
        hint = " (not a Hyper-V guest, the hv_utils module is not loaded, or the host's "
               "\"Backup (volume snapshot)\" integration service is switched off)";
    }
    g_set_error(error, QUIESCE_ERROR, saved == EBUSY ? QUIESCE_ERROR_BUSY : QUIESCE_ERROR_FAILED,
                "cannot open %s: %s%s", path, g_strerror(saved), hint);
}

static gboolean hv_vss_readable(int fd, GIOCondition condition, gpointer user_data);

static void hv_vss_close_fd(HvVss *vss)
{
    if (vss->fd >= 0) {
        close(vss->fd);
        vss->fd = -1;
    }
}

/* Opens the device and writes VSS_OP_REGISTER1; the reply is read when it
 * comes (hv_vss_take_version). */
static gboolean hv_vss_attach(HvVss *vss, GError **error)
{
    const char *path = vss->transport->address;
    struct hv_vss_msg registration = { .vss_hdr.operation = VSS_OP_REGISTER1 };
    ssize_t n;

    g_assert(vss->fd < 0);
    vss->fd = hv_vss_open_fd(path);
    if (vss->fd < 0) {
        hv_vss_set_open_error(error, path, errno);
        return FALSE;
    }
    do {
        n = write(vss->fd, &registration, sizeof(registration));
    } while (n < 0 && errno == EINTR);
    if (n != (ssize_t)sizeof(registration)) {
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED,
                    "cannot register with %s (VSS_OP_REGISTER1): %s", path,
                    n < 0 ? g_strerror(errno) : "short write");
        hv_vss_close_fd(vss);
        return FALSE;
    }
    vss->registered = FALSE;
    vss->awaiting_reply = FALSE;
    vss->watch = g_unix_fd_add(vss->fd, G_IO_IN | G_IO_HUP | G_IO_ERR, hv_vss_readable, vss);
    return TRUE;
}

static void hv_vss_schedule_retry(HvVss *vss);

/* Drops the device now (the kernel resets its side on our close) and
 * schedules the reopen, which first tells the owner. */
static void hv_vss_lose(HvVss *vss, const char *why)
{
    g_warning("hv-vss:%s: %s; closing it and registering again", vss->transport->address, why);
    g_clear_handle_id(&vss->watch, g_source_remove);
    hv_vss_close_fd(vss);
    vss->registered = FALSE;
    vss->awaiting_reply = FALSE;
    hv_vss_schedule_retry(vss);
}

static gboolean hv_vss_retry(gpointer user_data)
{
    HvVss *vss = user_data;
    g_autoptr(GError) error = NULL;

    vss->retry = 0;
    if (vss->announced) {
        vss->announced = FALSE;
        vss->transport->events.disconnected(vss->transport->opaque, TRANSPORT_CONN_SOLE);
    }
    if (hv_vss_attach(vss, &error)) {
        return G_SOURCE_REMOVE;
    }
    if (g_strcmp0(vss->last_failure, error->message) != 0) {
        g_warning("%s; retrying (every %u s at most)", error->message,
                  HV_VSS_BACKOFF_MAX_MS / 1000);
        g_free(vss->last_failure);
        vss->last_failure = g_strdup(error->message);
    } else {
        g_debug("%s; retrying", error->message);
    }
    hv_vss_schedule_retry(vss);
    return G_SOURCE_REMOVE;
}

static void hv_vss_schedule_retry(HvVss *vss)
{
    guint delay = vss->backoff_ms;

    vss->backoff_ms = CLAMP(delay * 2, HV_VSS_BACKOFF_FIRST_MS, HV_VSS_BACKOFF_MAX_MS);
    if (!vss->retry) {
        vss->retry = g_timeout_add(delay, hv_vss_retry, vss);
    }
}

/* The handshake's answer: one u32, the kernel's version (always 129). */
static void hv_vss_take_version(HvVss *vss, const char *bytes, gsize len)
{
    guint32 version;

    if (len != HV_VSS_VERSION_REPLY_SIZE) {
        g_autofree char *why = g_strdup_printf(
            "invalid version negotiation: a %" G_GSIZE_FORMAT "-byte answer to VSS_OP_REGISTER1 "
            "where the kernel sends a 4-byte version",
            len);
        hv_vss_lose(vss, why);
        return;
    }
    memcpy(&version, bytes, sizeof(version));
    vss->registered = TRUE;
    vss->backoff_ms = 0;
    g_clear_pointer(&vss->last_failure, g_free);
    g_info("hv-vss:%s: registered with the kernel's hv_vss driver (its version: %u)",
           vss->transport->address, version);
    vss->announced = TRUE;
    vss->transport->events.connected(vss->transport->opaque, TRANSPORT_CONN_SOLE);
}

static void hv_vss_take(HvVss *vss, const char *bytes, gsize len)
{
    if (!vss->registered) {
        hv_vss_take_version(vss, bytes, len);
        return;
    }
    if (len != HV_VSS_MSG_SIZE) {
        g_autofree char *why = g_strdup_printf(
            "a %" G_GSIZE_FORMAT "-byte message where the kernel sends %d", len, HV_VSS_MSG_SIZE);
        hv_vss_lose(vss, why);
        return;
    }
    if (vss->awaiting_reply) {
        /* The driver serialises requests (hv_vss_onchannelcallback reads
         * nothing while one is active); a second one means it gave up on
         * the first, so that reply would be rejected anyway. */
        g_warning("hv-vss:%s: a new request before the reply to the last one",
                  vss->transport->address);
    }
    vss->awaiting_reply = TRUE;
    vss->transport->events.data(vss->transport->opaque, TRANSPORT_CONN_SOLE, bytes, len);
}

static gboolean hv_vss_readable(int fd, GIOCondition condition, gpointer user_data)
{
    HvVss *vss = user_data;
    char buf[HV_VSS_READ_MAX];
    ssize_t n;

    if (!(condition & G_IO_IN)) {
        hv_vss_lose(vss, "the device hung up (the driver went away: integration service off, "
                         "hv_utils unloaded)");
        return G_SOURCE_REMOVE;
    }
    n = read(fd, buf, sizeof(buf));
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
        return G_SOURCE_CONTINUE;
    }
    if (n <= 0) {
        g_autofree char *why = g_strdup_printf("reading the device failed: %s",
                                               n == 0 ? "end of file" : g_strerror(errno));
        hv_vss_lose(vss, why);
        return G_SOURCE_REMOVE;
    }
    hv_vss_take(vss, buf, (gsize)n);
    /* The owner's reply may have lost the device meanwhile. */
    return vss->watch ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

static gboolean hv_vss_open(Transport *transport, GError **error)
{
    HvVss *vss = transport->priv;

    vss->transport = transport;
    vss->fd = -1;
    return hv_vss_attach(vss, error);
}

static void hv_vss_write(Transport *transport, TransportConn conn, const char *bytes, gsize len)
{
    HvVss *vss = transport->priv;
    ssize_t n;

    g_return_if_fail(len == HV_VSS_MSG_SIZE);
    if (!vss->awaiting_reply) {
        g_debug("hv-vss:%s: no request to answer (the device was lost meanwhile); reply dropped",
                transport->address);
        return;
    }
    vss->awaiting_reply = FALSE;
    do {
        n = write(vss->fd, bytes, len);
    } while (n < 0 && errno == EINTR);
    if (n != (ssize_t)len) {
        g_autofree char *why = g_strdup_printf(
            "the kernel rejected our reply (%s): it had already answered the host itself (the "
            "request timed out) or a hibernation faked the request",
            n < 0 ? g_strerror(errno) : "short write");
        hv_vss_lose(vss, why);
    }
}

static void hv_vss_close(Transport *transport)
{
    HvVss *vss = transport->priv;

    if (!vss->transport) {
        return;
    }
    g_clear_handle_id(&vss->watch, g_source_remove);
    g_clear_handle_id(&vss->retry, g_source_remove);
    hv_vss_close_fd(vss);
    g_clear_pointer(&vss->last_failure, g_free);
    vss->transport = NULL;
}

const TransportOps transport_hv_vss_ops = {
    .kind = HV_VSS_TRANSPORT_KIND,
    .framing = TRANSPORT_FRAMING_HV_VSS_MSG,
    .default_address = HV_VSS_DEFAULT_DEVICE,
    .priv_size = sizeof(HvVss),
    .open = hv_vss_open,
    .write = hv_vss_write,
    .close = hv_vss_close,
};
