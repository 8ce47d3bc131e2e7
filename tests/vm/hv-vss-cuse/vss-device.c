/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vss-device.c — see the header. Threads: libfuse's single-threaded session
 * loop runs the CUSE operations; the control thread runs host transactions.
 * One mutex guards the model. Replies to a blocked read may come from either
 * thread; a read is answered exactly once, by whoever removes it from the
 * pending queue under the mutex (the interrupt callback included), so a
 * request is never answered twice nor used after libfuse freed it.
 *
 * Lock order: libfuse's per-request lock, then ours (the interrupt callback
 * runs under the former); we never take libfuse's request lock under ours.
 */
#include "tests/vm/hv-vss-cuse/vss-device.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

typedef enum {
    VSS_STATE_INIT,          /* HVUTIL_DEVICE_INIT: no daemon registered */
    VSS_STATE_READY,         /* HVUTIL_READY */
    VSS_STATE_USERSPACE_REQ, /* a request is out to the daemon */
} VssState;

typedef struct {
    fuse_req_t req;
    size_t size;
} VssRead;

struct VssDevice {
    GMutex lock;
    GCond changed; /* state, registration, a reply */
    gboolean held; /* hvt mode CHARDEV: one holder */
    VssState state;
    gboolean handshake_queued; /* the queued message is the version reply */
    guint8 outmsg[VSS_DEVICE_MSG_SIZE];
    gsize outmsg_len; /* 0: nothing queued */
    GQueue reads;     /* VssRead *: blocked read() calls, oldest first */
    struct fuse_pollhandle *poll_handle;
    /* The active transaction. */
    guint64 serial;   /* counts requests forwarded to the daemon */
    gboolean replied; /* the daemon's reply came */
    gboolean reset;   /* the daemon released the device meanwhile */
    guint32 reply_error;
    gint64 sent_us, read_us;
    guint late_rejected;
};

const char *vss_device_operation_name(guint8 operation)
{
    static const char *const names[] = {
        "CREATE",      "DELETE", "HOT_BACKUP", "GET_DM_INFO",
        "BU_COMPLETE", "FREEZE", "THAW",       "AUTO_RECOVER",
    };

    if (operation < G_N_ELEMENTS(names)) {
        return names[operation];
    }
    return operation == VSS_DEVICE_OP_REGISTER    ? "REGISTER"
           : operation == VSS_DEVICE_OP_REGISTER1 ? "REGISTER1"
                                                  : "UNKNOWN";
}

const char *vss_answer_by_name(VssAnswerBy by)
{
    switch (by) {
    case VSS_ANSWER_DAEMON:
        return "daemon";
    case VSS_ANSWER_KERNEL:
        return "kernel";
    case VSS_ANSWER_TIMEOUT:
        return "timeout";
    case VSS_ANSWER_RESET:
        return "reset";
    }
    g_assert_not_reached();
}

static void vss_say(const char *format, ...) G_GNUC_PRINTF(1, 2);
static void vss_say(const char *format, ...)
{
    va_list args;

    va_start(args, format);
    fputs("hv-vss-cuse: ", stderr);
    vfprintf(stderr, format, args);
    fputc('\n', stderr);
    va_end(args);
}

VssDevice *vss_device_new(void)
{
    VssDevice *device = g_new0(VssDevice, 1);

    g_mutex_init(&device->lock);
    g_cond_init(&device->changed);
    g_queue_init(&device->reads);
    return device;
}

void vss_device_free(VssDevice *device)
{
    if (!device) {
        return;
    }
    g_queue_clear_full(&device->reads, g_free);
    if (device->poll_handle) {
        fuse_pollhandle_destroy(device->poll_handle);
    }
    g_cond_clear(&device->changed);
    g_mutex_clear(&device->lock);
    g_free(device);
}

/* hvt_op_poll's waitqueue: wake a poll(2) waiting on the device. */
static void vss_notify_poll(VssDevice *device)
{
    if (device->poll_handle) {
        fuse_lowlevel_notify_poll(device->poll_handle);
        fuse_pollhandle_destroy(device->poll_handle);
        device->poll_handle = NULL;
    }
}

/* Hands the queued message to the oldest blocked read. Like hvt_op_read,
 * every other woken reader then finds nothing: EAGAIN. */
static void vss_deliver(VssDevice *device)
{
    while (device->outmsg_len > 0 && !g_queue_is_empty(&device->reads)) {
        g_autofree VssRead *read = g_queue_pop_head(&device->reads);

        if (read->size < device->outmsg_len) {
            fuse_reply_err(read->req, EINVAL); /* the message stays queued */
            continue;
        }
        fuse_reply_buf(read->req, (const char *)device->outmsg, device->outmsg_len);
        device->outmsg_len = 0;
        if (device->handshake_queued) {
            /* vss_register_done -> vss_poll_wrapper: READY. */
            device->handshake_queued = FALSE;
            device->state = VSS_STATE_READY;
            vss_say("daemon registered (read the 4-byte version)");
        } else if (device->state == VSS_STATE_USERSPACE_REQ && device->read_us < 0) {
            device->read_us = g_get_monotonic_time();
        }
        g_cond_broadcast(&device->changed);
        while (!g_queue_is_empty(&device->reads)) {
            g_autofree VssRead *other = g_queue_pop_head(&device->reads);
            fuse_reply_err(other->req, EAGAIN);
        }
    }
}

/* hvutil_transport_send: one queued message at most. */
static gboolean vss_queue(VssDevice *device, const void *msg, gsize len, gboolean handshake)
{
    if (device->outmsg_len > 0) {
        return FALSE; /* "Previous message wasn't received": EFAULT */
    }
    memcpy(device->outmsg, msg, len);
    device->outmsg_len = len;
    device->handshake_queued = handshake;
    vss_deliver(device);
    if (device->outmsg_len > 0) {
        vss_notify_poll(device);
    }
    return TRUE;
}

static void vss_op_open(fuse_req_t req, struct fuse_file_info *fi)
{
    VssDevice *device = fuse_req_userdata(req);
    gboolean busy;

    g_mutex_lock(&device->lock);
    busy = device->held;
    device->held = TRUE;
    g_mutex_unlock(&device->lock);
    if (busy) {
        vss_say("open refused: the device is held (EBUSY)");
        fuse_reply_err(req, EBUSY);
        return;
    }
    fi->nonseekable = 1;
    fi->direct_io = 1;
    fuse_reply_open(req, fi);
}

/* hvt_op_release -> hvt_reset -> vss_on_reset. */
static void vss_op_release(fuse_req_t req, struct fuse_file_info *fi)
{
    VssDevice *device = fuse_req_userdata(req);

    g_mutex_lock(&device->lock);
    device->held = FALSE;
    device->outmsg_len = 0;
    device->handshake_queued = FALSE;
    if (device->state == VSS_STATE_USERSPACE_REQ) {
        device->reset = TRUE;
    }
    device->state = VSS_STATE_INIT;
    while (!g_queue_is_empty(&device->reads)) {
        g_autofree VssRead *read = g_queue_pop_head(&device->reads);
        fuse_reply_err(read->req, EBADF);
    }
    if (device->poll_handle) {
        fuse_pollhandle_destroy(device->poll_handle);
        device->poll_handle = NULL;
    }
    g_cond_broadcast(&device->changed);
    g_mutex_unlock(&device->lock);
    vss_say("device released");
    fuse_reply_err(req, 0);
}

/* A signal for a process blocked in read(): answer EINTR, or a killed
 * process would stay in the kernel until the next message. */
static void vss_read_interrupted(fuse_req_t req, void *data)
{
    VssDevice *device = data;

    g_mutex_lock(&device->lock);
    for (GList *l = device->reads.head; l; l = l->next) {
        VssRead *read = l->data;
        if (read->req == req) {
            g_queue_delete_link(&device->reads, l);
            fuse_reply_err(req, EINTR);
            g_free(read);
            break;
        }
    }
    g_mutex_unlock(&device->lock);
}

static void vss_op_read(fuse_req_t req, size_t size, off_t off, struct fuse_file_info *fi)
{
    VssDevice *device = fuse_req_userdata(req);
    VssRead *read = g_new0(VssRead, 1);

    /* Before our lock: an interrupt that already came runs the callback
     * now, which finds nothing queued; fuse_req_interrupted() says so. */
    fuse_req_interrupt_func(req, vss_read_interrupted, device);
    read->req = req;
    read->size = size;
    g_mutex_lock(&device->lock);
    if (fuse_req_interrupted(req)) {
        fuse_reply_err(req, EINTR);
        g_free(read);
    } else {
        g_queue_push_tail(&device->reads, read);
        vss_deliver(device);
    }
    g_mutex_unlock(&device->lock);
}

/* vss_on_msg for a registration; returns 0 or an errno. */
static int vss_take_registration(VssDevice *device, guint8 operation)
{
    static const guint32 our_version = VSS_DEVICE_OP_REGISTER1; /* host byte order */

    if (device->state > VSS_STATE_READY) {
        return EINVAL; /* not in the middle of a transaction */
    }
    if (operation == VSS_DEVICE_OP_REGISTER) {
        /* The pre-4.x daemons: no reply expected. No daemon we test sends
         * it; it never makes the device ready here. */
        vss_say("REGISTER (no reply expected)");
        return 0;
    }
    if (!vss_queue(device, &our_version, sizeof(our_version), TRUE)) {
        return EFAULT;
    }
    vss_say("REGISTER1: queued the 4-byte version %u", our_version);
    return 0;
}

/* vss_on_msg: a daemon's message; returns 0 or an errno. */
static int vss_take_message(VssDevice *device, const guint8 *buf, size_t size)
{
    guint32 error;

    if (size != VSS_DEVICE_MSG_SIZE) {
        vss_say("a %zu-byte write refused (EINVAL): the kernel takes exactly 12", size);
        return EINVAL;
    }
    if (buf[0] == VSS_DEVICE_OP_REGISTER || buf[0] == VSS_DEVICE_OP_REGISTER1) {
        return vss_take_registration(device, buf[0]);
    }
    memcpy(&error, buf, sizeof(error)); /* the reply's `int error` over bytes 0-3 */
    if (device->state != VSS_STATE_USERSPACE_REQ) {
        device->late_rejected++;
        vss_say("a reply (error 0x%08x) with no active transaction refused (EINVAL, the "
                "kernel's \"Transaction not active\")",
                error);
        return EINVAL;
    }
    device->state = VSS_STATE_READY; /* vss_respond_to_host, vss_poll_wrapper */
    device->replied = TRUE;
    device->reply_error = error;
    g_cond_broadcast(&device->changed);
    return 0;
}

static void vss_op_write(fuse_req_t req, const char *buf, size_t size, off_t off,
                         struct fuse_file_info *fi)
{
    VssDevice *device = fuse_req_userdata(req);
    int err;

    g_mutex_lock(&device->lock);
    err = vss_take_message(device, (const guint8 *)buf, size);
    g_mutex_unlock(&device->lock);
    if (err) {
        fuse_reply_err(req, err);
    } else {
        fuse_reply_write(req, size);
    }
}

static void vss_op_poll(fuse_req_t req, struct fuse_file_info *fi, struct fuse_pollhandle *ph)
{
    VssDevice *device = fuse_req_userdata(req);
    unsigned revents;

    g_mutex_lock(&device->lock);
    if (ph) {
        if (device->poll_handle) {
            fuse_pollhandle_destroy(device->poll_handle);
        }
        device->poll_handle = ph;
    }
    revents = device->outmsg_len > 0 ? POLLIN | POLLRDNORM : 0;
    g_mutex_unlock(&device->lock);
    fuse_reply_poll(req, revents);
}

static void vss_op_init_done(void *userdata)
{
    vss_say("device ready");
}

const struct cuse_lowlevel_ops *vss_device_get_ops(void)
{
    static const struct cuse_lowlevel_ops ops = {
        .init_done = vss_op_init_done,
        .open = vss_op_open,
        .read = vss_op_read,
        .write = vss_op_write,
        .release = vss_op_release,
        .poll = vss_op_poll,
    };

    return &ops;
}

static gboolean vss_forwarded(guint8 operation)
{
    return operation == VSS_DEVICE_OP_HOT_BACKUP || operation == VSS_DEVICE_OP_FREEZE ||
           operation == VSS_DEVICE_OP_THAW;
}

/* Waits under the lock for the daemon's reply, a reset or the deadline. */
static void vss_wait_answer(VssDevice *device, gint64 deadline, VssAnswer *answer)
{
    while (!device->replied && !device->reset &&
           g_cond_wait_until(&device->changed, &device->lock, deadline)) {
    }
    answer->read_us = device->read_us < 0 ? -1 : device->read_us - device->sent_us;
    if (device->replied) {
        answer->status = device->reply_error;
        answer->by = VSS_ANSWER_DAEMON;
    } else if (device->reset) {
        answer->status = VSS_DEVICE_E_FAIL; /* vss_on_reset */
        answer->by = VSS_ANSWER_RESET;
    } else {
        /* vss_timeout_func: the host gets HV_E_FAIL, the transaction is
         * over, and the daemon's late write will be refused. A message the
         * daemon never read stays queued, as in the kernel. */
        answer->status = VSS_DEVICE_E_FAIL;
        answer->by = VSS_ANSWER_TIMEOUT;
        device->state = VSS_STATE_READY;
    }
}

void vss_device_transact(VssDevice *device, guint8 operation, guint timeout_ms, VssAnswer *answer)
{
    guint8 request[VSS_DEVICE_MSG_SIZE] = {operation};
    gint64 start = g_get_monotonic_time();

    memset(answer, 0, sizeof(*answer));
    answer->read_us = -1;
    if (timeout_ms == 0) {
        timeout_ms = operation == VSS_DEVICE_OP_FREEZE ? VSS_DEVICE_FREEZE_TIMEOUT_MS
                                                       : VSS_DEVICE_UTIL_TIMEOUT_MS;
    }
    g_mutex_lock(&device->lock);
    g_assert(device->state != VSS_STATE_USERSPACE_REQ); /* one transaction at a time */
    if (!vss_forwarded(operation)) {
        answer->status = VSS_DEVICE_S_OK; /* vss_handle_request's default */
        answer->by = VSS_ANSWER_KERNEL;
    } else if (device->state < VSS_STATE_READY) {
        answer->status = VSS_DEVICE_E_FAIL; /* "Not ready for request" */
        answer->by = VSS_ANSWER_KERNEL;
    } else {
        device->serial++;
        device->replied = FALSE;
        device->reset = FALSE;
        device->sent_us = start;
        device->read_us = -1;
        device->state = VSS_STATE_USERSPACE_REQ;
        if (!vss_queue(device, request, sizeof(request), FALSE)) {
            /* vss_send_op: "failed to communicate to the daemon". */
            device->state = VSS_STATE_READY;
            answer->status = VSS_DEVICE_E_FAIL;
            answer->by = VSS_ANSWER_KERNEL;
        } else {
            vss_wait_answer(device, start + (gint64)timeout_ms * 1000, answer);
        }
    }
    answer->answer_us = g_get_monotonic_time() - start;
    g_mutex_unlock(&device->lock);
    vss_say("%s -> 0x%08x by %s in %" G_GINT64_FORMAT " ms", vss_device_operation_name(operation),
            answer->status, vss_answer_by_name(answer->by), answer->answer_us / 1000);
}

gboolean vss_device_wait_registered(VssDevice *device, guint timeout_ms)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    gboolean registered;

    g_mutex_lock(&device->lock);
    while (device->state < VSS_STATE_READY &&
           g_cond_wait_until(&device->changed, &device->lock, deadline)) {
    }
    registered = device->state >= VSS_STATE_READY;
    g_mutex_unlock(&device->lock);
    return registered;
}

char *vss_device_describe(VssDevice *device)
{
    static const char *const states[] = {"init", "ready", "request"};
    char *text;

    g_mutex_lock(&device->lock);
    text = g_strdup_printf(
        "open=%d registered=%d state=%s late-rejected=%u requests=%" G_GUINT64_FORMAT, device->held,
        device->state >= VSS_STATE_READY, states[device->state], device->late_rejected,
        device->serial);
    g_mutex_unlock(&device->lock);
    return text;
}
