/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fake-kernel.c — see the header.
 */
#include "tests/support/fake-kernel.h"

#include <errno.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

struct FakeKernel {
    char *path;
    int listen_fd; /* -1 while the device is removed */
    int conn_fd;   /* the agent's open device, -1 when none */
};

static const guint8 fake_version_reply[4] = { 0x81, 0x00, 0x00, 0x00 };

static int fake_listen(const char *path, GError **error)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

    g_strlcpy(addr.sun_path, path, sizeof(addr.sun_path));
    if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || chmod(path, 0600) < 0 ||
        listen(fd, 4) < 0) {
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "fake kernel at %s: %s",
                    path, g_strerror(errno));
        if (fd >= 0) {
            close(fd);
        }
        return -1;
    }
    return fd;
}

FakeKernel *fake_kernel_new(const char *path, GError **error)
{
    g_autoptr(FakeKernel) kernel = g_new0(FakeKernel, 1);

    kernel->path = g_strdup(path);
    kernel->conn_fd = -1;
    kernel->listen_fd = fake_listen(path, error);
    return kernel->listen_fd < 0 ? NULL : g_steal_pointer(&kernel);
}

static void fake_close(int *fd)
{
    if (*fd >= 0) {
        close(*fd);
        *fd = -1;
    }
}

void fake_kernel_free(FakeKernel *kernel)
{
    if (!kernel) {
        return;
    }
    fake_close(&kernel->conn_fd);
    if (kernel->listen_fd >= 0) {
        fake_close(&kernel->listen_fd);
        g_unlink(kernel->path);
    }
    g_free(kernel->path);
    g_free(kernel);
}

/* 1 readable, 0 timed out, -1 error. */
static int fake_wait(int fd, int timeout_ms)
{
    struct pollfd pfd = { .fd = fd, .events = POLLIN };
    int rc;

    do {
        rc = poll(&pfd, 1, timeout_ms);
    } while (rc < 0 && errno == EINTR);
    return rc;
}

/* Reads one record (at most 64 bytes: anything larger is an error too). */
static gssize fake_read_record(int fd, guint8 *buf, gsize size, int timeout_ms, GError **error)
{
    gssize n;

    if (fake_wait(fd, timeout_ms) <= 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "nothing from the agent in %d ms",
                    timeout_ms);
        return -1;
    }
    n = recv(fd, buf, size, MSG_TRUNC);
    if (n < 0) {
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "recv: %s",
                    g_strerror(errno));
    }
    return n;
}

/* The agent's close shows as POLLHUP on our end (even after SHUT_RD, which
 * alone makes the socket readable but not hung up). */
static gboolean fake_released(int fd, int timeout_ms)
{
    struct pollfd pfd = { .fd = fd, .events = 0 };
    int rc;

    do {
        rc = poll(&pfd, 1, timeout_ms);
    } while (rc < 0 && errno == EINTR);
    return rc > 0 && (pfd.revents & (POLLHUP | POLLERR));
}

gboolean fake_kernel_wait_release(FakeKernel *kernel, int timeout_ms)
{
    if (kernel->conn_fd >= 0 && !fake_released(kernel->conn_fd, timeout_ms)) {
        return FALSE;
    }
    fake_close(&kernel->conn_fd);
    return TRUE;
}

static gboolean fake_check_registration(const guint8 *buf, gssize n, GError **error)
{
    static const guint8 expected[FAKE_KERNEL_MSG_SIZE] = { FAKE_OP_REGISTER1 };

    /* vss_on_msg: len != sizeof(struct hv_vss_msg) -> EINVAL;
     * vss_handle_handshake: REGISTER (128) gets no reply, others EINVAL. */
    if (n != FAKE_KERNEL_MSG_SIZE || buf[0] != FAKE_OP_REGISTER1) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    "registration: %" G_GSSIZE_FORMAT " bytes, operation %u; the kernel wants "
                    "12 bytes with operation 129 (VSS_OP_REGISTER1)",
                    n, n > 0 ? buf[0] : 0);
        return FALSE;
    }
    /* The kernel ignores the other bytes; a clean agent zeroes them. */
    if (memcmp(buf, expected, sizeof(expected)) != 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    "registration: bytes 1-11 are not zero");
        return FALSE;
    }
    return TRUE;
}

gboolean fake_kernel_accept(FakeKernel *kernel, int timeout_ms, GByteArray **registration,
                            GError **error)
{
    guint8 buf[64];
    gssize n;

    if (kernel->listen_fd >= 0 && fake_wait(kernel->listen_fd, timeout_ms) > 0 &&
        !fake_kernel_wait_release(kernel, 0)) {
        /* The agent closes before it reopens, so its close is visible by
         * the time its connect is. */
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_BUSY,
                    "the agent opened the device again without closing it (the kernel "
                    "answers EBUSY)");
        return FALSE;
    }
    if (kernel->listen_fd < 0 || fake_wait(kernel->listen_fd, timeout_ms) <= 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                    "the agent did not open the device within %d ms", timeout_ms);
        return FALSE;
    }
    fake_close(&kernel->conn_fd);
    kernel->conn_fd = accept4(kernel->listen_fd, NULL, NULL, SOCK_CLOEXEC);
    if (kernel->conn_fd < 0) {
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "accept: %s",
                    g_strerror(errno));
        return FALSE;
    }
    n = fake_read_record(kernel->conn_fd, buf, sizeof(buf), timeout_ms, error);
    if (n < 0) {
        return FALSE;
    }
    if (registration) {
        *registration = g_byte_array_new();
        g_byte_array_append(*registration, buf, (guint)MIN((gsize)n, sizeof(buf)));
    }
    if (!fake_check_registration(buf, n, error)) {
        return FALSE;
    }
    return send(kernel->conn_fd, fake_version_reply, sizeof(fake_version_reply), MSG_NOSIGNAL) ==
           sizeof(fake_version_reply);
}

gboolean fake_kernel_expect_silence(FakeKernel *kernel, int quiet_ms, GError **error)
{
    guint8 buf[64];

    if (kernel->conn_fd < 0 || fake_wait(kernel->conn_fd, quiet_ms) == 0) {
        return TRUE;
    }
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                "the agent sent a %zd-byte message (or closed the device) unasked",
                recv(kernel->conn_fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC));
    return FALSE;
}

static gboolean fake_send_request(FakeKernel *kernel, guint8 operation, gboolean abandoned,
                                  GError **error)
{
    /* vss_send_op: a fresh kzalloc'ed message with only the operation set. */
    guint8 request[FAKE_KERNEL_MSG_SIZE] = { operation };

    if (kernel->conn_fd < 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED, "no agent has the device open");
        return FALSE;
    }
    if (!fake_kernel_expect_silence(kernel, 0, error)) {
        return FALSE;
    }
    if (abandoned) {
        /* Refuse the reply before it can come: the order is not observable
         * by the agent, and it makes the test deterministic. */
        shutdown(kernel->conn_fd, SHUT_RD);
    }
    if (send(kernel->conn_fd, request, sizeof(request), MSG_NOSIGNAL) != sizeof(request)) {
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "send: %s",
                    g_strerror(errno));
        return FALSE;
    }
    return TRUE;
}

gboolean fake_kernel_transact(FakeKernel *kernel, guint8 operation, int timeout_ms,
                              guint8 reply[FAKE_KERNEL_MSG_SIZE], GError **error)
{
    guint8 buf[64];
    gssize n;

    if (!fake_send_request(kernel, operation, FALSE, error)) {
        return FALSE;
    }
    n = fake_read_record(kernel->conn_fd, buf, sizeof(buf), timeout_ms, error);
    if (n < 0) {
        /* vss_timeout_func: the host gets HV_E_FAIL, the state is READY, and
         * the agent's reply will be refused. */
        shutdown(kernel->conn_fd, SHUT_RD);
        return FALSE;
    }
    if (n != FAKE_KERNEL_MSG_SIZE) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    n == 0 ? "the agent closed the device instead of replying"
                           : "a %zd-byte reply; the kernel accepts exactly 12 (EINVAL)",
                    n);
        return FALSE;
    }
    memcpy(reply, buf, FAKE_KERNEL_MSG_SIZE);
    return TRUE;
}

gboolean fake_kernel_send_abandoned(FakeKernel *kernel, guint8 operation, GError **error)
{
    return fake_send_request(kernel, operation, TRUE, error);
}

void fake_kernel_remove_device(FakeKernel *kernel)
{
    fake_close(&kernel->conn_fd);
    if (kernel->listen_fd >= 0) {
        fake_close(&kernel->listen_fd);
        g_unlink(kernel->path);
    }
}

gboolean fake_kernel_restore_device(FakeKernel *kernel, GError **error)
{
    g_assert(kernel->listen_fd < 0);
    kernel->listen_fd = fake_listen(kernel->path, error);
    return kernel->listen_fd >= 0;
}
