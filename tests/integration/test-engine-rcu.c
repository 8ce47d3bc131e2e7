/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-engine-rcu.c — the real quiesced, confined to its loop images
 * (engine-fixture.h), and the RCU knob it sets around its FIFREEZE calls
 * (fsfreeze/rcu-expedite.h). The knob is a file below a test system root
 * ($QUIESCE_TEST_SYSTEM_ROOT): a confined agent never touches the
 * machine's. The LD_PRELOAD seam's witness writes down what the knob said
 * at each FIFREEZE. Checked: 1 during every FIFREEZE and 0 again after,
 * with the record gone; a knob already set is left as it was; with
 * expedite-rcu=false the FIFREEZE calls see 0 (the witness's negative
 * control); a record left by a dead agent of this boot is put back at
 * start, one of another boot is not.
 */
#include <glib/gstdio.h>
#include <string.h>

#include "fsfreeze/rcu-expedite.h"
#include "tests/integration/engine-fixture.h"
#include "tests/support/test-run.h"

typedef struct {
    char *root;    /* the test system root */
    char *knob;    /* root + RCU_EXPEDITE_KNOB */
    char *witness; /* the seam's log */
    char *state;   /* the agent's state dir */
    char *record;  /* state + RCU_EXPEDITE_RECORD */
    char *stderr_path;
} Rcu;

static void rcu_init(Rcu *rcu, Fixture *f, const char *knob_value)
{
    g_autofree char *kernel = NULL;

    rcu->root = g_build_filename(f->dir, "sysroot", NULL);
    rcu->knob = g_build_filename(rcu->root, RCU_EXPEDITE_KNOB, NULL);
    kernel = g_path_get_dirname(rcu->knob);
    g_assert_cmpint(g_mkdir_with_parents(kernel, 0700), ==, 0);
    g_assert_true(g_file_set_contents(rcu->knob, knob_value, -1, NULL));
    rcu->witness = g_build_filename(f->dir, "witness", NULL);
    rcu->state = g_build_filename(f->dir, "state", NULL);
    rcu->record = g_build_filename(rcu->state, RCU_EXPEDITE_RECORD, NULL);
    rcu->stderr_path = g_build_filename(f->dir, "agent.err", NULL);
}

static void rcu_clear(Rcu *rcu)
{
    g_free(rcu->root);
    g_free(rcu->knob);
    g_free(rcu->witness);
    g_free(rcu->state);
    g_free(rcu->record);
    g_free(rcu->stderr_path);
}

static AgentProcess *rcu_start(Fixture *f, const Rcu *rcu, const char *config)
{
    g_autofree char *preload = g_strdup_printf("LD_PRELOAD=%s", engine_fixture_seam);
    g_autofree char *root = g_strdup_printf("QUIESCE_TEST_SYSTEM_ROOT=%s", rcu->root);
    g_autofree char *from = g_strdup_printf("QUIESCE_SEAM_WITNESS_FROM=%s", rcu->knob);
    g_autofree char *to = g_strdup_printf("QUIESCE_SEAM_WITNESS_TO=%s", rcu->witness);
    const char *envp[] = {preload, root, from, to,
                          /* the seam is not instrumented; ASan builds must accept it */
                          "ASAN_OPTIONS=verify_asan_link_order=0", NULL};
    AgentProcessOptions options = {.confine = f->dir,
                                   .state_dir = rcu->state,
                                   .config = config,
                                   .envp = envp,
                                   .stderr_path = rcu->stderr_path};
    g_autoptr(GError) error = NULL;
    AgentProcess *agent =
        agent_process_start_full("quiesced", engine_fixture_quiesced, &options, &error);

    g_assert_no_error(error);
    return agent;
}

static char *read_file(const char *path)
{
    char *text = NULL;

    if (!g_file_get_contents(path, &text, NULL, NULL)) {
        return g_strdup("(missing)");
    }
    return text;
}

/* After the agent's start or its freeze and thaw: the knob holds
 * @knob_want, no record is left, and the agent's log has @log_has (NULL:
 * no check) and not @log_lacks (NULL: no check). */
static void assert_after(const Rcu *rcu, const char *knob_want, const char *log_has,
                         const char *log_lacks)
{
    g_autofree char *knob = read_file(rcu->knob);
    g_autofree char *log = read_file(rcu->stderr_path);

    g_assert_cmpstr(knob, ==, knob_want);
    g_assert_false(g_file_test(rcu->record, G_FILE_TEST_EXISTS));
    g_assert_true(!log_has || strstr(log, log_has));
    g_assert_true(!log_lacks || !strstr(log, log_lacks));
}

/* A freeze of the three superblocks and its thaw; returns the witness. */
static char *freeze_thaw(Fixture *f, const Rcu *rcu)
{
    g_autofree char *freeze = ask(f->agent, "{\"execute\":\"guest-fsfreeze-freeze\"}");
    g_autofree char *thaw = NULL;

    g_assert_cmpstr(freeze, ==, "{\"return\": 3}\n");
    thaw = ask(f->agent, "{\"execute\":\"guest-fsfreeze-thaw\"}");
    g_assert_cmpstr(thaw, ==, "{\"return\": 3}\n");
    assert_all_writable(f);
    return read_file(rcu->witness);
}

/* One agent with the knob at @knob_before and @config: what the seam's
 * witness saw at the three FIFREEZEs, then assert_after()'s checks. */
static void freeze_case(Fixture *f, const char *knob_before, const char *config,
                        const char *seen_want, const char *knob_after, const char *log_has,
                        const char *log_lacks)
{
    Rcu rcu;
    g_autofree char *seen = NULL;

    rcu_init(&rcu, f, knob_before);
    f->agent = rcu_start(f, &rcu, config);
    seen = freeze_thaw(f, &rcu);
    g_assert_cmpstr(seen, ==, seen_want);
    assert_after(&rcu, knob_after, log_has, log_lacks);
    rcu_clear(&rcu);
}

static void test_expedited_around_fifreeze(Fixture *f, gconstpointer data)
{
    freeze_case(f, "0\n", NULL, "1\n1\n1\n", "0", ", RCU expedited", NULL);
}

static void test_already_set_left_alone(Fixture *f, gconstpointer data)
{
    /* never rewritten */
    freeze_case(f, "1\n", NULL, "1\n1\n1\n", "1\n", NULL, "RCU expedited");
}

/* The witness's negative control: with the option off, the FIFREEZE calls
 * see the knob at 0, and the log does not claim otherwise. */
static void test_option_off(Fixture *f, gconstpointer data)
{
    freeze_case(f, "0\n", "[freeze]\nrunning-state-command=\nexpedite-rcu=false\n", "0\n0\n0\n",
                "0\n", NULL, "RCU expedited");
}

/* What a dead agent left: the knob at 1 and its record. */
static void leave_record(const Rcu *rcu, const char *boot)
{
    g_autofree char *text = g_strdup_printf("old=0\nboot=%s\n", boot);

    g_assert_cmpint(g_mkdir_with_parents(rcu->state, 0700), ==, 0);
    g_assert_true(g_file_set_contents(rcu->record, text, -1, NULL));
}

static void test_restored_after_crash(Fixture *f, gconstpointer data)
{
    Rcu rcu;
    g_autofree char *boot = NULL;

    rcu_init(&rcu, f, "1\n");
    g_assert_true(g_file_get_contents(RCU_EXPEDITE_BOOT_ID, &boot, NULL, NULL));
    leave_record(&rcu, g_strstrip(boot));
    f->agent = rcu_start(f, &rcu, NULL);
    assert_after(&rcu, "0", "put back to 0", NULL);
    rcu_clear(&rcu);
}

/* A record of another boot: the knob's 1 is not this agent's doing. */
static void test_other_boot_left_alone(Fixture *f, gconstpointer data)
{
    Rcu rcu;

    rcu_init(&rcu, f, "1\n");
    leave_record(&rcu, "00000000-0000-0000-0000-000000000000");
    f->agent = rcu_start(f, &rcu, NULL);
    assert_after(&rcu, "1\n", NULL, "put back");
    rcu_clear(&rcu);
}

int main(int argc, char **argv)
{
    int missing = engine_fixture_init(&argc, &argv);

    if (missing) {
        return missing;
    }
    ENGINE_FIXTURE_ADD("/engine/rcu/expedited-around-fifreeze", test_expedited_around_fifreeze);
    ENGINE_FIXTURE_ADD("/engine/rcu/already-set-left-alone", test_already_set_left_alone);
    ENGINE_FIXTURE_ADD("/engine/rcu/option-off", test_option_off);
    ENGINE_FIXTURE_ADD("/engine/rcu/restored-after-crash", test_restored_after_crash);
    ENGINE_FIXTURE_ADD("/engine/rcu/other-boot-left-alone", test_other_boot_left_alone);
    return quiesce_test_run();
}
