/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-recovery.c — the real quiesced, confined to loop images of its own
 * (engine-fixture.h), SIGKILLed while a prepared session holds ext4, xfs
 * and btrfs frozen; then its state file is damaged in each of the ways
 * below and a successor is started: every filesystem must be writable
 * again, guest-fsfreeze-status must say thawed, the host's late post must
 * be told to discard, and a new session must work. Also a mountpoint
 * covered by another mount at restart (reported frozen, retried, thawed
 * once uncovered), and the wrong answers of issue 15 item 4: thaw of a
 * prepared session, a state file that cannot be removed after a good post,
 * nothing to freeze, a confinement that does not exist.
 */
#include <glib/gstdio.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "tests/integration/engine-fixture.h"

/* One way to damage the state file: a function, or a line edit (the
 * first line starting with prefix in section replaced; "" drops it). */
typedef struct {
    const char *name;
    void (*damage)(const char *path);
    const char *section;
    const char *prefix;
    const char *replacement;
} Damage;

static char *read_state(const char *path)
{
    g_autofree char *text = NULL;

    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    return g_steal_pointer(&text);
}

static void write_state(const char *path, const char *text, gssize len)
{
    g_assert_true(g_file_set_contents(path, text, len, NULL));
}

/* Replaces the first line starting with prefix (in section, if given) by
 * replacement ("" drops it). */
static void edit_line(const char *path, const char *section, const char *prefix,
                      const char *replacement)
{
    g_autofree char *text = read_state(path);
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    g_autoptr(GString) out = g_string_new(NULL);
    gboolean in_section = section == NULL;
    gboolean done = FALSE;

    for (char **line = lines; *line; line++) {
        if ((*line)[0] == '[') {
            in_section = section == NULL || g_str_equal(*line, section);
        }
        if (!done && in_section && g_str_has_prefix(*line, prefix)) {
            done = TRUE;
            if (*replacement) {
                g_string_append_printf(out, "%s\n", replacement);
            }
            continue;
        }
        g_string_append_printf(out, "%s%s", *line, line[1] ? "\n" : "");
    }
    g_assert_true(done);
    write_state(path, out->str, -1);
}

static void damage_empty(const char *path)
{
    write_state(path, "", 0);
}

static void damage_random(const char *path)
{
    g_autoptr(GRand) rand = g_rand_new_with_seed(15);
    guint8 bytes[4096];

    for (gsize i = 0; i < sizeof(bytes); i++) {
        bytes[i] = (guint8)g_rand_int_range(rand, 0, 256);
    }
    write_state(path, (const char *)bytes, sizeof(bytes));
}

static void damage_huge(const char *path)
{
    g_autofree char *text = read_state(path);
    g_autoptr(GString) big = g_string_new(text);

    while (big->len < 1536 * 1024) {
        g_string_append(big, "# padding padding padding padding padding padding padding\n");
    }
    write_state(path, big->str, (gssize)big->len);
}

static void damage_directory(const char *path)
{
    g_autofree char *inside = g_build_filename(path, "x", NULL);

    g_assert_cmpint(g_unlink(path), ==, 0);
    g_assert_cmpint(g_mkdir(path, 0700), ==, 0);
    write_state(inside, "x", 1);
}

static void damage_broken_true(const char *path)
{
    g_autofree char *text = read_state(path);
    g_autofree char *id_line = NULL;
    g_autofree char *replacement = NULL;
    const char *id = strstr(text, "\nid=");

    g_assert_nonnull(id);
    id_line = g_strndup(id + 1, (gsize)(strchr(id + 1, '\n') - (id + 1)));
    replacement = g_strdup_printf("%s\nbroken=true", id_line);
    edit_line(path, "[session]", "id=", replacement);
}

static void damage_missing(const char *path)
{
    g_assert_cmpint(g_unlink(path), ==, 0);
}

static void damage_fifo(const char *path)
{
    g_assert_cmpint(g_unlink(path), ==, 0);
    g_assert_cmpint(mkfifo(path, 0600), ==, 0);
}

/* Starts the agent, prepares a session and SIGKILLs the agent while it
 * holds the filesystems frozen. Returns the host's post request for it. */
static char *prepare_and_kill(Fixture *f, const char *state)
{
    g_autofree char *prepare = NULL;

    f->agent = start_agent(f, state, NULL, NULL);
    prepare = ask(f->agent, "{\"execute\":\"guest-snapshot-prepare\"}");
    g_assert_nonnull(strstr(prepare, "\"method\": \"child-snapshot\""));
    kill(agent_process_pid(f->agent), SIGKILL);
    return post_request_for(prepare);
}

/* Prepares, SIGKILLs the agent while frozen, applies damage, starts a
 * successor and checks that nothing is left frozen and the host is told. */
static void test_damaged(Fixture *f, gconstpointer data)
{
    g_autofree char *post_request = NULL;
    const Damage *damage = data;
    g_autofree char *state = g_build_filename(f->dir, "state", NULL);
    g_autofree char *file = g_build_filename(state, "frozen-state", NULL);
    g_autofree char *post = NULL;
    g_autofree char *status = NULL;
    g_autofree char *again = NULL;
    g_autofree char *again_post = NULL;
    g_autofree char *post_again = NULL;
    g_autoptr(AgentProcess) successor = NULL;
    GPid blocked;

    post_request = prepare_and_kill(f, state);
    blocked = loopfs_start_write(f->xfs);
    g_assert_false(loopfs_wait_write(blocked, 300));
    if (damage->damage) {
        damage->damage(file);
    } else {
        edit_line(file, damage->section, damage->prefix, damage->replacement);
    }
    successor = start_agent(f, state, NULL, NULL);
    g_assert_true(loopfs_wait_write(blocked, 5000));
    assert_all_writable(f);
    status = ask(successor, "{\"execute\":\"guest-fsfreeze-status\"}");
    g_assert_cmpstr(status, ==, "{\"return\": \"thawed\"}\n");
    post = ask(successor, post_request);
    g_test_message("late post: %s", post);
    g_assert_nonnull(strstr(post, "must be discarded"));
    /* A new session works, the state dir being usable again. */
    again = ask(successor, "{\"execute\":\"guest-snapshot-prepare\"}");
    g_assert_nonnull(strstr(again, "\"method\": \"child-snapshot\""));
    again_post = post_request_for(again);
    post_again = ask(successor, again_post);
    g_assert_nonnull(strstr(post_again, "\"thawed\": 3"));
    assert_all_writable(f);
}

static gboolean cover(const LoopFs *fs, gboolean on)
{
    if (on) {
        return loopfs_run((const char *[]){ "mount", "-t", "tmpfs", "-o", "size=1m", "cover",
                                            fs->mountpoint, NULL },
                          NULL);
    }
    return loopfs_run((const char *[]){ "umount", fs->mountpoint, NULL }, NULL);
}

/* A mountpoint covered at restart cannot be reached: the agent says frozen,
 * refuses to pretend, and thaws it by itself once the cover is gone. */
static void test_covered_mountpoint(Fixture *f, gconstpointer data)
{
    g_autofree char *post_request = NULL;
    g_autofree char *state = g_build_filename(f->dir, "state", NULL);
    g_autofree char *status = NULL;
    g_autofree char *thaw = NULL;
    g_autofree char *later = NULL;
    g_autofree char *post = NULL;
    g_autoptr(AgentProcess) successor = NULL;
    gboolean covered;
    GPid blocked;

    post_request = prepare_and_kill(f, state);
    covered = cover(f->xfs, TRUE);
    g_assert_true(covered);
    successor = start_agent(f, state, NULL, NULL);
    g_assert_true(write_completes(f->ext4));
    g_assert_true(write_completes(f->btrfs));
    status = ask(successor, "{\"execute\":\"guest-fsfreeze-status\"}");
    g_assert_cmpstr(status, ==, "{\"return\": \"frozen\"}\n");
    thaw = ask(successor, "{\"execute\":\"guest-fsfreeze-thaw\"}");
    g_test_message("thaw while covered: %s", thaw);
    g_assert_nonnull(strstr(thaw, "cannot thaw yet"));
    g_assert_nonnull(strstr(thaw, f->xfs->mountpoint));
    if (covered) {
        g_assert_true(cover(f->xfs, FALSE));
    }
    /* The timer's retry, without any request. */
    blocked = loopfs_start_write(f->xfs);
    g_assert_true(loopfs_wait_write(blocked, 4000));
    later = ask(successor, "{\"execute\":\"guest-fsfreeze-status\"}");
    g_assert_cmpstr(later, ==, "{\"return\": \"thawed\"}\n");
    post = ask(successor, post_request);
    g_assert_nonnull(strstr(post, "must be discarded"));
    assert_all_writable(f);
}

/* After a restart, guest-fsfreeze-thaw thaws what is frozen in the
 * confinement even with no state at all, as qemu-ga's does. */
static void test_thaw_after_restart_without_state(Fixture *f, gconstpointer data)
{
    g_autofree char *state = g_build_filename(f->dir, "state", NULL);
    g_autofree char *freeze = NULL;
    g_autofree char *thaw = NULL;
    g_autoptr(AgentProcess) successor = NULL;
    g_autoptr(GError) error = NULL;

    f->agent = start_agent(f, state, NULL, NULL);
    freeze = ask(f->agent, "{\"execute\":\"guest-fsfreeze-freeze\"}");
    g_assert_cmpstr(freeze, ==, "{\"return\": 3}\n");
    kill(agent_process_pid(f->agent), SIGKILL);
    g_assert_true(loopfs_run((const char *[]){ "rm", "-rf", state, NULL }, &error));
    successor = start_agent(f, state, NULL, NULL);
    thaw = ask(successor, "{\"execute\":\"guest-fsfreeze-thaw\"}");
    g_assert_cmpstr(thaw, ==, "{\"return\": 3}\n");
    assert_all_writable(f);
}

/* Item 4: guest-fsfreeze-thaw of a prepared session; the host's post must
 * be told to discard, not "no session". */
static void test_thaw_of_prepared_session(Fixture *f, gconstpointer data)
{
    g_autofree char *post_request = NULL;
    g_autofree char *prepare = NULL;
    g_autofree char *thaw = NULL;
    g_autofree char *post = NULL;
    g_autofree char *thaw_again = NULL;

    f->agent = start_agent(f, NULL, NULL, NULL);
    prepare = ask(f->agent, "{\"execute\":\"guest-snapshot-prepare\"}");
    post_request = post_request_for(prepare);
    thaw = ask(f->agent, "{\"execute\":\"guest-fsfreeze-thaw\"}");
    g_assert_cmpstr(thaw, ==, "{\"return\": 3}\n");
    post = ask(f->agent, post_request);
    g_test_message("post after thaw: %s", post);
    g_assert_nonnull(strstr(post, "must be discarded"));
    thaw_again = ask(f->agent, "{\"execute\":\"guest-fsfreeze-thaw\"}");
    g_assert_cmpstr(thaw_again, ==, "{\"return\": 0}\n");
    assert_all_writable(f);
}

/* Item 4: the state file cannot be removed after a good post: the post
 * says so, and a restart does not call that good session invalid. */
static void test_state_file_left_after_post(Fixture *f, gconstpointer data)
{
    g_autofree char *post_request = NULL;
    g_autofree char *state = g_build_filename(f->dir, "state", NULL);
    g_autofree char *file = g_build_filename(state, "frozen-state", NULL);
    g_autofree char *decoy = g_build_filename(f->dir, "decoy", NULL);
    g_autofree char *prepare = NULL;
    g_autofree char *post = NULL;
    g_autofree char *thaw = NULL;
    g_autofree char *status = NULL;
    g_autoptr(AgentProcess) successor = NULL;
    gboolean bound;

    f->agent = start_agent(f, state, NULL, NULL);
    prepare = ask(f->agent, "{\"execute\":\"guest-snapshot-prepare\"}");
    post_request = post_request_for(prepare);
    write_state(decoy, "", 0);
    /* unlink(2) of a mountpoint fails with EBUSY */
    bound = loopfs_run((const char *[]){ "mount", "--bind", decoy, file, NULL }, NULL);
    g_assert_true(bound);
    post = ask(f->agent, post_request);
    g_test_message("post: %s", post);
    g_assert_nonnull(strstr(post, "\"thawed\": 3"));
    g_assert_nonnull(strstr(post, "could not remove its state file"));
    kill(agent_process_pid(f->agent), SIGKILL);
    if (bound) {
        loopfs_run((const char *[]){ "umount", file, NULL }, NULL);
    }
    successor = start_agent(f, state, NULL, NULL);
    thaw = ask(successor, "{\"execute\":\"guest-fsfreeze-thaw\"}");
    g_test_message("thaw after restart: %s", thaw);
    g_assert_cmpstr(thaw, ==, "{\"return\": 0}\n");
    status = ask(successor, "{\"execute\":\"guest-snapshot-status\"}");
    g_assert_null(strstr(status, "\"ended\""));
    assert_all_writable(f);
}

/* check says it before prepare does (issue 12): the host learns there is
 * nothing to make consistent without asking for a freeze. */
static void assert_nothing_to_freeze(AgentProcess *agent)
{
    g_autofree char *check = ask(agent, "{\"execute\":\"guest-snapshot-check\"}");
    g_autofree char *prepare = ask(agent, "{\"execute\":\"guest-snapshot-prepare\"}");
    g_autofree char *status = ask(agent, "{\"execute\":\"guest-snapshot-status\"}");

    g_test_message("check: %s", check);
    g_assert_nonnull(strstr(check, "\"method\": \"saved-state\""));
    g_assert_nonnull(strstr(check, "\"code\": \"nothing-to-freeze\""));
    g_test_message("prepare: %s", prepare);
    g_assert_nonnull(strstr(prepare, "\"method\": \"saved-state\""));
    g_assert_nonnull(strstr(prepare, "\"code\": \"nothing-to-freeze\""));
    g_assert_nonnull(strstr(prepare, "\"frozen\": []"));
    g_assert_nonnull(strstr(status, "\"state\": \"idle\""));
}

/* quiesced --check confined to an empty directory: exit 1, the reason
 * printed. */
static void assert_check_nothing_to_freeze(Fixture *f, const char *empty)
{
    g_autofree char *confine = g_strdup_printf("--confine=%s", empty);
    g_autofree char *state = g_strdup_printf("--state-dir=%s/state-check", f->dir);
    g_autofree char *out = NULL;
    int status = 0;
    const char *argv[] = { engine_fixture_quiesced, confine, state, "--check", "--json", NULL };

    g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL,
                               NULL, &out, NULL, &status, NULL));
    g_test_message("quiesced --check --confine=%s: %s", empty, out);
    g_assert_true(WIFEXITED(status));
    g_assert_cmpint(WEXITSTATUS(status), ==, 1);
    g_assert_nonnull(strstr(out, "\"code\": \"nothing-to-freeze\""));
}

/* Item 4: every mount excluded, or an empty confinement: saved-state. */
static void test_nothing_to_freeze(Fixture *f, gconstpointer data)
{
    g_autofree char *config = g_strdup_printf("[freeze]\nrunning-state-command=\n"
                                              "exclude=%s;%s;%s\n",
                                              f->ext4->mountpoint, f->xfs->mountpoint,
                                              f->btrfs->mountpoint);
    g_autofree char *empty = g_build_filename(f->dir, "empty", NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(AgentProcess) confined = NULL;
    AgentProcessOptions options = { .confine = empty };

    f->agent = start_agent(f, NULL, config, NULL);
    assert_nothing_to_freeze(f->agent);
    g_mkdir(empty, 0700);
    confined = agent_process_start_full("quiesced", engine_fixture_quiesced, &options, &error);
    g_assert_no_error(error);
    if (confined) {
        assert_nothing_to_freeze(confined);
    }
    assert_check_nothing_to_freeze(f, empty);
    assert_all_writable(f);
}

/* Item 4: a confinement that does not exist is refused at start. */
static void test_confine_must_exist(Fixture *f, gconstpointer data)
{
    g_autofree char *missing = g_build_filename(f->dir, "no-such-dir", NULL);
    g_autofree char *confine = g_strdup_printf("--confine=%s", missing);
    g_autofree char *state = g_strdup_printf("--state-dir=%s/state", f->dir);
    g_autofree char *err = NULL;
    int status = 0;
    const char *argv[] = { engine_fixture_quiesced, confine, state, "--check", NULL };

    g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL,
                               NULL, NULL, &err, &status, NULL));
    g_test_message("quiesced --confine=%s: %s", missing, err);
    g_assert_false(g_spawn_check_wait_status(status, NULL));
    g_assert_nonnull(strstr(err, "does not exist"));
}

/* Issue 18: the script writers of a session whose agent was SIGKILLed
 * while frozen are released by the successor (freeze-fail, with the
 * session id and its mountpoints) after it thawed the filesystems; a
 * second restart (the broken record only) and a restart after a good post
 * release nothing: the control that the phases log does not simply grow at
 * every start. */
static void test_writers_released_after_kill(Fixture *f, gconstpointer data)
{
    g_autofree char *state = g_build_filename(f->dir, "state", NULL);
    g_autofree char *phases = g_build_filename(f->dir, "phases", NULL);
    g_autofree char *body = g_strdup_printf(
        "echo \"$1 ${QUIESCE_SESSION_ID:-none} $(printf '%%s' \"$QUIESCE_MOUNTPOINTS\" | "
        "wc -l)\" >>%s; exit 0",
        phases);
    g_autofree char *config = writers_config(f, body, 5);
    g_autofree char *prepare = NULL;
    g_autofree char *session = NULL;
    g_autofree char *post_request = NULL;
    g_autofree char *post = NULL;
    g_autofree char *text = NULL;
    g_autofree char *expected = NULL;
    g_autofree char *after_second = NULL;
    g_autofree char *prepare2 = NULL;
    g_autofree char *post2_request = NULL;
    g_autofree char *post2 = NULL;
    g_autofree char *after_post = NULL;
    g_autoptr(AgentProcess) successor = NULL;
    g_autoptr(AgentProcess) third = NULL;
    g_autoptr(AgentProcess) fourth = NULL;

    f->agent = start_agent(f, state, config, NULL);
    prepare = ask(f->agent, "{\"execute\":\"guest-snapshot-prepare\"}");
    g_assert_nonnull(strstr(prepare, "\"method\": \"child-snapshot\""));
    session = reply_string(prepare, "session");
    post_request = post_request_for(prepare);
    kill(agent_process_pid(f->agent), SIGKILL);
    g_assert_true(g_file_get_contents(phases, &text, NULL, NULL));
    expected = g_strdup_printf("freeze %s 2\n", session); /* 3 superblocks, 2 newlines */
    g_assert_cmpstr(text, ==, expected);
    g_clear_pointer(&text, g_free);
    g_clear_pointer(&expected, g_free);

    successor = start_agent(f, state, config, NULL);
    assert_all_writable(f);
    g_assert_true(g_file_get_contents(phases, &text, NULL, NULL));
    expected = g_strdup_printf("freeze %s 2\nfreeze-fail %s 2\n", session, session);
    g_assert_cmpstr(text, ==, expected);
    post = ask(successor, post_request);
    g_assert_nonnull(strstr(post, "must be discarded"));

    /* Control: a restart with the broken record only, and one after a
     * good post, run no writer. */
    kill(agent_process_pid(successor), SIGKILL);
    third = start_agent(f, state, config, NULL);
    prepare2 = ask(third, "{\"execute\":\"guest-snapshot-prepare\"}");
    g_assert_nonnull(strstr(prepare2, "\"method\": \"child-snapshot\""));
    post2_request = post_request_for(prepare2);
    post2 = ask(third, post2_request);
    g_assert_nonnull(strstr(post2, "\"thawed\": 3"));
    g_assert_true(g_file_get_contents(phases, &after_second, NULL, NULL));
    g_assert_true(g_str_has_prefix(after_second, expected));
    g_assert_cmpuint(strlen(after_second) - strlen(expected), ==,
                     strlen("freeze  2\nthaw  2\n") + 2 * 36);
    kill(agent_process_pid(third), SIGKILL);
    fourth = start_agent(f, state, config, NULL);
    g_assert_true(g_file_get_contents(phases, &after_post, NULL, NULL));
    g_assert_cmpstr(after_post, ==, after_second);
    assert_all_writable(f);
}

int main(int argc, char **argv)
{
    static const Damage variants[] = {
        { "empty", damage_empty, NULL, NULL, NULL },
        { "random-bytes", damage_random, NULL, NULL, NULL },
        { "mounts-abc", NULL, "[session]", "mounts=", "mounts=abc" },
        { "mounts-negative", NULL, "[session]", "mounts=", "mounts=-1" },
        { "mounts-99", NULL, "[session]", "mounts=", "mounts=99" },
        { "mount-without-dev", NULL, "[mount 1]", "dev=", "" },
        { "session-without-id", NULL, "[session]", "id=", "" },
        { "huge", damage_huge, NULL, NULL, NULL },
        { "directory", damage_directory, NULL, NULL, NULL },
        { "broken-true", damage_broken_true, NULL, NULL, NULL },
        { "missing", damage_missing, NULL, NULL, NULL },
        { "one-bad-section", NULL, "[mount 0]", "dev=", "dev=banana" },
        { "fifo", damage_fifo, NULL, NULL, NULL },
    };
    int skip = engine_fixture_init(&argc, &argv);

    if (skip) {
        return skip;
    }
    for (gsize i = 0; i < G_N_ELEMENTS(variants); i++) {
        g_autofree char *path = g_strdup_printf("/recovery/damaged/%s", variants[i].name);
        g_test_add(path, Fixture, &variants[i], fixture_set_up,
                   test_damaged, fixture_tear_down);
    }
    ENGINE_FIXTURE_ADD("/recovery/covered-mountpoint", test_covered_mountpoint);
    ENGINE_FIXTURE_ADD("/recovery/thaw-after-restart-without-state",
                       test_thaw_after_restart_without_state);
    ENGINE_FIXTURE_ADD("/recovery/thaw-of-prepared-session", test_thaw_of_prepared_session);
    ENGINE_FIXTURE_ADD("/recovery/state-file-left-after-post", test_state_file_left_after_post);
    ENGINE_FIXTURE_ADD("/recovery/nothing-to-freeze", test_nothing_to_freeze);
    ENGINE_FIXTURE_ADD("/recovery/confine-must-exist", test_confine_must_exist);
    ENGINE_FIXTURE_ADD("/recovery/writers-released-after-kill", test_writers_released_after_kill);
    return g_test_run();
}
