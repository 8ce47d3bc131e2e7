/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz-hv-vss.c — libFuzzer target for Hyper-V's hv_vss requests through
 * the real channel (agent/channels/hv-vss-channel.c) and the real message
 * transport (transports/hv-vss.c), with this file as the kernel: the
 * transport connects to a SOCK_SEQPACKET socket in the fuzzer's temp dir
 * exactly as it does to the tests' fake kernel (transports/hv-vss.h), and
 * the engine behind it cannot freeze anything (fuzz-support.h).
 *
 * The input is a sequence of 13-byte records: one control byte, then the
 * 12-byte struct hv_vss_msg the kernel forwards. Control bit 0: the device
 * is lost first (the kernel closes; the transport registers again on its
 * own); bit 1: the kernel gives up on this request, so our reply is
 * refused (as after its timeout, or hibernation's fake THAW). The first
 * record's bit 2 picks the synthetic machine (fuzz-support.h: the loops one
 * instead of the stacks one) and bit 3 makes FIFREEZE fail on one of its
 * devices.
 *
 * Checks: every request gets exactly one reply of exactly 12 bytes, its
 * error member HV_S_OK or HV_E_FAIL and its other bytes the request's;
 * operations other than HOT_BACKUP, FREEZE and THAW are answered HV_S_OK;
 * a FREEZE answered HV_S_OK leaves a session active; the registration is
 * the 12-byte REGISTER1; and at the end nothing is frozen
 * (fuzz_engine_finish()).
 */
#include <errno.h>
#include <linux/hyperv.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "agent/channels/channel.h"
#include "tests/fuzz/fuzz-support.h"

#define FUZZ_MSG 12
#define FUZZ_RECORD (1 + FUZZ_MSG)
#define FUZZ_WAIT_ROUNDS 2000 /* main-context rounds of 1 ms before a hang is a bug */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int fuzz_listener = -1;
static char *fuzz_device;

static void fuzz_die(const char *why)
{
    fprintf(stderr, "fuzz-hv-vss: %s (errno %s)\n", why, g_strerror(errno));
    abort();
}

static void fuzz_listen(void)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };

    if (fuzz_listener >= 0) {
        return;
    }
    fuzz_support_init();
    fuzz_device = g_build_filename(fuzz_support_dir(), "hv_vss", NULL);
    g_strlcpy(addr.sun_path, fuzz_device, sizeof(addr.sun_path));
    fuzz_listener = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (fuzz_listener < 0 || bind(fuzz_listener, (struct sockaddr *)&addr, sizeof(addr)) != 0 ||
        listen(fuzz_listener, 4) != 0) {
        fuzz_die("cannot make the fake device");
    }
}

static gboolean fuzz_readable(int fd)
{
    struct pollfd pfd = { .fd = fd, .events = POLLIN };

    return poll(&pfd, 1, 0) == 1;
}

/* Runs the agent's main context until fd is readable. */
static void fuzz_wait_readable(int fd, const char *what)
{
    for (int i = 0; i < FUZZ_WAIT_ROUNDS; i++) {
        if (fuzz_readable(fd)) {
            return;
        }
        g_main_context_iteration(NULL, FALSE);
        if (fuzz_readable(fd)) {
            return;
        }
        g_usleep(1000);
    }
    fprintf(stderr, "fuzz-hv-vss: no %s\n", what);
    abort();
}

/* The kernel's side of open + REGISTER1: returns the connection. */
static int fuzz_accept(void)
{
    guint8 reg[64];
    guint32 version = VSS_OP_REGISTER1;
    ssize_t n;
    int conn;

    fuzz_wait_readable(fuzz_listener, "registration after the device came back");
    conn = accept4(fuzz_listener, NULL, NULL, SOCK_CLOEXEC);
    if (conn < 0) {
        fuzz_die("accept");
    }
    n = recv(conn, reg, sizeof(reg), 0);
    if (n != FUZZ_MSG || reg[0] != VSS_OP_REGISTER1) {
        fprintf(stderr, "fuzz-hv-vss: registration of %zd bytes, operation %u\n", n, reg[0]);
        abort();
    }
    if (send(conn, &version, sizeof(version), MSG_NOSIGNAL) != sizeof(version)) {
        fuzz_die("handshake");
    }
    fuzz_main_context_drain(); /* the transport reads the version: registered */
    return conn;
}

/* One transaction; returns the reply's status. */
static guint32 fuzz_transact(int conn, const guint8 *msg, Engine *engine)
{
    guint8 reply[64];
    guint32 status;
    ssize_t n;

    if (send(conn, msg, FUZZ_MSG, MSG_NOSIGNAL) != FUZZ_MSG) {
        fuzz_die("send");
    }
    fuzz_wait_readable(conn, "reply to a request");
    n = recv(conn, reply, sizeof(reply), MSG_DONTWAIT);
    if (n != FUZZ_MSG) {
        fprintf(stderr, "fuzz-hv-vss: a reply of %zd bytes to operation %u\n", n, msg[0]);
        abort();
    }
    memcpy(&status, reply, sizeof(status));
    if ((status != HV_S_OK && status != HV_E_FAIL) ||
        memcmp(reply + 4, msg + 4, FUZZ_MSG - 4) != 0) {
        fprintf(stderr, "fuzz-hv-vss: reply status 0x%x or bytes 4-11 changed, operation %u\n",
                status, msg[0]);
        abort();
    }
    if (msg[0] != VSS_OP_HOT_BACKUP && msg[0] != VSS_OP_FREEZE && msg[0] != VSS_OP_THAW &&
        status != HV_S_OK) {
        fprintf(stderr, "fuzz-hv-vss: operation %u answered E_FAIL\n", msg[0]);
        abort();
    }
    if (msg[0] == VSS_OP_FREEZE && status == HV_S_OK && !engine_get_session(engine)) {
        fprintf(stderr, "fuzz-hv-vss: FREEZE answered S_OK without a session\n");
        abort();
    }
    if (fuzz_readable(conn)) {
        fprintf(stderr, "fuzz-hv-vss: more than one reply to operation %u\n", msg[0]);
        abort();
    }
    return status;
}

/* A request whose reply the kernel refuses: its receiving side is shut, so
 * the agent's write fails with EPIPE and the transport starts over. */
static int fuzz_abandon(int conn, const guint8 *msg)
{
    if (send(conn, msg, FUZZ_MSG, MSG_NOSIGNAL) != FUZZ_MSG) {
        fuzz_die("send");
    }
    shutdown(conn, SHUT_RD);
    close(conn);
    return fuzz_accept();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const ChannelEvents no_events = { 0 };
    FuzzFreezeCounts counts;
    FuzzEngineOptions options = {
        .machine = size > 0 && (data[0] & 4) ? FUZZ_MACHINE_LOOPS : FUZZ_MACHINE_STACKS,
        .freeze_fails = size > 0 && (data[0] & 8),
    };
    g_autoptr(GError) error = NULL;
    g_autofree char *spec = NULL;
    Engine *engine;
    ChannelContext context;
    Channel *channel;
    int conn;

    fuzz_listen();
    spec = g_strdup_printf("hv-vss:%s", fuzz_device);
    engine = fuzz_engine_new(&counts, &options);
    context = (ChannelContext){ .engine = engine, .events = &no_events };
    channel = channel_new(spec, &context, &error);
    if (!channel || !channel_open(channel, &error)) {
        fprintf(stderr, "fuzz-hv-vss: %s\n", error->message);
        abort();
    }
    conn = fuzz_accept();
    for (size_t off = 0; off + FUZZ_RECORD <= size; off += FUZZ_RECORD) {
        guint8 control = data[off];
        const guint8 *msg = data + off + 1;

        if (control & 1) {
            close(conn); /* the driver goes away and comes back */
            conn = fuzz_accept();
        }
        if (control & 2) {
            conn = fuzz_abandon(conn, msg);
        } else {
            fuzz_transact(conn, msg, engine);
        }
    }
    channel_free(channel);
    close(conn);
    fuzz_engine_finish(engine, &counts);
    return 0;
}
