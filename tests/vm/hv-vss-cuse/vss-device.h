/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vss-device.h — the kernel's /dev/vmbus/hv_vss, emulated in user space with
 * CUSE for the vm tests: drivers/hv/hv_snapshot.c over
 * drivers/hv/hv_utils_transport.c, ported from the host tests' fake
 * (tests/support/fake-kernel.h) to a real character device, so that the
 * unmodified daemons (quiesced --channel hv-vss, Debian's hv_vss_daemon)
 * open, poll, read and write it as they would on Hyper-V.
 *
 * The device side (what a daemon sees), as the kernel does it:
 *   open      one holder: a second open while the device is held fails with
 *             EBUSY (hvt_op_open).
 *   write     exactly 12 bytes (struct hv_vss_msg, packed) or EINVAL
 *             (vss_on_msg). VSS_OP_REGISTER1 (129) queues the 4-byte version
 *             129 (vss_handle_handshake); the device is registered once the
 *             daemon has *read* it (vss_register_done). A reply is accepted
 *             only while a request is active, else EINVAL ("Transaction not
 *             active"): the write after the kernel's timeout fails.
 *   read      blocks until a message is queued, whatever O_NONBLOCK says
 *             (hvt_op_read); a buffer smaller than the message: EINVAL, the
 *             message stays. An interrupted read returns EINTR.
 *   poll      POLLIN|POLLRDNORM while a message is queued (hvt_op_poll),
 *             with CUSE poll notification, so poll(2) and GLib's loop wake.
 *   release   the device is free again and reset (hvt_reset, vss_on_reset):
 *             the queued message is dropped, an active request is answered
 *             HV_E_FAIL to the host, the daemon must register again.
 *
 * The host side (what the tests drive, vss_device_transact): one transaction
 * at a time, as the host and the driver serialise them. HOT_BACKUP, FREEZE
 * and THAW go to the daemon (vss_handle_request) when it is registered, else
 * the kernel answers HV_E_FAIL itself; every other operation is answered by
 * the kernel (S_OK) without the daemon. The request is a zeroed message with
 * only the operation set (vss_send_op). The kernel waits 900 s for FREEZE
 * and 30 s for the others (VSS_FREEZE_TIMEOUT, HV_UTIL_TIMEOUT), then answers
 * the host HV_E_FAIL itself; tests may shorten that per request.
 */
#ifndef QUIESCE_TESTS_VM_HV_VSS_CUSE_VSS_DEVICE_H
#define QUIESCE_TESTS_VM_HV_VSS_CUSE_VSS_DEVICE_H

#define FUSE_USE_VERSION 31
#include <cuse_lowlevel.h>
#include <glib.h>

/* linux/hyperv.h, spelled out: this model must not share the agent's
 * encoding (transports/hv-vss.h) or a mistake there would go unseen. */
#define VSS_DEVICE_MSG_SIZE 12
#define VSS_DEVICE_OP_CREATE 0
#define VSS_DEVICE_OP_HOT_BACKUP 2
#define VSS_DEVICE_OP_GET_DM_INFO 3
#define VSS_DEVICE_OP_FREEZE 5
#define VSS_DEVICE_OP_THAW 6
#define VSS_DEVICE_OP_REGISTER 128
#define VSS_DEVICE_OP_REGISTER1 129
#define VSS_DEVICE_S_OK 0x00000000u
#define VSS_DEVICE_E_FAIL 0x80004005u

#define VSS_DEVICE_FREEZE_TIMEOUT_MS (15 * 60 * 1000)
#define VSS_DEVICE_UTIL_TIMEOUT_MS (30 * 1000)

typedef struct VssDevice VssDevice;

/* Who answered the host. */
typedef enum {
    VSS_ANSWER_DAEMON,  /* the daemon's reply, its `error` member */
    VSS_ANSWER_KERNEL,  /* the kernel itself: not forwarded, or not registered */
    VSS_ANSWER_TIMEOUT, /* no reply in time: HV_E_FAIL, a late reply is refused */
    VSS_ANSWER_RESET,   /* the daemon closed the device meanwhile: HV_E_FAIL */
} VssAnswerBy;

typedef struct {
    guint32 status; /* what the host receives (icmsg_hdr.status) */
    VssAnswerBy by;
    gint64 read_us;   /* request queued -> the daemon read it; -1 when it did not */
    gint64 answer_us; /* request queued -> the host's answer */
} VssAnswer;

/* (transfer full) */
VssDevice *vss_device_new(void);
void vss_device_free(VssDevice *device);

/* The CUSE operations; their userdata must be the VssDevice. */
const struct cuse_lowlevel_ops *vss_device_get_ops(void);

/*
 * One host request: blocks until the daemon answers, the timeout
 * (timeout_ms, 0: the kernel's own for that operation) passes, or the
 * daemon releases the device. Call from one thread at a time.
 */
void vss_device_transact(VssDevice *device, guint8 operation, guint timeout_ms, VssAnswer *answer);

/* TRUE once a daemon is registered, waiting up to timeout_ms. */
gboolean vss_device_wait_registered(VssDevice *device, guint timeout_ms);

/* "open=1 registered=1 state=ready late-rejected=0 requests=3" (transfer full) */
char *vss_device_describe(VssDevice *device);

const char *vss_device_operation_name(guint8 operation);
const char *vss_answer_by_name(VssAnswerBy by);

#endif
