/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-hv-vss-freeze.c — the real quiesced on a fake /dev/vmbus/hv_vss
 * (fake-kernel.h), freezing for real: ext4 and xfs images this test
 * loop-mounts under /var/tmp/quiesce-hv-*, the agent's --confine dir.
 *
 * HOT_BACKUP / FREEZE / THAW with the filesystems really frozen (a write
 * blocks) and thawed (it completes), and writer scripts around them (which
 * find the filesystems writable at freeze and at thaw); an
 * ineligible set and a failure
 * mid-set answered E_FAIL with nothing frozen; the kernel refusing a late
 * FREEZE reply, hibernation's fake THAW and a vanished device, each thawing
 * at once and registering again; the watchdog thawing when THAW never
 * comes; and an agent killed while frozen, whose successor thaws and fails
 * the host's THAW. While a FREEZE waits for a slow writer, the QGA socket
 * beside it answers guest-ping at once and a guest-fsfreeze-thaw sent
 * meanwhile waits, then thaws (so the host's THAW fails); while a QGA
 * prepare waits for it, the kernel's FREEZE waits, then fails (a session
 * is active).
 *
 * Root only (skips otherwise). Nothing outside the confine dir can freeze.
 */
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/support/agent-process.h"
#include "tests/support/fake-kernel.h"
#include "tests/integration/hv-vss-agent.h"
#include "tests/support/loopfs.h"
#include "tests/support/test-run.h"

#define WAIT_MS 20000

static const guint8 reply_s_ok[FAKE_KERNEL_MSG_SIZE] = { 0 };
static const guint8 reply_e_fail[FAKE_KERNEL_MSG_SIZE] = { 0x05, 0x40, 0x00, 0x80 };

typedef struct {
    char *dir;
    char *device;
    LoopFsGuard *guard;
    LoopFs *ext4; /* borrowed from guard */
    LoopFs *xfs;
    FakeKernel *kernel;
    HvVssAgent *agent;
    gboolean broken; /* the set-up failed: the test is not run, the teardown is */
} Fixture;

typedef void (*FixtureTest)(Fixture *f, gconstpointer data);

static const char *quiesced_binary;
static const char *fifreeze_seam;

static LoopFs *add_fs(Fixture *f, const char *type, guint size_mib)
{
    g_autoptr(GError) error = NULL;
    LoopFs *fs = loopfs_create(f->dir, f->dir, type, type, size_mib, &error);

    g_assert_no_error(error);
    if (!fs) {
        f->broken = TRUE;
        return NULL;
    }
    loopfs_guard_add(f->guard, fs);
    return fs;
}

static void fixture_set_up(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;

    /* /tmp may be tmpfs; loop images there are not host-visible. */
    f->dir = g_strdup("/var/tmp/quiesce-hv-XXXXXX");
    g_assert_nonnull(g_mkdtemp(f->dir));
    f->guard = loopfs_guard_new();
    f->ext4 = add_fs(f, "ext4", 64);
    f->xfs = add_fs(f, "xfs", 320); /* mkfs.xfs wants at least 300 MB */
    f->device = g_build_filename(f->dir, "hv_vss", NULL);
    f->kernel = fake_kernel_new(f->device, &error);
    g_assert_no_error(error);
    f->broken = f->broken || !f->kernel;
}

/* Runs the test unless the set-up failed (assertions are non-fatal, and a
 * test on a half-made fixture would crash before the teardown unmounts). */
static void fixture_run(Fixture *f, gconstpointer data)
{
    FixtureTest test = (FixtureTest)data;

    if (f->broken) {
        g_test_fail();
        return;
    }
    test(f, NULL);
}

static void fixture_tear_down(Fixture *f, gconstpointer data)
{
    if (f->agent && (g_test_failed() || g_getenv("QUIESCE_TEST_SHOW_LOG"))) {
        g_autofree char *log = hv_vss_agent_log(f->agent);
        g_test_message("agent log:\n%s", log);
    }
    g_clear_pointer(&f->agent, hv_vss_agent_free); /* SIGKILL if still running */
    g_clear_pointer(&f->kernel, fake_kernel_free);
    loopfs_guard_thaw_all(f->guard);
    g_assert_cmpint(loopfs_guard_get_violations(f->guard), ==, 0);
    loopfs_guard_free(f->guard);
    loopfs_run((const char *[]){ "rm", "-rf", f->dir, NULL }, NULL);
    g_free(f->device);
    g_free(f->dir);
}

static void start_agent_full(Fixture *f, const char *config, const char *const *envp,
                             const char *writers_dir)
{
    g_autoptr(GError) error = NULL;
    HvVssAgentOptions options = {
        .binary = quiesced_binary, .dir = f->dir, .device = f->device, .config = config,
        .envp = envp, .writers_dir = writers_dir,
    };

    f->agent = hv_vss_agent_start(&options, &error);
    g_assert_no_error(error);
    g_assert_true(fake_kernel_accept(f->kernel, WAIT_MS, NULL, &error));
    g_assert_no_error(error);
}

static void start_agent(Fixture *f, const char *config, const char *const *envp)
{
    start_agent_full(f, config, envp, NULL);
}

static void assert_transact(Fixture *f, guint8 operation, const guint8 *expected)
{
    g_autoptr(GError) error = NULL;
    guint8 reply[FAKE_KERNEL_MSG_SIZE];

    g_assert_true(fake_kernel_transact(f->kernel, operation, WAIT_MS, reply, &error));
    g_assert_no_error(error);
    g_assert_cmpmem(reply, sizeof(reply), expected, FAKE_KERNEL_MSG_SIZE);
}

static void send_abandoned_and_reregister(Fixture *f, guint8 operation)
{
    g_autoptr(GError) error = NULL;

    g_assert_true(fake_kernel_send_abandoned(f->kernel, operation, &error));
    g_assert_no_error(error);
    g_assert_true(fake_kernel_wait_release(f->kernel, WAIT_MS));
    g_assert_true(fake_kernel_accept(f->kernel, WAIT_MS, NULL, &error));
    g_assert_no_error(error);
}

static void assert_writable(const Fixture *f)
{
    const LoopFs *all[] = { f->ext4, f->xfs };

    for (gsize i = 0; i < G_N_ELEMENTS(all); i++) {
        GPid pid = loopfs_start_write(all[i]);
        gboolean done = loopfs_wait_write(pid, 5000);
        if (!done) {
            kill(pid, SIGKILL); /* left blocked: the test fails, teardown thaws */
        }
        g_assert_true(done);
    }
}

static void assert_status(Fixture *f, const char *state)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *expected = g_strdup_printf("{\"return\": \"%s\"}\n", state);
    g_autofree char *status =
        hv_vss_agent_ask(f->agent, "{\"execute\":\"guest-fsfreeze-status\"}", &error);

    g_assert_no_error(error);
    g_assert_cmpstr(status, ==, expected);
}

/* FREEZE, and check both filesystems are frozen: a write to each blocks.
 * Returns the blocked writers' pids through *ext4_writer and *xfs_writer. */
static void freeze_and_check(Fixture *f, GPid *ext4_writer, GPid *xfs_writer)
{
    assert_transact(f, FAKE_OP_FREEZE, reply_s_ok);
    *ext4_writer = loopfs_start_write(f->ext4);
    *xfs_writer = loopfs_start_write(f->xfs);
    g_assert_false(loopfs_wait_write(*ext4_writer, 300));
    g_assert_false(loopfs_wait_write(*xfs_writer, 0));
}

static void test_freeze_thaw(Fixture *f, gconstpointer data)
{
    GPid ext4_writer;
    GPid xfs_writer;

    start_agent(f, NULL, NULL);
    assert_transact(f, FAKE_OP_HOT_BACKUP, reply_s_ok);
    freeze_and_check(f, &ext4_writer, &xfs_writer);
    assert_status(f, "frozen");
    assert_transact(f, FAKE_OP_THAW, reply_s_ok);
    g_assert_true(loopfs_wait_write(ext4_writer, 5000));
    g_assert_true(loopfs_wait_write(xfs_writer, 5000));
    assert_writable(f);
    assert_status(f, "thawed");
    g_assert_true(hv_vss_agent_wait_log(f->agent, "thawed 2 filesystem(s)", 1000));
}

static void add_script(const char *dir, const char *name, const char *body)
{
    g_autofree char *path = g_build_filename(dir, name, NULL);

    g_assert_true(g_file_set_contents(path, body, -1, NULL));
    g_assert_cmpint(g_chmod(path, 0755), ==, 0);
}

static void assert_phases(const char *record, const char *expected)
{
    g_autofree char *phases = NULL;

    g_file_get_contents(record, &phases, NULL, NULL);
    g_assert_cmpstr(phases ? phases : "", ==, expected);
}

/* The recorder writer: appends "PHASE ext4:STATE xfs:STATE" to @record,
 * where STATE says whether a write+fsync into that loop filesystem finished
 * within 5 s while the writer ran ("writable") or not ("blocked": it is
 * frozen; the dd finishes at the thaw). The record itself lives in the test
 * dir, which is never frozen, so only the probes can tell the order. */
static char *recorder_script(const Fixture *f, const char *record)
{
    return g_strdup_printf(
        "#!/bin/sh\n"
        "probe() {\n"
        "    rm -f \"$2\"\n"
        "    (dd if=/dev/zero of=\"$1/writer-probe\" bs=4k count=1 conv=fsync && touch \"$2\")"
        " </dev/null >/dev/null 2>&1 &\n"
        "    i=0\n"
        "    while [ ! -e \"$2\" ]; do\n"
        "        i=$((i + 1))\n"
        "        [ $i -gt 50 ] && { echo blocked; return; }\n"
        "        sleep 0.1\n"
        "    done\n"
        "    echo writable\n"
        "}\n"
        "echo \"$1 ext4:$(probe '%s' '%s/probe-ext4') xfs:$(probe '%s' '%s/probe-xfs')\" >> '%s'\n",
        f->ext4->mountpoint, f->dir, f->xfs->mountpoint, f->dir, record);
}

/* FREEZE runs the writers before the filesystems freeze and THAW after they
 * thaw: the recorder finds both filesystems writable in each phase. A
 * writer failing its freeze makes FREEZE E_FAIL with every writer released
 * and nothing frozen. */
static void test_writers(Fixture *f, gconstpointer data)
{
    g_autofree char *writers = g_build_filename(f->dir, "writers.d", NULL);
    g_autofree char *record = g_build_filename(f->dir, "phases", NULL);
    g_autofree char *recorder = recorder_script(f, record);

    g_assert_cmpint(g_mkdir(writers, 0755), ==, 0);
    add_script(writers, "10-record", recorder);
    start_agent_full(f, NULL, NULL, writers);
    assert_transact(f, FAKE_OP_HOT_BACKUP, reply_s_ok);
    assert_transact(f, FAKE_OP_FREEZE, reply_s_ok);
    assert_phases(record, "freeze ext4:writable xfs:writable\n");
    assert_transact(f, FAKE_OP_THAW, reply_s_ok);
    assert_phases(record, "freeze ext4:writable xfs:writable\n"
                          "thaw ext4:writable xfs:writable\n");
    add_script(writers, "20-fail", "#!/bin/sh\n[ \"$1\" = freeze ] && exit 1\nexit 0\n");
    assert_transact(f, FAKE_OP_FREEZE, reply_e_fail);
    assert_phases(record, "freeze ext4:writable xfs:writable\n"
                          "thaw ext4:writable xfs:writable\n"
                          "freeze ext4:writable xfs:writable\n"
                          "freeze-fail ext4:writable xfs:writable\n");
    assert_writable(f);
    assert_status(f, "thawed");
    g_assert_true(hv_vss_agent_wait_log(f->agent, "writer-failed", 1000));
}

/* Hyper-V's rule: loop images are not basic disks. */
static void test_ineligible_nothing_frozen(Fixture *f, gconstpointer data)
{
    start_agent(f, "[freeze]\nrunning-state-command=\n[eligibility]\nstrict=true\n", NULL);
    assert_transact(f, FAKE_OP_HOT_BACKUP, reply_e_fail);
    assert_transact(f, FAKE_OP_FREEZE, reply_e_fail);
    assert_writable(f);
    assert_status(f, "thawed");
    g_assert_true(hv_vss_agent_wait_log(f->agent, "not-basic-disk", 1000));
    g_assert_true(hv_vss_agent_wait_log(f->agent, "nothing left frozen", 1000));
}

/* FIFREEZE fails for one filesystem (LD_PRELOAD seam): all undone, E_FAIL. */
static void test_freeze_failure_rolls_back(Fixture *f, gconstpointer data)
{
    g_autofree char *preload = g_strdup_printf("LD_PRELOAD=%s", fifreeze_seam);
    g_autofree char *fail = g_strdup_printf("QUIESCE_SEAM_FAIL_FREEZE_PATH=%s",
                                            f->ext4->mountpoint);
    const char *envp[] = { preload, fail, "QUIESCE_SEAM_FAIL_FREEZE_ERRNO=EIO",
                           "ASAN_OPTIONS=verify_asan_link_order=0", NULL };

    start_agent(f, NULL, envp);
    assert_transact(f, FAKE_OP_HOT_BACKUP, reply_s_ok);
    assert_transact(f, FAKE_OP_FREEZE, reply_e_fail);
    assert_writable(f);
    assert_status(f, "thawed");
    g_assert_true(hv_vss_agent_wait_log(f->agent, "freeze-failed", 1000));
    g_assert_true(hv_vss_agent_wait_log(f->agent, "Input/output error", 1000));
}

/* The kernel timed FREEZE out before the agent answered: the reply is
 * refused, the agent thaws at once and registers again, and the next
 * backup works. */
static void test_rejected_freeze_reply_thaws(Fixture *f, gconstpointer data)
{
    GPid ext4_writer;
    GPid xfs_writer;

    start_agent(f, NULL, NULL);
    send_abandoned_and_reregister(f, FAKE_OP_FREEZE);
    g_assert_true(hv_vss_agent_wait_log(f->agent, "FREEZE: session", 1000));
    g_assert_true(hv_vss_agent_wait_log(f->agent, "the kernel rejected our reply", 1000));
    g_assert_true(hv_vss_agent_wait_log(f->agent, "lost the device while session", 1000));
    assert_writable(f);
    assert_status(f, "thawed");
    freeze_and_check(f, &ext4_writer, &xfs_writer);
    assert_transact(f, FAKE_OP_THAW, reply_s_ok);
    g_assert_true(loopfs_wait_write(ext4_writer, 5000));
    g_assert_true(loopfs_wait_write(xfs_writer, 5000));
}

/* hv_vss_pre_suspend(): a fake THAW whose reply is refused; thawed, and
 * the host's real THAW after the resume fails. */
static void test_hibernation_fake_thaw(Fixture *f, gconstpointer data)
{
    GPid ext4_writer;
    GPid xfs_writer;

    start_agent(f, NULL, NULL);
    freeze_and_check(f, &ext4_writer, &xfs_writer);
    send_abandoned_and_reregister(f, FAKE_OP_THAW);
    g_assert_true(loopfs_wait_write(ext4_writer, 5000));
    g_assert_true(loopfs_wait_write(xfs_writer, 5000));
    assert_writable(f);
    g_assert_true(hv_vss_agent_wait_log(f->agent, "THAW: session", 1000));
    /* After the resume, the host's own THAW: the freeze did not hold. */
    assert_transact(f, FAKE_OP_THAW, reply_e_fail);
    assert_transact(f, FAKE_OP_HOT_BACKUP, reply_s_ok);
}

/* The device disappears while frozen: thawed at once, back when it is,
 * and the host's THAW for that freeze fails. */
static void test_device_lost_while_frozen(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    GPid ext4_writer;
    GPid xfs_writer;

    start_agent(f, NULL, NULL);
    freeze_and_check(f, &ext4_writer, &xfs_writer);
    fake_kernel_remove_device(f->kernel);
    g_assert_true(loopfs_wait_write(ext4_writer, 2000));
    g_assert_true(loopfs_wait_write(xfs_writer, 2000));
    g_assert_true(hv_vss_agent_wait_log(f->agent, "lost the device while session", 1000));
    g_assert_true(fake_kernel_restore_device(f->kernel, &error));
    g_assert_true(fake_kernel_accept(f->kernel, WAIT_MS, NULL, &error));
    g_assert_no_error(error);
    /* The host's THAW for the snapshot it took meanwhile: not consistent. */
    assert_transact(f, FAKE_OP_THAW, reply_e_fail);
    assert_transact(f, FAKE_OP_THAW, reply_s_ok);
    assert_transact(f, FAKE_OP_HOT_BACKUP, reply_s_ok);
}

/* The host never sends THAW: the watchdog thaws at the window; the late
 * THAW fails, so the host discards the snapshot. */
static void test_watchdog_without_thaw(Fixture *f, gconstpointer data)
{
    gint64 start;
    GPid ext4_writer;
    GPid xfs_writer;

    start_agent(f, "[freeze]\nrunning-state-command=\nwindow=2\n", NULL);
    start = g_get_monotonic_time();
    freeze_and_check(f, &ext4_writer, &xfs_writer);
    g_assert_true(loopfs_wait_write(ext4_writer, 6000));
    g_assert_true(loopfs_wait_write(xfs_writer, 1000));
    g_assert_cmpint(g_get_monotonic_time() - start, >=, 1900000);
    assert_writable(f);
    assert_transact(f, FAKE_OP_THAW, reply_e_fail);
    g_assert_true(hv_vss_agent_wait_log(f->agent, "the freeze window of 2 s expired", 1000));
}

/* The host abandons a backup (no THAW) and starts the next one: HOT_BACKUP
 * thaws the abandoned session and answers S_OK (not E_FAIL because the
 * probe cannot run frozen), and the new FREEZE/THAW works. */
static void test_next_backup_after_abandoned(Fixture *f, gconstpointer data)
{
    GPid ext4_writer;
    GPid xfs_writer;

    start_agent(f, NULL, NULL);
    assert_transact(f, FAKE_OP_HOT_BACKUP, reply_s_ok);
    freeze_and_check(f, &ext4_writer, &xfs_writer);
    assert_transact(f, FAKE_OP_HOT_BACKUP, reply_s_ok);
    g_assert_true(loopfs_wait_write(ext4_writer, 5000));
    g_assert_true(loopfs_wait_write(xfs_writer, 5000));
    assert_status(f, "thawed");
    g_assert_true(hv_vss_agent_wait_log(f->agent, "the host never sent its THAW", 1000));
    freeze_and_check(f, &ext4_writer, &xfs_writer);
    assert_transact(f, FAKE_OP_THAW, reply_s_ok);
    g_assert_true(loopfs_wait_write(ext4_writer, 5000));
    g_assert_true(loopfs_wait_write(xfs_writer, 5000));
    assert_writable(f);
}

/* SIGKILL while frozen: the successor thaws on start, registers, and fails
 * the host's THAW (the snapshot was not held consistent). */
static void test_restart_while_frozen(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    GPid ext4_writer;
    GPid xfs_writer;

    start_agent(f, NULL, NULL);
    freeze_and_check(f, &ext4_writer, &xfs_writer);
    kill(hv_vss_agent_pid(f->agent), SIGKILL);
    g_clear_pointer(&f->agent, hv_vss_agent_free);
    g_assert_true(fake_kernel_wait_release(f->kernel, WAIT_MS));
    g_assert_false(loopfs_wait_write(ext4_writer, 200));
    start_agent(f, NULL, NULL);
    g_assert_true(loopfs_wait_write(ext4_writer, 5000));
    g_assert_true(loopfs_wait_write(xfs_writer, 5000));
    assert_transact(f, FAKE_OP_THAW, reply_e_fail);
    g_assert_true(hv_vss_agent_wait_log(f->agent, "agent restarted while frozen", 1000));
    g_assert_true(hv_vss_agent_stop(f->agent, &error));
    g_assert_no_error(error);
}

typedef struct {
    Fixture *f;
    guint8 operation;
    guint8 reply[FAKE_KERNEL_MSG_SIZE];
    gboolean ok;
} Transaction;

static gpointer transact_thread(gpointer data)
{
    Transaction *t = data;

    t->ok = fake_kernel_transact(t->f->kernel, t->operation, WAIT_MS, t->reply, NULL);
    return NULL;
}

/* Waits up to 10 s for path to exist. */
static gboolean wait_for_file(const char *path)
{
    for (int i = 0; i < 1000 && !g_file_test(path, G_FILE_TEST_EXISTS); i++) {
        g_usleep(10000);
    }
    return g_file_test(path, G_FILE_TEST_EXISTS);
}

/* The agent with a writer that sleeps 3 s in its freeze phase, touching
 * the returned path (DIR/in-freeze) as it starts; a QGA socket listening. */
static char *start_with_slow_writer(Fixture *f)
{
    g_autofree char *writers = g_build_filename(f->dir, "writers.d", NULL);
    g_autofree char *body = g_strdup_printf("#!/bin/sh\n[ \"$1\" = freeze ] || exit 0\n"
                                            "touch '%s/in-freeze'\nsleep 3\nexit 0\n",
                                            f->dir);

    g_assert_cmpint(g_mkdir(writers, 0755), ==, 0);
    add_script(writers, "10-slow", body);
    start_agent_full(f, NULL, NULL, writers);
    g_free(hv_vss_agent_ask(f->agent, "{\"execute\":\"guest-ping\"}", NULL));
    return g_build_filename(f->dir, "in-freeze", NULL);
}

static void test_qga_during_freeze(Fixture *f, gconstpointer data)
{
    g_autofree char *marker = start_with_slow_writer(f);
    g_autofree char *ping = NULL;
    g_autofree char *thaw = NULL;
    g_autofree char *early = NULL;
    Transaction freeze = { .f = f, .operation = FAKE_OP_FREEZE };
    GThread *thread;
    gint64 t0;
    int qga;

    assert_transact(f, FAKE_OP_HOT_BACKUP, reply_s_ok);
    thread = g_thread_new("freeze", transact_thread, &freeze);
    g_assert_true(wait_for_file(marker));
    t0 = g_get_monotonic_time();
    ping = hv_vss_agent_ask(f->agent, "{\"execute\":\"guest-ping\"}", NULL);
    g_test_message("guest-ping during FREEZE's writer: %" G_GINT64_FORMAT " ms",
                   (g_get_monotonic_time() - t0) / 1000);
    g_assert_cmpstr(ping, ==, "{\"return\": {}}\n");
    g_assert_cmpint(g_get_monotonic_time() - t0, <, G_USEC_PER_SEC);
    qga = agent_process_connect(hv_vss_agent_qga_socket(f->agent));
    agent_process_send(qga, "{\"execute\":\"guest-fsfreeze-thaw\"}\n");
    early = agent_process_read_line(qga, 500);
    g_assert_null(early); /* it waits for the FREEZE */
    g_thread_join(thread);
    g_assert_true(freeze.ok);
    g_assert_cmpmem(freeze.reply, FAKE_KERNEL_MSG_SIZE, reply_s_ok, FAKE_KERNEL_MSG_SIZE);
    thaw = agent_process_read_line(qga, WAIT_MS);
    g_test_message("guest-fsfreeze-thaw sent during FREEZE: %s", thaw ? thaw : "no answer");
    g_assert_cmpstr(thaw, ==, "{\"return\": 2}\n");
    close(qga);
    assert_writable(f);
    assert_transact(f, FAKE_OP_THAW, reply_e_fail); /* thawed before the host's THAW */
}

static void test_freeze_during_qga_prepare(Fixture *f, gconstpointer data)
{
    g_autofree char *marker = start_with_slow_writer(f);
    g_autofree char *prepare = NULL;
    g_autofree char *post_line = NULL;
    g_autofree char *post = NULL;
    g_autofree char *session = NULL;
    Transaction freeze = { .f = f, .operation = FAKE_OP_FREEZE };
    GThread *thread;
    int qga;

    qga = agent_process_connect(hv_vss_agent_qga_socket(f->agent));
    agent_process_send(qga, "{\"execute\":\"guest-snapshot-prepare\"}\n");
    g_assert_true(wait_for_file(marker));
    thread = g_thread_new("freeze", transact_thread, &freeze);
    prepare = agent_process_read_line(qga, WAIT_MS);
    g_assert_nonnull(strstr(prepare ? prepare : "", "\"method\": \"child-snapshot\""));
    g_thread_join(thread);
    g_assert_true(freeze.ok);
    g_assert_cmpmem(freeze.reply, FAKE_KERNEL_MSG_SIZE, reply_e_fail, FAKE_KERNEL_MSG_SIZE);
    session = g_strndup(strstr(prepare, "\"session\": \"") + 12, 36);
    post_line = g_strdup_printf(
        "{\"execute\":\"guest-snapshot-post\",\"arguments\":{\"session\":\"%s\"}}\n", session);
    agent_process_send(qga, post_line);
    post = agent_process_read_line(qga, WAIT_MS);
    g_assert_nonnull(strstr(post ? post : "", "\"thawed\": 2"));
    close(qga);
    assert_writable(f);
    /* Held while frozen: written after the post's thaw. */
    g_assert_true(hv_vss_agent_wait_log(f->agent, "is already active", 2000));
}

int main(int argc, char **argv)
{
    const char *fstypes[] = { "ext4", "xfs", NULL };
    g_autofree char *missing = loopfs_missing_requirement(fstypes);

    g_test_init(&argc, &argv, NULL);
    /* A failed check must still reach the teardown that thaws and unmounts. */
    g_test_set_nonfatal_assertions();
    quiesced_binary = g_getenv("QUIESCED");
    fifreeze_seam = g_getenv("QUIESCE_SEAM_FIFREEZE_FAIL");
    if (missing) {
        return quiesce_test_exit_missing(missing);
    }
    g_assert_nonnull(quiesced_binary);
    g_assert_nonnull(fifreeze_seam);
#define ADD(path, fn)                                                                             \
    QUIESCE_TEST_ADD(path, Fixture, (gconstpointer)(fn), fixture_set_up, fixture_run, fixture_tear_down)
    ADD("/hv-vss/freeze-thaw", test_freeze_thaw);
    ADD("/hv-vss/writers", test_writers);
    ADD("/hv-vss/ineligible-nothing-frozen", test_ineligible_nothing_frozen);
    ADD("/hv-vss/freeze-failure-rolls-back", test_freeze_failure_rolls_back);
    ADD("/hv-vss/rejected-freeze-reply-thaws", test_rejected_freeze_reply_thaws);
    ADD("/hv-vss/hibernation-fake-thaw", test_hibernation_fake_thaw);
    ADD("/hv-vss/device-lost-while-frozen", test_device_lost_while_frozen);
    ADD("/hv-vss/watchdog-without-thaw", test_watchdog_without_thaw);
    ADD("/hv-vss/next-backup-after-abandoned", test_next_backup_after_abandoned);
    ADD("/hv-vss/restart-while-frozen", test_restart_while_frozen);
    ADD("/hv-vss/qga-during-freeze", test_qga_during_freeze);
    ADD("/hv-vss/freeze-during-qga-prepare", test_freeze_during_qga_prepare);
    return quiesce_test_run();
}
