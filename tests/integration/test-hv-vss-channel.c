/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-hv-vss.c — the real quiesced on a fake /dev/vmbus/hv_vss
 * (fake-kernel.h), without freezing anything: the wire format, the
 * REGISTER1 handshake byte for byte, HOT_BACKUP's verdicts, unknown
 * operations, EBUSY at start-up, a rejected reply and a vanished device
 * (both recovered without a restart), and the QGA channel beside it.
 *
 * Needs no root. The agent is confined to this test's temp dir, which holds
 * no mount, so nothing could be frozen even by mistake.
 */
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/support/fake-kernel.h"
#include "tests/integration/hv-vss-agent.h"
#include "tests/support/test-run.h"
#include "transports/hv-vss.h"

#define WAIT_MS 10000

/* Replies as hv_vss_daemon writes them: `int error` over bytes 0-3. */
static const guint8 reply_s_ok[FAKE_KERNEL_MSG_SIZE] = { 0 };
static const guint8 reply_e_fail[FAKE_KERNEL_MSG_SIZE] = { 0x05, 0x40, 0x00, 0x80 };

typedef struct {
    char *dir;
    char *device;
    FakeKernel *kernel;
    HvVssAgent *agent;
} Fixture;

static const char *quiesced_binary;
static const char *busy_seam;

static void fixture_set_up(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;

    f->dir = g_dir_make_tmp("quiesce-hv-XXXXXX", &error);
    g_assert_no_error(error);
    f->device = g_build_filename(f->dir, "hv_vss", NULL);
    f->kernel = fake_kernel_new(f->device, &error);
    g_assert_no_error(error);
}

static void fixture_tear_down(Fixture *f, gconstpointer data)
{
    if (f->agent && (g_test_failed() || g_getenv("QUIESCE_TEST_SHOW_LOG"))) {
        g_autofree char *log = hv_vss_agent_log(f->agent);
        g_test_message("agent log:\n%s", log);
    }
    g_clear_pointer(&f->agent, hv_vss_agent_free);
    g_clear_pointer(&f->kernel, fake_kernel_free);
    g_spawn_sync(NULL, (char *[]){ "rm", "-rf", f->dir, NULL }, NULL, G_SPAWN_SEARCH_PATH, NULL,
                 NULL, NULL, NULL, NULL, NULL);
    g_free(f->device);
    g_free(f->dir);
}

static void start_agent(Fixture *f, const char *config, const char *const *envp)
{
    g_autoptr(GError) error = NULL;
    HvVssAgentOptions options = {
        .binary = quiesced_binary, .dir = f->dir, .device = f->device, .config = config,
        .envp = envp,
    };

    f->agent = hv_vss_agent_start(&options, &error);
    g_assert_no_error(error);
}

/* Starts the agent and completes its registration. */
static void start_registered(Fixture *f, const char *config)
{
    g_autoptr(GError) error = NULL;

    start_agent(f, config, NULL);
    g_assert_true(fake_kernel_accept(f->kernel, WAIT_MS, NULL, &error));
    g_assert_no_error(error);
}

static void assert_transact(Fixture *f, guint8 operation, const guint8 *expected)
{
    g_autoptr(GError) error = NULL;
    guint8 reply[FAKE_KERNEL_MSG_SIZE];

    g_assert_true(fake_kernel_transact(f->kernel, operation, WAIT_MS, reply, &error));
    g_assert_no_error(error);
    g_assert_cmpmem(reply, sizeof(reply), expected, FAKE_KERNEL_MSG_SIZE);
}

/* The encoder against the UAPI struct and literal bytes. */
static void test_wire_format(void)
{
    const char freeze[HV_VSS_MSG_SIZE] = { 5 };
    struct hv_vss_msg uapi = { .vss_hdr.operation = VSS_OP_FREEZE };
    char reply[HV_VSS_MSG_SIZE];

    g_assert_cmpmem(&uapi, sizeof(uapi), freeze, sizeof(freeze));
    g_assert_cmpuint(hv_vss_msg_get_operation(freeze), ==, VSS_OP_FREEZE);
    hv_vss_msg_make_reply(freeze, HV_E_FAIL, reply);
    g_assert_cmpmem(reply, sizeof(reply), reply_e_fail, sizeof(reply_e_fail));
    hv_vss_msg_make_reply(freeze, HV_S_OK, reply);
    g_assert_cmpmem(reply, sizeof(reply), reply_s_ok, sizeof(reply_s_ok));
    g_assert_cmpint(VSS_OP_HOT_BACKUP, ==, FAKE_OP_HOT_BACKUP);
    g_assert_cmpint(VSS_OP_THAW, ==, FAKE_OP_THAW);
    g_assert_cmpint(VSS_OP_REGISTER1, ==, FAKE_OP_REGISTER1);
    g_assert_cmpstr(hv_vss_operation_name(VSS_OP_AUTO_RECOVER), ==, "AUTO_RECOVER");
    g_assert_null(hv_vss_operation_name(42));
}

/* REGISTER1 exactly, the 4-byte version read, nothing else unasked; the
 * QGA channel serves beside it. */
static void test_handshake(Fixture *f, gconstpointer data)
{
    static const guint8 register1[FAKE_KERNEL_MSG_SIZE] = { 0x81 };
    g_autoptr(GError) error = NULL;
    g_autoptr(GByteArray) registration = NULL;
    g_autofree char *ping = NULL;
    g_autofree char *status = NULL;

    start_agent(f, NULL, NULL);
    g_assert_true(fake_kernel_accept(f->kernel, WAIT_MS, &registration, &error));
    g_assert_no_error(error);
    g_assert_nonnull(registration);
    if (!registration) {
        return; /* assertions are non-fatal: reach the teardown */
    }
    g_assert_cmpmem(registration->data, registration->len, register1, sizeof(register1));
    g_assert_true(hv_vss_agent_wait_log(f->agent, "registered with the kernel's hv_vss driver "
                                                  "(its version: 129)",
                                        WAIT_MS));
    g_assert_true(fake_kernel_expect_silence(f->kernel, 300, &error));
    g_assert_no_error(error);
    ping = hv_vss_agent_ask(f->agent, "{\"execute\":\"guest-ping\"}", &error);
    g_assert_no_error(error);
    g_assert_cmpstr(ping, ==, "{\"return\": {}}\n");
    status = hv_vss_agent_ask(f->agent, "{\"execute\":\"guest-fsfreeze-status\"}", &error);
    g_assert_cmpstr(status, ==, "{\"return\": \"thawed\"}\n");
}

/* The confinement dir holds no mount: a production checkpoint would freeze
 * nothing, so the host is told to fall back (the eligible verdict, with
 * filesystems to freeze, is hv-vss-freeze's, which mounts them). FREEZE
 * follows the same verdict. */
static void test_hot_backup_nothing_to_freeze(Fixture *f, gconstpointer data)
{
    start_registered(f, NULL);
    assert_transact(f, FAKE_OP_HOT_BACKUP, reply_e_fail);
    g_assert_true(hv_vss_agent_wait_log(f->agent, "HOT_BACKUP: not eligible (nothing-to-freeze",
                                        WAIT_MS));
    assert_transact(f, FAKE_OP_FREEZE, reply_e_fail);
    g_assert_true(hv_vss_agent_wait_log(f->agent, "FREEZE: saved-state", 1000));
}

/* A guest still starting up is not eligible: the host must fall back. */
static void test_hot_backup_not_running(Fixture *f, gconstpointer data)
{
    start_registered(f, "[freeze]\nrunning-state-command=echo starting\n");
    assert_transact(f, FAKE_OP_HOT_BACKUP, reply_e_fail);
    g_assert_true(hv_vss_agent_wait_log(f->agent, "HOT_BACKUP: not eligible (not-running", 1000));
    /* FREEZE follows the same verdict. */
    assert_transact(f, FAKE_OP_FREEZE, reply_e_fail);
    g_assert_true(hv_vss_agent_wait_log(f->agent, "FREEZE: saved-state", 1000));
}

/* Operations the kernel never forwards: logged, S_OK, the channel goes on. */
static void test_unknown_operation(Fixture *f, gconstpointer data)
{
    start_registered(f, NULL);
    assert_transact(f, FAKE_OP_CREATE, reply_s_ok);
    assert_transact(f, 42, reply_s_ok);
    g_assert_true(hv_vss_agent_wait_log(f->agent, "unknown operation 0 (CREATE)", 1000));
    g_assert_true(hv_vss_agent_wait_log(f->agent, "unknown operation 42 (not in linux/hyperv.h)",
                                        1000));
    assert_transact(f, FAKE_OP_HOT_BACKUP, reply_e_fail);
}

/* hibernation's fake THAW (when idle) or a THAW after a refused FREEZE. */
static void test_thaw_without_freeze(Fixture *f, gconstpointer data)
{
    start_registered(f, NULL);
    assert_transact(f, FAKE_OP_THAW, reply_s_ok);
    g_assert_true(hv_vss_agent_wait_log(f->agent, "THAW: nothing frozen by this channel", 1000));
}

/* Another daemon holds the device: fatal, naming what to stop. */
static void test_busy_is_fatal(Fixture *f, gconstpointer data)
{
    g_autofree char *preload = g_strdup_printf("LD_PRELOAD=%s", busy_seam);
    g_autofree char *busy = g_strdup_printf("QUIESCE_SEAM_BUSY_PATH=%s", f->device);
    const char *envp[] = { preload, busy, "ASAN_OPTIONS=verify_asan_link_order=0", NULL };
    g_autofree char *log = NULL;
    int status = 0;

    start_agent(f, NULL, envp);
    g_assert_true(hv_vss_agent_wait_exit(f->agent, WAIT_MS, &status));
    g_assert_true(WIFEXITED(status));
    g_assert_cmpint(WEXITSTATUS(status), ==, 1);
    log = hv_vss_agent_log(f->agent);
    g_assert_nonnull(strstr(log, "Device or resource busy"));
    g_assert_nonnull(strstr(log, "hv-vss-daemon.service"));
    g_assert_nonnull(strstr(log, "hypervvssd.service"));
    g_assert_false(g_file_test(hv_vss_agent_qga_socket(f->agent), G_FILE_TEST_EXISTS));
}

/* The kernel refuses a late reply: the agent reopens and registers again
 * in the same process, and serves the next request. */
static void test_rejected_reply_reregisters(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;

    start_registered(f, NULL);
    g_assert_true(fake_kernel_send_abandoned(f->kernel, FAKE_OP_HOT_BACKUP, &error));
    g_assert_no_error(error);
    g_assert_true(fake_kernel_wait_release(f->kernel, WAIT_MS));
    g_assert_true(fake_kernel_accept(f->kernel, WAIT_MS, NULL, &error));
    g_assert_no_error(error);
    g_assert_true(hv_vss_agent_wait_log(f->agent, "the kernel rejected our reply", 1000));
    assert_transact(f, FAKE_OP_HOT_BACKUP, reply_e_fail);
    g_assert_cmpint(kill(hv_vss_agent_pid(f->agent), 0), ==, 0);
}

/* The integration service is switched off and on again: POLLHUP, the node
 * gone for a while, then back; no restart. */
static void test_device_vanishes_and_returns(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    gint64 back;

    start_registered(f, NULL);
    fake_kernel_remove_device(f->kernel);
    g_assert_true(hv_vss_agent_wait_log(f->agent, "reading the device failed: end of file",
                                        WAIT_MS));
    g_assert_true(hv_vss_agent_wait_log(f->agent, "No such file or directory", WAIT_MS));
    g_usleep(1500000);
    g_assert_true(fake_kernel_restore_device(f->kernel, &error));
    back = g_get_monotonic_time();
    g_assert_true(fake_kernel_accept(f->kernel, WAIT_MS, NULL, &error));
    g_assert_no_error(error);
    /* Backoff is capped at 5 s. */
    g_assert_cmpint(g_get_monotonic_time() - back, <, 5500000);
    assert_transact(f, FAKE_OP_HOT_BACKUP, reply_e_fail);
    g_assert_true(hv_vss_agent_stop(f->agent, &error));
    g_assert_no_error(error);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_set_nonfatal_assertions();
    quiesced_binary = g_getenv("QUIESCED");
    busy_seam = g_getenv("QUIESCE_SEAM_OPEN_BUSY");
    g_assert_nonnull(quiesced_binary);
    g_assert_nonnull(busy_seam);
    quiesce_test_add_func("/hv-vss/wire-format", test_wire_format);
#define ADD(path, fn) QUIESCE_TEST_ADD(path, Fixture, NULL, fixture_set_up, fn, fixture_tear_down)
    ADD("/hv-vss/handshake", test_handshake);
    ADD("/hv-vss/hot-backup-nothing-to-freeze", test_hot_backup_nothing_to_freeze);
    ADD("/hv-vss/hot-backup-not-running", test_hot_backup_not_running);
    ADD("/hv-vss/unknown-operation", test_unknown_operation);
    ADD("/hv-vss/thaw-without-freeze", test_thaw_without_freeze);
    ADD("/hv-vss/busy-is-fatal", test_busy_is_fatal);
    ADD("/hv-vss/rejected-reply-reregisters", test_rejected_reply_reregisters);
    ADD("/hv-vss/device-vanishes-and-returns", test_device_vanishes_and_returns);
    return quiesce_test_run();
}
