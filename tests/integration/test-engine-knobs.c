/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-engine-knobs.c — the real quiesced, confined to its loop images
 * (engine-fixture.h), and the kernel knobs it sets for a freeze
 * (fsfreeze/kernel-knob.h): the RCU knob around its FIFREEZE calls, the
 * writeback workqueue's nice around its pre-sync and FIFREEZE calls, and
 * its own flushing threads' nice. The knobs are files below a test system
 * root ($QUIESCE_TEST_SYSTEM_ROOT): a confined agent never touches the
 * machine's. The LD_PRELOAD seam's witness writes down, at each syncfs()
 * and FIFREEZE, what both knobs said and the calling thread's nice.
 * Checked (with a meminfo below the test system root saying how much is
 * dirty): during the pre-sync the writeback nice is -20 and RCU not yet
 * expedited, during every FIFREEZE both are set, and the calls run at nice
 * -20; after, both knobs are back and their records gone; a knob already
 * set is left as it was; with expedite-rcu=false or flush-priority=false
 * the calls see the knob (and the nice) untouched (the witness's negative
 * controls); with little dirty the writeback knob is left alone, without
 * a meminfo to read it is set; a FIFREEZE that fails leaves both put back; a record left by a dead
 * agent of this boot is put back at start, one of another boot is not.
 * The agent's main thread (a writer script reads its nice and its own):
 * at -20 during a freeze and a thaw, the writer it starts at 0, the
 * thread back at 0 after with no SCHED_RESET_ON_FORK left; untouched with
 * flush-priority=false.
 */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/resource.h>

#include "fsfreeze/freeze-parallel.h"
#include "fsfreeze/kernel-knob.h"
#include "tests/integration/engine-fixture.h"
#include "tests/support/test-run.h"

typedef struct {
    char *root;      /* the test system root */
    char *rcu;       /* root + RCU_EXPEDITE_KNOB */
    char *writeback; /* root + WRITEBACK_NICE_KNOB */
    char *witness;   /* the seam's log */
    char *state;     /* the agent's state dir */
    char *rcu_record;
    char *writeback_record;
    char *stderr_path;
} Knobs;

/* A knob file below the test system root, holding @value. */
static char *knob_file(const char *root, const char *path, const char *value)
{
    char *knob = g_build_filename(root, path, NULL);
    g_autofree char *dir = g_path_get_dirname(knob);

    g_assert_cmpint(g_mkdir_with_parents(dir, 0700), ==, 0);
    g_assert_true(g_file_set_contents(knob, value, -1, NULL));
    return knob;
}

#define MUCH_DIRTY "MemTotal: 1000000 kB\nDirty: 60000 kB\nWriteback: 5536 kB\n"

/* The knobs, and a meminfo holding @meminfo (NULL: none). */
static void knobs_init_full(Knobs *k, Fixture *f, const char *rcu_value,
                            const char *writeback_value, const char *meminfo)
{
    k->root = g_build_filename(f->dir, "sysroot", NULL);
    if (meminfo) {
        g_free(knob_file(k->root, KERNEL_MEMINFO, meminfo));
    }
    k->rcu = knob_file(k->root, RCU_EXPEDITE_KNOB, rcu_value);
    k->writeback = knob_file(k->root, WRITEBACK_NICE_KNOB, writeback_value);
    k->witness = g_build_filename(f->dir, "witness", NULL);
    k->state = g_build_filename(f->dir, "state", NULL);
    k->rcu_record = g_build_filename(k->state, RCU_EXPEDITE_RECORD, NULL);
    k->writeback_record = g_build_filename(k->state, WRITEBACK_NICE_RECORD, NULL);
    k->stderr_path = g_build_filename(f->dir, "agent.err", NULL);
}

static void knobs_init(Knobs *k, Fixture *f, const char *rcu_value, const char *writeback_value)
{
    knobs_init_full(k, f, rcu_value, writeback_value, MUCH_DIRTY);
}

static void knobs_clear(Knobs *k)
{
    g_free(k->root);
    g_free(k->rcu);
    g_free(k->writeback);
    g_free(k->witness);
    g_free(k->state);
    g_free(k->rcu_record);
    g_free(k->writeback_record);
    g_free(k->stderr_path);
}

/* The agent, with @fail_freeze (NULL: none) a mountpoint whose FIFREEZE
 * the seam fails with EIO. */
static AgentProcess *knobs_start_full(Fixture *f, const Knobs *k, const char *config,
                                      const char *fail_freeze)
{
    g_autofree char *preload = g_strdup_printf("LD_PRELOAD=%s", engine_fixture_seam);
    g_autofree char *root = g_strdup_printf("QUIESCE_TEST_SYSTEM_ROOT=%s", k->root);
    g_autofree char *from =
        g_strdup_printf("QUIESCE_SEAM_WITNESS_FROM=%s:%s", k->rcu, k->writeback);
    g_autofree char *to = g_strdup_printf("QUIESCE_SEAM_WITNESS_TO=%s", k->witness);
    g_autofree char *fail =
        g_strdup_printf("QUIESCE_SEAM_FAIL_FREEZE_PATH=%s", fail_freeze ? fail_freeze : "");
    const char *envp[] = {preload, root, from, to, "QUIESCE_SEAM_WITNESS_SYNCFS=1",
                          "QUIESCE_SEAM_WITNESS_NICE=1",
                          /* the seam is not instrumented; ASan builds must accept it */
                          "ASAN_OPTIONS=verify_asan_link_order=0",
                          /* without a failure to inject, the list ends here */
                          fail_freeze ? fail : NULL, "QUIESCE_SEAM_FAIL_FREEZE_ERRNO=EIO", NULL};
    AgentProcessOptions options = {.confine = f->dir,
                                   .state_dir = k->state,
                                   .config = config,
                                   .envp = envp,
                                   .stderr_path = k->stderr_path};
    g_autoptr(GError) error = NULL;
    AgentProcess *agent =
        agent_process_start_full("quiesced", engine_fixture_quiesced, &options, &error);

    g_assert_no_error(error);
    return agent;
}

static AgentProcess *knobs_start(Fixture *f, const Knobs *k, const char *config)
{
    return knobs_start_full(f, k, config, NULL);
}

static char *read_file(const char *path)
{
    char *text = NULL;

    if (!g_file_get_contents(path, &text, NULL, NULL)) {
        return g_strdup("(missing)");
    }
    return text;
}

/* The @n-th space-separated field of a /proc/PID/stat line after its
 * "pid (comm) " (n = 1: the state), in place. */
static const char *field_after_comm(char *stat, int n)
{
    char *p = strrchr(stat, ')');

    g_assert_nonnull(p);
    p += 2;
    for (int i = 1; i < n; i++) {
        p = strchr(p, ' ');
        g_assert_nonnull(p);
        p++;
    }
    return p;
}

/* After the agent's start or its freeze and thaw: the knobs hold
 * @rcu_want and @writeback_want, no record is left, and the agent's log
 * has each of @log_has (NULL-terminated) and none of @log_lacks. */
static void assert_after(const Knobs *k, const char *rcu_want, const char *writeback_want,
                         const char *const *log_has, const char *const *log_lacks)
{
    g_autofree char *rcu = read_file(k->rcu);
    g_autofree char *writeback = read_file(k->writeback);
    g_autofree char *log = read_file(k->stderr_path);

    g_assert_cmpstr(rcu, ==, rcu_want);
    g_assert_cmpstr(writeback, ==, writeback_want);
    g_assert_false(g_file_test(k->rcu_record, G_FILE_TEST_EXISTS));
    g_assert_false(g_file_test(k->writeback_record, G_FILE_TEST_EXISTS));
    for (; log_has && *log_has; log_has++) {
        if (!strstr(log, *log_has)) {
            g_error("the agent's log lacks \"%s\":\n%s", *log_has, log);
        }
    }
    for (; log_lacks && *log_lacks; log_lacks++) {
        if (strstr(log, *log_lacks)) {
            g_error("the agent's log has \"%s\":\n%s", *log_lacks, log);
        }
    }
}

/* This process's nice, which the agent it starts inherits. */
static int own_nice(void)
{
    errno = 0;
    int nice = getpriority(PRIO_PROCESS, 0);
    g_assert_cmpint(errno, ==, 0);
    return nice;
}

/* What the witness should read: three syncfs() lines (the pre-sync), then
 * three FIFREEZE lines, with the knobs and the nice given. */
static char *expected_witness(const char *sync_rcu, const char *sync_writeback, int sync_nice,
                              const char *freeze_rcu, const char *freeze_writeback, int freeze_nice)
{
    GString *text = g_string_new(NULL);

    for (int i = 0; i < 3; i++) {
        g_string_append_printf(text, "syncfs %s %s nice=%d\n", sync_rcu, sync_writeback, sync_nice);
    }
    for (int i = 0; i < 3; i++) {
        g_string_append_printf(text, "FIFREEZE %s %s nice=%d\n", freeze_rcu, freeze_writeback,
                               freeze_nice);
    }
    return g_string_free(text, FALSE);
}

/* A freeze of the three superblocks and its thaw; returns the witness. */
static char *freeze_thaw(Fixture *f, const Knobs *k)
{
    g_autofree char *freeze = ask(f->agent, "{\"execute\":\"guest-fsfreeze-freeze\"}");
    g_autofree char *thaw = NULL;

    g_assert_cmpstr(freeze, ==, "{\"return\": 3}\n");
    thaw = ask(f->agent, "{\"execute\":\"guest-fsfreeze-thaw\"}");
    g_assert_cmpstr(thaw, ==, "{\"return\": 3}\n");
    assert_all_writable(f);
    return read_file(k->witness);
}

/* What the calls of one kind (syncfs, FIFREEZE) saw: both knobs, and
 * whether their thread ran at FS_PARALLEL_FLUSH_NICE. */
typedef struct {
    const char *rcu;
    const char *writeback;
    gboolean raised;
} Seen;

typedef struct {
    const char *name;
    const char *rcu_before, *writeback_before;
    const char *config;
    const char *meminfo; /* NULL: MUCH_DIRTY; "": none */
    Seen sync, freeze;
    const char *rcu_after, *writeback_after;
    const char *log_has[3];
    const char *log_lacks[3];
} KnobCase;

#define OPTION_OFF(key) "[freeze]\nrunning-state-command=\n" key "=false\n"

static const KnobCase freeze_cases[] = {
    {.name = "set-around-flush-and-fifreeze",
     .rcu_before = "0\n",
     .writeback_before = "0\n",
     .sync = {"0", "-20", TRUE},
     .freeze = {"1", "-20", TRUE},
     .rcu_after = "0",
     .writeback_after = "0",
     .log_has = {"(64.0 MiB dirty)", ", writeback prioritized, RCU expedited"}},
    /* another nice than 0 is put back as it was */
    {.name = "writeback-nice-put-back",
     .rcu_before = "0\n",
     .writeback_before = "5\n",
     .sync = {"0", "-20", TRUE},
     .freeze = {"1", "-20", TRUE},
     .rcu_after = "0",
     .writeback_after = "5",
     .log_has = {", writeback prioritized"}},
    /* never rewritten */
    {.name = "already-set-left-alone",
     .rcu_before = "1\n",
     .writeback_before = "-20\n",
     .sync = {"1", "-20", TRUE},
     .freeze = {"1", "-20", TRUE},
     .rcu_after = "1\n",
     .writeback_after = "-20\n",
     .log_lacks = {"RCU expedited", "writeback prioritized"}},
    /* The witness's negative controls: with an option off, the calls see
     * its knob (and their thread's nice) untouched, and the log does not
     * claim otherwise. */
    {.name = "rcu-off",
     .rcu_before = "0\n",
     .writeback_before = "0\n",
     .config = OPTION_OFF("expedite-rcu"),
     .sync = {"0", "-20", TRUE},
     .freeze = {"0", "-20", TRUE},
     .rcu_after = "0\n",
     .writeback_after = "0",
     .log_has = {", writeback prioritized"},
     .log_lacks = {"RCU expedited"}},
    /* Little dirty: the writeback workqueue is left alone, the agent's
     * threads still run at -20. */
    {.name = "little-dirty",
     .rcu_before = "0\n",
     .writeback_before = "0\n",
     .meminfo = "Dirty: 100 kB\nWriteback: 0 kB\n",
     .sync = {"0", "0", TRUE},
     .freeze = {"1", "0", TRUE},
     .rcu_after = "0",
     .writeback_after = "0\n",
     .log_has = {"(0.1 MiB dirty)", ", RCU expedited"},
     .log_lacks = {"writeback prioritized"}},
    /* Nothing says how much is dirty: set, as when much is. */
    {.name = "no-meminfo",
     .rcu_before = "0\n",
     .writeback_before = "0\n",
     .meminfo = "",
     .sync = {"0", "-20", TRUE},
     .freeze = {"1", "-20", TRUE},
     .rcu_after = "0",
     .writeback_after = "0",
     .log_has = {", writeback prioritized, RCU expedited"},
     .log_lacks = {"MiB dirty"}},
    {.name = "flush-priority-off",
     .rcu_before = "0\n",
     .writeback_before = "0\n",
     .config = OPTION_OFF("flush-priority"),
     .sync = {"0", "0", FALSE},
     .freeze = {"1", "0", FALSE},
     .rcu_after = "0",
     .writeback_after = "0\n",
     .log_has = {", RCU expedited"},
     .log_lacks = {"writeback prioritized"}},
};

/* One agent, one freeze and thaw: what the witness saw, then
 * assert_after()'s checks. The agent runs as root, so it may raise its
 * threads' priority. */
static void test_freeze_case(Fixture *f, gconstpointer data)
{
    const KnobCase *c = data;
    Knobs k;
    int base = own_nice();
    int raised = FS_PARALLEL_FLUSH_NICE;
    g_autofree char *seen = NULL;
    g_autofree char *want =
        expected_witness(c->sync.rcu, c->sync.writeback, c->sync.raised ? raised : base,
                         c->freeze.rcu, c->freeze.writeback, c->freeze.raised ? raised : base);

    knobs_init_full(&k, f, c->rcu_before, c->writeback_before,
                    !c->meminfo   ? MUCH_DIRTY
                    : *c->meminfo ? c->meminfo
                                  : NULL);
    f->agent = knobs_start(f, &k, c->config);
    seen = freeze_thaw(f, &k);
    g_assert_cmpstr(seen, ==, want);
    assert_after(&k, c->rcu_after, c->writeback_after, c->log_has, c->log_lacks);
    knobs_clear(&k);
}

/* A FIFREEZE that fails (EIO on the xfs image, from the seam): the
 * freeze is refused and rolled back, and both knobs are put back and their
 * records removed all the same. */
static void test_freeze_fails(Fixture *f, gconstpointer data)
{
    Knobs k;
    g_autofree char *freeze = NULL;
    g_autofree char *witness = NULL;

    knobs_init(&k, f, "0\n", "0\n");
    f->agent = knobs_start_full(f, &k, NULL, f->xfs->mountpoint);
    freeze = ask(f->agent, "{\"execute\":\"guest-fsfreeze-freeze\"}");
    g_assert_nonnull(strstr(freeze, "\"error\""));
    g_assert_nonnull(strstr(freeze, "Input/output error"));
    assert_all_writable(f);
    witness = read_file(k.witness);
    /* the FIFREEZE calls, the failed one among them, ran with both set */
    g_assert_nonnull(strstr(witness, "FIFREEZE 1 -20 nice="));
    assert_after(&k, "0", "0", NULL, NULL);
    knobs_clear(&k);
}

/* The agent's main thread during an urgent operation: ENGINE_URGENT_NICE
 * (agent/engine/engine-private.h, not for the tests to include). */
#define URGENT_NICE (-20)

/* A line of the writer's log: the phase, the writer's own nice and the
 * nice of its parent, the agent's main thread that started it (field 19
 * of /proc/PID/stat, after the command name that may hold spaces). */
#define NICE_WRITER_BODY                                                                           \
    "nice_of() { sed 's/.*) //' \"$1\" | cut -d' ' -f17; }\n"                                      \
    "echo \"$1 writer=$(nice_of /proc/$$/stat) agent=$(nice_of /proc/$PPID/stat)\" "               \
    ">>\"$(dirname \"$0\")/../nices\"\n"

/* The main thread's nice over a freeze and a thaw (engine.c's urgent
 * operations): raised while each runs, as a writer run then sees it, and
 * back after; the writer itself, started meanwhile, at the agent's old
 * nice (SCHED_RESET_ON_FORK). With flush-priority=false (@data) nothing
 * is raised. */
static void test_main_thread(Fixture *f, gconstpointer data)
{
    gboolean off = GPOINTER_TO_INT(data);
    Knobs k;
    int base = own_nice();
    int during = off ? base : URGENT_NICE;
    g_autofree char *writers = writers_config(f, NICE_WRITER_BODY, 10);
    g_autofree char *config =
        g_strconcat(writers, off ? "[freeze]\nflush-priority=false\n" : "", NULL);
    g_autofree char *nices_path = g_build_filename(f->dir, "nices", NULL);
    g_autofree char *want = g_strdup_printf("freeze writer=%d agent=%d\nthaw writer=%d agent=%d\n",
                                            base, during, base, during);
    g_autofree char *nices = NULL;
    g_autofree char *stat_path = NULL;
    g_autofree char *stat = NULL;
    GPid pid;

    if (base != 0) {
        /* the agent inherits it, and a span is raised only from nice 0 */
        quiesce_test_skip("the test runs at a nice other than 0");
        return;
    }
    knobs_init(&k, f, "0\n", "0\n");
    f->agent = knobs_start(f, &k, config);
    g_free(freeze_thaw(f, &k));
    nices = read_file(nices_path);
    g_assert_cmpstr(nices, ==, want);
    /* after: the old nice, and no SCHED_RESET_ON_FORK left on the thread */
    pid = agent_process_pid(f->agent);
    stat_path = g_strdup_printf("/proc/%d/stat", (int)pid);
    g_assert_true(g_file_get_contents(stat_path, &stat, NULL, NULL));
    g_assert_cmpint(atoi(field_after_comm(stat, 17)), ==, base);
    g_assert_cmpint(sched_getscheduler(pid), ==, SCHED_OTHER);
    /* flush-priority=false leaves the writeback knob as written */
    assert_after(&k, "0", off ? "0\n" : "0",
                 (const char *const[]){off ? "froze" : "(agent thread raised)", NULL},
                 (const char *const[]){off ? "(agent thread raised)" : NULL, NULL});
    knobs_clear(&k);
}

/* What a dead agent left: the knobs as it set them, and their records. */
static void leave_record(const char *state, const char *record, const char *old, const char *boot)
{
    g_autofree char *text = g_strdup_printf("old=%s\nboot=%s\n", old, boot);

    g_assert_cmpint(g_mkdir_with_parents(state, 0700), ==, 0);
    g_assert_true(g_file_set_contents(record, text, -1, NULL));
}

static char *this_boot(void)
{
    char *boot = NULL;

    g_assert_true(g_file_get_contents(KERNEL_KNOB_BOOT_ID, &boot, NULL, NULL));
    return g_strstrip(boot);
}

static void test_restored_after_crash(Fixture *f, gconstpointer data)
{
    Knobs k;
    g_autofree char *boot = this_boot();

    knobs_init(&k, f, "1\n", "-20\n");
    leave_record(k.state, k.rcu_record, "0", boot);
    leave_record(k.state, k.writeback_record, "5", boot);
    f->agent = knobs_start(f, &k, NULL);

    g_autofree char *rcu_line = g_strdup_printf("%s put back to 0", k.rcu);
    g_autofree char *writeback_line = g_strdup_printf("%s put back to 5", k.writeback);
    const char *has[] = {rcu_line, writeback_line, NULL};
    assert_after(&k, "0", "5", has, NULL);
    knobs_clear(&k);
}

/* Records of another boot: the knobs' values are not this agent's doing. */
static void test_other_boot_left_alone(Fixture *f, gconstpointer data)
{
    Knobs k;
    const char *other = "00000000-0000-0000-0000-000000000000";
    const char *lacks[] = {"put back", NULL};

    knobs_init(&k, f, "1\n", "-20\n");
    leave_record(k.state, k.rcu_record, "0", other);
    leave_record(k.state, k.writeback_record, "0", other);
    f->agent = knobs_start(f, &k, NULL);
    assert_after(&k, "1\n", "-20\n", NULL, lacks);
    knobs_clear(&k);
}

int main(int argc, char **argv)
{
    int missing = engine_fixture_init(&argc, &argv);

    if (missing) {
        return missing;
    }
    for (guint i = 0; i < G_N_ELEMENTS(freeze_cases); i++) {
        g_autofree char *path = g_strdup_printf("/engine/knobs/%s", freeze_cases[i].name);
        QUIESCE_TEST_ADD(path, Fixture, &freeze_cases[i], fixture_set_up, test_freeze_case,
                         fixture_tear_down);
    }
    ENGINE_FIXTURE_ADD("/engine/knobs/freeze-fails", test_freeze_fails);
    QUIESCE_TEST_ADD("/engine/knobs/main-thread", Fixture, GINT_TO_POINTER(FALSE), fixture_set_up,
                     test_main_thread, fixture_tear_down);
    QUIESCE_TEST_ADD("/engine/knobs/main-thread-off", Fixture, GINT_TO_POINTER(TRUE),
                     fixture_set_up, test_main_thread, fixture_tear_down);
    ENGINE_FIXTURE_ADD("/engine/knobs/restored-after-crash", test_restored_after_crash);
    ENGINE_FIXTURE_ADD("/engine/knobs/other-boot-left-alone", test_other_boot_left_alone);
    return quiesce_test_run();
}
