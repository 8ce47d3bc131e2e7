/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fake-kernel.h — test helper: the kernel's side of /dev/vmbus/hv_vss
 * (drivers/hv/hv_snapshot.c over drivers/hv/hv_utils_transport.c), byte for
 * byte, on a SOCK_SEQPACKET unix socket that the agent's hv-vss transport
 * connects to instead of opening a device (transports/hv-vss.h).
 *
 * What it models, and how:
 *   open/release    connect / close of one connection. A second connection
 *                   while the first is still open is refused as the kernel
 *                   refuses a second open (EBUSY): the test fails.
 *   records         SOCK_SEQPACKET keeps message boundaries, like the
 *                   driver's read()/write() of whole messages. Requests and
 *                   the handshake reply are literal byte arrays here, not
 *                   the UAPI struct the agent uses, so both encodings are
 *                   checked against each other.
 *   handshake       the first message must be exactly 12 bytes with
 *                   operation 129 (VSS_OP_REGISTER1, vss_handle_handshake);
 *                   the answer is the 4-byte u32 129.
 *   transactions    one at a time; the reply must be exactly 12 bytes
 *                   (vss_on_msg's length check); nothing may arrive unasked.
 *   rejection       when the kernel has given up on a request (its timeout,
 *                   or hibernation's fake THAW), the agent's reply write()
 *                   fails. The fake shuts down its receiving side, so the
 *                   agent's next write() fails with EPIPE while its fd still
 *                   polls healthy — as the kernel's EINVAL does.
 *   device removal  hvutil_transport_destroy: the connection is closed
 *                   (POLLHUP at the agent) and the node removed; it can be
 *                   put back later.
 *
 * Every wait has a timeout; the helper never blocks a test forever.
 */
#ifndef QUIESCE_TESTS_HV_VSS_FAKE_KERNEL_H
#define QUIESCE_TESTS_HV_VSS_FAKE_KERNEL_H

#include <glib.h>

#define FAKE_KERNEL_MSG_SIZE 12

/* linux/hyperv.h values, spelled out for the fake. */
#define FAKE_OP_CREATE 0
#define FAKE_OP_HOT_BACKUP 2
#define FAKE_OP_FREEZE 5
#define FAKE_OP_THAW 6
#define FAKE_OP_REGISTER1 129

typedef struct FakeKernel FakeKernel;

/* Creates the "device" at path (a listening socket, mode 0600).
 * (transfer full) */
FakeKernel *fake_kernel_new(const char *path, GError **error);
void fake_kernel_free(FakeKernel *kernel);

/*
 * Waits up to timeout_ms for the agent to open the device and register.
 * The previous connection, if any, must have been released first. Checks
 * the registration message and answers the 4-byte version.
 * registration: (out) (optional) (transfer full) the raw bytes received.
 */
gboolean fake_kernel_accept(FakeKernel *kernel, int timeout_ms, GByteArray **registration,
                            GError **error);

/*
 * One transaction the kernel forwards from the host: sends the 12-byte
 * request for operation and waits up to timeout_ms for the reply, which
 * must be exactly 12 bytes (copied to reply). On timeout the transaction
 * ends as the kernel's vss_timeout_func ends it: the agent's late reply
 * will be rejected; FALSE with G_IO_ERROR_TIMED_OUT.
 */
gboolean fake_kernel_transact(FakeKernel *kernel, guint8 operation, int timeout_ms,
                              guint8 reply[FAKE_KERNEL_MSG_SIZE], GError **error);

/*
 * A request whose reply the kernel will reject: sent after the transaction
 * was already ended, as when the kernel times a FREEZE out before the agent
 * answers, or as hv_vss_pre_suspend()'s fake THAW before hibernation.
 */
gboolean fake_kernel_send_abandoned(FakeKernel *kernel, guint8 operation, GError **error);

/* TRUE when the agent closed the device within timeout_ms. */
gboolean fake_kernel_wait_release(FakeKernel *kernel, int timeout_ms);

/* TRUE when nothing arrived from the agent for quiet_ms (it sends nothing
 * unasked). */
gboolean fake_kernel_expect_silence(FakeKernel *kernel, int quiet_ms, GError **error);

/* The driver goes away: connection closed, node removed. */
void fake_kernel_remove_device(FakeKernel *kernel);
/* The node comes back (integration service switched on again). */
gboolean fake_kernel_restore_device(FakeKernel *kernel, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(FakeKernel, fake_kernel_free)

#endif
