/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hv-vss.h — hv-vss[:PATH] (default /dev/vmbus/hv_vss): the Linux kernel's
 * Hyper-V VSS device as a *message* transport behind the ops table of
 * transport.h, and the wire format of its messages.
 *
 * The device is not a byte stream. The kernel's hv_utils driver
 * (drivers/hv/hv_snapshot.c over drivers/hv/hv_utils_transport.c) moves
 * whole records: every read() returns exactly one message and every write()
 * is one message, checked for its exact size. So this transport keeps the
 * ops table's shape with a stricter contract:
 *
 *   connected()     the kernel has registered us (the REGISTER1 handshake
 *                   below is done); requests may come
 *   data()          exactly one request, len == HV_VSS_MSG_SIZE, bytes as
 *                   the kernel sent them (borrowed)
 *   write()         exactly one reply of HV_VSS_MSG_SIZE bytes, at most one
 *                   per request, before the next request can come
 *   disconnected()  the registration is gone: the kernel rejected a reply
 *                   (it had timed the request out, or a hibernation faked a
 *                   THAW), or the device hung up or vanished. The transport
 *                   is already reopening and registering again on its own
 *                   (immediately, then with backoff up to 5 s, without a
 *                   restart); connected() follows when it is back.
 *
 * What the requests mean is the owner's business (agent/hv-vss-channel.c);
 * this file knows only the framing and the handshake:
 *
 *   agent -> kernel  12 bytes: operation = VSS_OP_REGISTER1 (129), the rest 0
 *   kernel -> agent   4 bytes: u32 129, the kernel's own version
 *                     (hv_snapshot.c, vss_handle_handshake: our_ver)
 *
 * Only after that 4-byte read does the driver become READY
 * (vss_register_done via the transport's on_read callback); until then it
 * answers the host HV_E_FAIL on its own. hv_vss_daemon (tools/hv) insists
 * on exactly 4 bytes; so do we.
 *
 * A path that is a unix socket is connect()ed with SOCK_SEQPACKET instead of
 * opened (open(2) fails with ENXIO on a socket): the tests' fake kernel
 * (tests/support/fake-kernel.h), which keeps message boundaries the same way.
 */
#ifndef QUIESCE_TRANSPORTS_HV_VSS_H
#define QUIESCE_TRANSPORTS_HV_VSS_H

#include <glib.h>
#include <linux/hyperv.h> /* the UAPI: struct hv_vss_msg, VSS_OP_*, HV_S_OK, HV_E_FAIL */

#include "transports/transport.h"

#define HV_VSS_TRANSPORT_KIND "hv-vss"
#define HV_VSS_DEFAULT_DEVICE "/dev/vmbus/hv_vss"

/* struct hv_vss_msg is packed: an 8-byte header union (operation + 7
 * reserved bytes, or the reply's `int error` over its first 4 bytes) and a
 * 4-byte flags union. */
#define HV_VSS_MSG_SIZE 12
G_STATIC_ASSERT(sizeof(struct hv_vss_msg) == HV_VSS_MSG_SIZE);

/* The handshake reply: one u32. */
#define HV_VSS_VERSION_REPLY_SIZE 4


/* The operation of a request (vss_hdr.operation, byte 0). */
guint hv_vss_msg_get_operation(const char *request);

/*
 * Fills reply with the answer to request, shaped as hv_vss_daemon shapes it:
 * the request with its `error` member (bytes 0-3, native byte order) set to
 * status. The kernel reads only `error` and copies it into the host's
 * icmsg_hdr.status (hv_snapshot.c, vss_on_msg -> vss_respond_to_host).
 *
 * Quirk: vss_on_msg sets VSS_HBU_NO_AUTO_RECOVERY for the host only when the
 * reply's vss_hdr.operation is VSS_OP_HOT_BACKUP, but that byte is the low
 * byte of `error` (0 for HV_S_OK, 0x05 for HV_E_FAIL), so the flag is never
 * set for hv_vss_daemon either; we keep its bytes rather than invent others.
 */
void hv_vss_msg_make_reply(const char *request, guint32 status, char reply[HV_VSS_MSG_SIZE]);

/* "HOT_BACKUP", "FREEZE", ... for logs; NULL for an operation the UAPI
 * header does not name. */
const char *hv_vss_operation_name(guint operation);

#endif
