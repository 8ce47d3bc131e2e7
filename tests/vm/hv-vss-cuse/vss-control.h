/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vss-control.h — the host's side of the emulated hv_vss device: a tiny line
 * protocol on a virtio-serial port (org.quiesce.hvvss-ctl.0 in the vm tests),
 * standing in for the Hyper-V host's VSS requests that the real driver gets
 * over VMBus. One command per line (at most 200 bytes), one answer line each,
 * in order; words are separated by single spaces.
 *
 *   send OP [TIMEOUT_MS]   a host request; OP is HOT_BACKUP, FREEZE, THAW,
 *                          another name of linux/hyperv.h or a number.
 *                          TIMEOUT_MS replaces the kernel's own wait (900 s
 *                          for FREEZE, 30 s otherwise).
 *     -> reply OP STATUS BY READ_MS ANSWER_MS
 *          STATUS   what the host gets, 8 hex digits: 00000000 HV_S_OK,
 *                   80004005 HV_E_FAIL
 *          BY       daemon | kernel (answered without the daemon) |
 *                   timeout | reset (the daemon closed the device)
 *          READ_MS  request queued -> the daemon read it (-1: never)
 *          ANSWER_MS request queued -> the host's answer (milliseconds,
 *                   three decimals, measured in the guest)
 *   wait-registered TIMEOUT_MS
 *     -> registered | error not-registered
 *   status
 *     -> status open=0|1 registered=0|1 state=init|ready|request
 *        late-rejected=N requests=N
 *   anything else -> error unknown-command
 *
 * A port whose host side is not connected reads as end of file: the server
 * waits and reads again.
 */
#ifndef QUIESCE_TESTS_VM_HV_VSS_CUSE_VSS_CONTROL_H
#define QUIESCE_TESTS_VM_HV_VSS_CUSE_VSS_CONTROL_H

#include "tests/vm/hv-vss-cuse/vss-device.h"

#define VSS_CONTROL_LINE_MAX 200

/* The answer line (no newline) to one command line. (transfer full) */
char *vss_control_answer(VssDevice *device, const char *line);

/* Serves the port at path forever (a thread's body); device borrowed. */
void vss_control_serve(VssDevice *device, const char *path);

#endif
