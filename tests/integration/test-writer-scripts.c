/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-writer-scripts.c — script writers for real: shell scripts written
 * into a temp dir, run through writers.h, checked by what they left behind
 * (the order log they append to, files, processes).
 *
 * Covers: lexical order and leftovers skipped; the environment and the
 * child's setup (session, stdin, signal mask, fds); reverse rollback with
 * freeze-fail and the failure report; qemu-ga hook scripts getting "thaw"
 * for a rollback; a hung script killed at its timeout with its whole
 * process group while the call returns promptly; the phase's total limit;
 * untrusted scripts refused before anything runs; thaw failures collected;
 * a background child holding stdout (qemu's mysql-flush pattern); output
 * capped and held until flushed. Nothing is frozen.
 */
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/quiesce-error.h"
#include "tests/integration/writers-fixture.h"
#include "tests/support/test-run.h"

static const WriterContext no_context = { NULL, NULL };

static void setup_no_socket(Fixture *fixture, gconstpointer data)
{
    fixture_setup(fixture, data);
    g_clear_pointer(&fixture->config.socket_path, g_free);
}

static void test_order_and_leftovers(Fixture *fixture, gconstpointer data)
{
    const char *leftovers[] = {
        "20-x~", "20-x.dpkg-old", "20-x.dpkg-dist", "20-x.rpmsave", "20-x.rpmnew",
        "20-x.swp", ".20-hidden", ".#20-lock", "#20-x#", "20-x.sample", "20-x.bak",
        "20-x.disabled", NULL,
    };
    for (guint i = 0; leftovers[i]; i++) {
        g_free(fixture_write_logger(fixture, fixture->script_dir, leftovers[i], NULL));
    }
    g_free(fixture_write_logger(fixture, fixture->script_dir, "30-c", NULL));
    g_free(fixture_write_logger(fixture, fixture->script_dir, "10-a", NULL));
    g_free(fixture_write_logger(fixture, fixture->script_dir, "2-b", NULL));
    g_free(fixture_write_logger(fixture, fixture->compat_dir, "05-hook", NULL));
    g_free(fixture_write_script(fixture, fixture->script_dir, "15-not-executable",
                                "echo \"15 $1\" >> \"$LOG\"", 0644));
    g_autofree char *subdir = g_build_filename(fixture->script_dir, "25-dir", NULL);
    g_assert_cmpint(g_mkdir(subdir, 0755), ==, 0);
    fixture_start(fixture);

    g_autoptr(GError) error = NULL;
    g_autoptr(WriterFailure) failure = NULL;
    g_assert_true(writers_freeze(fixture->writers, &no_context, &failure, &error));
    g_assert_no_error(error);
    g_assert_true(writers_is_frozen(fixture->writers));
    /* Byte order ("10-a" < "2-b" < "30-c"), native directory before compat. */
    const char *frozen[] = { "10-a freeze", "2-b freeze", "30-c freeze", "05-hook freeze",
                             NULL };
    fixture_assert_log(fixture, frozen);

    g_assert_true(writers_thaw(fixture->writers, &no_context, NULL, &error));
    g_assert_no_error(error);
    g_assert_false(writers_is_frozen(fixture->writers));
    const char *thawed[] = { "10-a freeze", "2-b freeze", "30-c freeze", "05-hook freeze",
                             "05-hook thaw", "30-c thaw", "2-b thaw", "10-a thaw", NULL };
    fixture_assert_log(fixture, thawed);
}

static void test_environment(Fixture *fixture, gconstpointer data)
{
    g_autofree char *out = g_build_filename(fixture->dir, "env.out", NULL);
    g_autofree char *body = g_strdup_printf(
        "fds=$(ls /proc/self/fd | sort -n | tr '\\n' ' ')\n"
        "{\n"
        "  echo \"arg=$1\"\n"
        "  echo \"phase=$QUIESCE_PHASE\"\n"
        "  echo \"session=${QUIESCE_SESSION_ID-unset}\"\n"
        "  printf 'mounts=%%s\\n' \"$QUIESCE_MOUNTPOINTS\" | tr '\\n' '|'; echo\n"
        "  echo \"cwd=$(pwd)\"\n"
        "  echo \"stdin=$(readlink /proc/$$/fd/0)\"\n"
        "  echo \"fds=$fds\"\n"
        "  grep -E '^Sig(Blk|Ign)' /proc/$$/status | tr -s '\\t ' '='\n"
        "  set -- $(cut -d')' -f2 /proc/$$/stat)\n"
        "  echo \"pgrp-is-self=$([ \"$3\" = $$ ] && echo yes)\"\n"
        "  echo \"session-is-self=$([ \"$4\" = $$ ] && echo yes)\"\n"
        "} >> '%s'\n", out);
    g_free(fixture_write_script(fixture, fixture->script_dir, "10-env", body, 0));
    fixture_start(fixture);

    /* Like the daemon: SIGIO blocked, SIGPIPE ignored. Neither may leak. */
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGIO);
    sigprocmask(SIG_BLOCK, &block, NULL);
    signal(SIGPIPE, SIG_IGN);

    const char *mounts[] = { "/srv/data", "/var/lib/with:colon", NULL };
    WriterContext context = { "0f1e2d3c-aaaa-bbbb-cccc-0123456789ab", mounts };
    g_autoptr(GError) error = NULL;
    g_assert_true(writers_freeze(fixture->writers, &context, NULL, &error));
    g_assert_no_error(error);
    g_assert_true(writers_thaw(fixture->writers, &no_context, NULL, &error));
    g_assert_no_error(error);

    g_autofree char *text = NULL;
    g_assert_true(g_file_get_contents(out, &text, NULL, NULL));
    if (g_test_verbose()) {
        g_printerr("%s", text);
    }
    g_assert_nonnull(strstr(text, "arg=freeze\nphase=freeze\n"
                                  "session=0f1e2d3c-aaaa-bbbb-cccc-0123456789ab\n"
                                  "mounts=/srv/data|/var/lib/with:colon|\n"));
    g_assert_nonnull(strstr(text, "arg=thaw\nphase=thaw\nsession=unset\nmounts=|\n"));
    g_assert_nonnull(strstr(text, "cwd=/\nstdin=/dev/null\n"));
    /* 0-2, plus the one ls itself opens to list the directory (3), and none of ours */
    g_assert_nonnull(strstr(text, "fds=0 1 2 3 \n"));
    g_assert_nonnull(strstr(text, "SigBlk:=0000000000000000\n"));
    /* No signal ignored, except glibc's two internal ones (32, 33): its
     * posix_spawn leaves them SIG_IGN in every child (glibc 2.36), and no
     * glibc program can use them anyway (SIGRTMIN is 34). */
    const char *ign = strstr(text, "SigIgn:=");
    g_assert_nonnull(ign);
    guint64 ignored = g_ascii_strtoull(ign + strlen("SigIgn:="), NULL, 16);
    g_assert_cmphex(ignored & ~G_GUINT64_CONSTANT(0x180000000), ==, 0);
    g_assert_nonnull(strstr(text, "pgrp-is-self=yes\nsession-is-self=yes\n"));
    signal(SIGPIPE, SIG_DFL);
    sigprocmask(SIG_UNBLOCK, &block, NULL);
}

static void test_rollback_reverse(Fixture *fixture, gconstpointer data)
{
    g_free(fixture_write_logger(fixture, fixture->script_dir, "10-a", NULL));
    g_free(fixture_write_logger(fixture, fixture->script_dir, "20-b", NULL));
    g_free(fixture_write_logger(fixture, fixture->script_dir, "30-fail",
                                "echo 'checkpoint started'\n"
                                "echo 'cannot lock the database' >&2\n"
                                "[ \"$1\" = freeze ] && exit 3\nexit 0"));
    g_free(fixture_write_logger(fixture, fixture->script_dir, "40-d", NULL));
    fixture_start(fixture);

    g_autoptr(GError) error = NULL;
    g_autoptr(WriterFailure) failure = NULL;
    g_assert_false(writers_freeze(fixture->writers, &no_context, &failure, &error));
    g_assert_error(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED);
    g_assert_false(writers_is_frozen(fixture->writers));
    const char *expected[] = { "10-a freeze", "20-b freeze", "30-fail freeze",
                               "20-b freeze-fail", "10-a freeze-fail", NULL };
    fixture_assert_log(fixture, expected);

    g_assert_nonnull(failure);
    g_assert_cmpint(failure->kind, ==, WRITER_KIND_SCRIPT);
    g_assert_true(g_str_has_suffix(failure->name, "/30-fail"));
    g_assert_cmpint(failure->phase, ==, WRITER_PHASE_FREEZE);
    g_assert_cmpint(failure->outcome, ==, WRITER_OUTCOME_EXITED);
    g_assert_cmpint(failure->exit_status, ==, 3);
    g_assert_nonnull(strstr(failure->output_tail, "checkpoint started\n"
                                                  "cannot lock the database"));
    g_assert_nonnull(strstr(failure->message, "exit status 3: cannot lock the database"));
    g_assert_nonnull(strstr(error->message, "30-fail"));

    /* Nothing frozen: thaw is a no-op that runs nothing. */
    g_assert_true(writers_thaw(fixture->writers, &no_context, NULL, &error));
    fixture_assert_log(fixture, expected);

    g_autofree char *held = fixture_flush_log(fixture);
    g_assert_nonnull(strstr(held, "30-fail freeze: cannot lock the database"));
}

static void test_compat_rollback_is_thaw(Fixture *fixture, gconstpointer data)
{
    g_free(fixture_write_logger(fixture, fixture->script_dir, "10-native",
                                "echo \"10-native phase=$QUIESCE_PHASE\" >> \"$LOG\""));
    g_free(fixture_write_logger(fixture, fixture->compat_dir, "mysql-flush.sh",
                                "echo \"mysql-flush.sh phase=$QUIESCE_PHASE\" >> \"$LOG\""));
    fixture_start(fixture);
    g_autoptr(GError) error = NULL;
    g_assert_true(writers_freeze(fixture->writers, &no_context, NULL, &error));
    /* The filesystem freeze failed: writers are rolled back. */
    writers_freeze_fail(fixture->writers, &no_context);
    g_assert_false(writers_is_frozen(fixture->writers));
    const char *expected[] = {
        "10-native freeze", "10-native phase=freeze",
        "mysql-flush.sh freeze", "mysql-flush.sh phase=freeze",
        "mysql-flush.sh thaw", "mysql-flush.sh phase=freeze-fail",
        "10-native freeze-fail", "10-native phase=freeze-fail", NULL,
    };
    fixture_assert_log(fixture, expected);
}

static void test_hung_writer_killed(Fixture *fixture, gconstpointer data)
{
    g_autofree char *pids = g_build_filename(fixture->dir, "hung", NULL);
    g_autofree char *body = g_strdup_printf(
        "echo $$ > '%s.pid'\n"
        "sleep 300 &\n"
        "echo $! > '%s.grandchild'\n"
        "echo 'waiting for something that never comes'\n"
        "sleep 300\n", pids, pids);
    g_free(fixture_write_logger(fixture, fixture->script_dir, "10-ok", NULL));
    g_free(fixture_write_script(fixture, fixture->script_dir, "20-hung", body, 0));
    fixture->config.writer_timeout_ms = 1000;
    fixture_start(fixture);

    gint64 start = g_get_monotonic_time();
    g_autoptr(GError) error = NULL;
    g_autoptr(WriterFailure) failure = NULL;
    g_assert_false(writers_freeze(fixture->writers, &no_context, &failure, &error));
    gint64 elapsed_ms = (g_get_monotonic_time() - start) / 1000;
    g_test_message("freeze returned after %" G_GINT64_FORMAT " ms", elapsed_ms);
    g_assert_cmpint(elapsed_ms, >=, 950);
    g_assert_cmpint(elapsed_ms, <, 2500);
    g_assert_error(error, QUIESCE_ERROR, QUIESCE_ERROR_TIMED_OUT);
    g_assert_cmpint(failure->outcome, ==, WRITER_OUTCOME_TIMED_OUT);
    g_assert_true(g_str_has_suffix(failure->name, "/20-hung"));
    g_assert_nonnull(strstr(failure->output_tail, "never comes"));
    g_assert_nonnull(strstr(failure->message, "timed out"));

    g_autofree char *pid_path = g_strconcat(pids, ".pid", NULL);
    g_autofree char *grandchild_path = g_strconcat(pids, ".grandchild", NULL);
    g_assert_true(pid_wait_gone(read_pid_file(pid_path), 2000));
    g_assert_true(pid_wait_gone(read_pid_file(grandchild_path), 2000));
    const char *expected[] = { "10-ok freeze", "10-ok freeze-fail", NULL };
    fixture_assert_log(fixture, expected);
}

static void test_total_timeout(Fixture *fixture, gconstpointer data)
{
    g_free(fixture_write_logger(fixture, fixture->script_dir, "10-slow",
                                "[ \"$1\" = freeze ] && sleep 0.8; exit 0"));
    g_free(fixture_write_logger(fixture, fixture->script_dir, "20-slow",
                                "[ \"$1\" = freeze ] && sleep 0.8; exit 0"));
    g_free(fixture_write_logger(fixture, fixture->script_dir, "30-never", NULL));
    fixture->config.writer_timeout_ms = 5000;
    fixture->config.total_timeout_ms = 1200;
    fixture_start(fixture);

    gint64 start = g_get_monotonic_time();
    g_autoptr(GError) error = NULL;
    g_autoptr(WriterFailure) failure = NULL;
    g_assert_false(writers_freeze(fixture->writers, &no_context, &failure, &error));
    gint64 elapsed_ms = (g_get_monotonic_time() - start) / 1000;
    g_assert_cmpint(elapsed_ms, <, 2500);
    g_assert_error(error, QUIESCE_ERROR, QUIESCE_ERROR_TIMED_OUT);
    g_assert_true(g_str_has_suffix(failure->name, "/20-slow"));
    const char *expected[] = { "10-slow freeze", "20-slow freeze", "10-slow freeze-fail",
                               NULL };
    fixture_assert_log(fixture, expected);
}

static void test_untrusted_group_writable(Fixture *fixture, gconstpointer data)
{
    g_free(fixture_write_logger(fixture, fixture->script_dir, "10-good", NULL));
    g_free(fixture_write_logger(fixture, fixture->script_dir, "20-bad", NULL));
    g_autofree char *bad = g_build_filename(fixture->script_dir, "20-bad", NULL);
    g_assert_cmpint(chmod(bad, 0775), ==, 0);
    fixture_start(fixture);

    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) problems = NULL;
    g_assert_false(writers_check(fixture->writers, &problems, &error));
    g_assert_error(error, QUIESCE_ERROR, QUIESCE_ERROR_INVALID_ARGUMENT);
    g_assert_cmpuint(problems->len, ==, 1);
    const WriterProblem *problem = problems->pdata[0];
    g_assert_cmpstr(problem->path, ==, bad);
    g_assert_nonnull(strstr(problem->reason, "writable by group (mode 0775)"));
    g_clear_error(&error);

    g_autoptr(WriterFailure) failure = NULL;
    g_assert_false(writers_freeze(fixture->writers, &no_context, &failure, &error));
    g_assert_error(error, QUIESCE_ERROR, QUIESCE_ERROR_INVALID_ARGUMENT);
    g_assert_cmpint(failure->outcome, ==, WRITER_OUTCOME_REFUSED);
    g_assert_cmpstr(failure->name, ==, bad);
    g_assert_false(g_file_test(fixture->log_path, G_FILE_TEST_EXISTS)); /* nothing ran */
    g_assert_false(writers_is_frozen(fixture->writers));
    g_clear_error(&error);

    /* A writable directory taints everything in it, reported once. */
    g_assert_cmpint(chmod(bad, 0755), ==, 0);
    g_assert_cmpint(chmod(fixture->script_dir, 0777), ==, 0);
    g_clear_pointer(&problems, g_ptr_array_unref);
    g_assert_false(writers_check(fixture->writers, &problems, &error));
    g_assert_cmpuint(problems->len, ==, 1);
    problem = problems->pdata[0];
    g_assert_cmpstr(problem->path, ==, fixture->script_dir);
    g_assert_nonnull(strstr(problem->reason, "writable by group"));
    g_clear_error(&error);

    g_assert_cmpint(chmod(fixture->script_dir, 0755), ==, 0);
    g_clear_pointer(&problems, g_ptr_array_unref);
    g_assert_true(writers_check(fixture->writers, &problems, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(problems->len, ==, 0);
}

static void test_untrusted_owner(Fixture *fixture, gconstpointer data)
{
    if (geteuid() != 0) {
        quiesce_test_skip_missing("root, to give a script to another owner");
        return;
    }
    fixture->config.trusted_uid = 0;
    g_autofree char *path = fixture_write_logger(fixture, fixture->script_dir, "10-nobody",
                                                 NULL);
    g_assert_cmpint(chown(path, 65534, 65534), ==, 0);
    g_assert_cmpint(chmod(path, 0755), ==, 0);
    fixture_start(fixture);

    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) problems = NULL;
    g_assert_false(writers_check(fixture->writers, &problems, &error));
    g_assert_cmpuint(problems->len, ==, 1);
    g_assert_nonnull(strstr(((WriterProblem *)problems->pdata[0])->reason,
                            "owned by uid 65534, not root"));
    g_clear_error(&error);
    g_autoptr(WriterFailure) failure = NULL;
    g_assert_false(writers_freeze(fixture->writers, &no_context, &failure, &error));
    g_assert_cmpint(failure->outcome, ==, WRITER_OUTCOME_REFUSED);
    g_assert_false(g_file_test(fixture->log_path, G_FILE_TEST_EXISTS));
}

static void test_thaw_failures_collected(Fixture *fixture, gconstpointer data)
{
    g_free(fixture_write_logger(fixture, fixture->script_dir, "10-a",
                                "[ \"$1\" = thaw ] && { echo 'a: unlock failed'; exit 4; }\n"
                                "exit 0"));
    g_free(fixture_write_logger(fixture, fixture->script_dir, "20-b", NULL));
    g_free(fixture_write_logger(fixture, fixture->script_dir, "30-c",
                                "[ \"$1\" = thaw ] && exit 5\nexit 0"));
    fixture_start(fixture);
    g_autoptr(GError) error = NULL;
    g_assert_true(writers_freeze(fixture->writers, &no_context, NULL, &error));

    g_autoptr(GPtrArray) failures = NULL;
    g_assert_false(writers_thaw(fixture->writers, &no_context, &failures, &error));
    g_assert_error(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED);
    const char *expected[] = { "10-a freeze", "20-b freeze", "30-c freeze",
                               "30-c thaw", "20-b thaw", "10-a thaw", NULL };
    fixture_assert_log(fixture, expected);
    g_assert_cmpuint(failures->len, ==, 2);
    const WriterFailure *first = failures->pdata[0];
    const WriterFailure *second = failures->pdata[1];
    g_assert_true(g_str_has_suffix(first->name, "/30-c"));
    g_assert_cmpint(first->exit_status, ==, 5);
    g_assert_true(g_str_has_suffix(second->name, "/10-a"));
    g_assert_cmpint(second->exit_status, ==, 4);
    g_assert_cmpint(second->phase, ==, WRITER_PHASE_THAW);
    g_assert_nonnull(strstr(second->output_tail, "a: unlock failed"));
    g_assert_nonnull(strstr(error->message, "2 writers failed to thaw"));
    g_assert_nonnull(strstr(error->message, "/30-c: thaw: exit status 5"));
    g_assert_nonnull(strstr(error->message, "/10-a: thaw: exit status 4: a: unlock failed"));
    g_assert_false(writers_is_frozen(fixture->writers));
}

static void test_background_child_holds_output(Fixture *fixture, gconstpointer data)
{
    /* qemu's mysql-flush sample: freeze leaves a child in the background,
     * holding our stdout pipe and a "lock", until thaw releases it. */
    g_autofree char *fifo = g_build_filename(fixture->dir, "release.fifo", NULL);
    g_autofree char *done = g_build_filename(fixture->dir, "bg.done", NULL);
    g_autofree char *body = g_strdup_printf(
        "case \"$1\" in\n"
        "freeze) mkfifo '%s'\n"
        "        ( echo 'bg: holding the lock'; read x < '%s';\n"
        "          echo 'bg: released'; echo ok > '%s' ) &\n"
        "        echo 'freeze: done' ;;\n"
        "thaw)   echo > '%s' ;;\n"
        "esac\n", fifo, fifo, done, fifo);
    g_free(fixture_write_script(fixture, fixture->compat_dir, "mysql-flush.sh", body, 0));
    fixture_start(fixture);

    gint64 start = g_get_monotonic_time();
    g_autoptr(GError) error = NULL;
    g_assert_true(writers_freeze(fixture->writers, &no_context, NULL, &error));
    g_assert_no_error(error);
    g_assert_cmpint((g_get_monotonic_time() - start) / 1000, <, 1000);
    g_usleep(200 * 1000);
    g_assert_false(g_file_test(done, G_FILE_TEST_EXISTS)); /* still holding */
    g_assert_true(writers_thaw(fixture->writers, &no_context, NULL, &error));
    g_assert_no_error(error);
    g_assert_true(file_wait_contains(done, "ok", 3000));

    g_autofree char *held = fixture_flush_log(fixture);
    g_assert_nonnull(strstr(held, "mysql-flush.sh freeze: freeze: done"));
    /* Printed before or after the script exited, so under either prefix. */
    g_assert_nonnull(strstr(held, ": bg: holding the lock"));
    /* Printed after thaw, long after the script exited: read from the
     * pipe the agent kept for the background child. */
    g_assert_nonnull(strstr(held, "mysql-flush.sh freeze (background): bg: released"));
}

static void test_output_capped_and_held(Fixture *fixture, gconstpointer data)
{
    g_free(fixture_write_script(fixture, fixture->script_dir, "10-chatty",
                                "i=0; while [ $i -lt 4000 ]; do\n"
                                "  echo \"noise line $i of a writer that talks too much\"\n"
                                "  i=$((i+1)); done\n"
                                "echo 'LAST-LINE: the real error' >&2\nexit 1", 0));
    fixture->config.output_cap = 4096;
    fixture_start(fixture);
    g_autoptr(GError) error = NULL;
    g_autoptr(WriterFailure) failure = NULL;
    g_assert_false(writers_freeze(fixture->writers, &no_context, &failure, &error));
    g_assert_cmpuint(strlen(failure->output_tail), <=, 4096);
    g_assert_true(g_str_has_suffix(failure->output_tail, "LAST-LINE: the real error\n"));
    g_assert_nonnull(strstr(failure->message, "exit status 1: LAST-LINE: the real error"));

    g_autofree char *held = fixture_flush_log(fixture);
    g_assert_nonnull(strstr(held, "earlier bytes of output dropped"));
    g_assert_nonnull(strstr(held, "10-chatty freeze: LAST-LINE: the real error"));
    g_assert_null(strstr(held, "noise line 0 "));
    g_assert_cmpuint(strlen(held), <, 3 * 4096);
    /* Handed out once: a second flush is empty. */
    g_autofree char *again = fixture_flush_log(fixture);
    g_assert_cmpstr(again, ==, "");
}

static void test_cannot_execute(Fixture *fixture, gconstpointer data)
{
    g_autofree char *path = g_build_filename(fixture->script_dir, "10-no-shebang", NULL);
    g_assert_true(g_file_set_contents(path, "\x7f" "ELF-not-really", -1, NULL));
    g_assert_cmpint(chmod(path, 0755), ==, 0);
    fixture_start(fixture);
    g_autoptr(GError) error = NULL;
    g_autoptr(WriterFailure) failure = NULL;
    g_assert_false(writers_freeze(fixture->writers, &no_context, &failure, &error));
    /* posix_spawn reports the exec error; where it cannot (under valgrind,
     * which turns its vfork-style clone into a fork), the child exits 127. */
    if (failure->outcome == WRITER_OUTCOME_EXITED) {
        g_assert_cmpint(failure->exit_status, ==, 127);
    } else {
        g_assert_cmpint(failure->outcome, ==, WRITER_OUTCOME_REFUSED);
        g_assert_nonnull(strstr(failure->message, "cannot execute: Exec format error"));
    }
}

static void test_name_filter(void)
{
    g_assert_false(writer_script_name_is_ignored("10-db"));
    g_assert_false(writer_script_name_is_ignored("mysql-flush.sh"));
    g_assert_true(writer_script_name_is_ignored("10-db.dpkg-new"));
    g_assert_true(writer_script_name_is_ignored("10-db.ucf-dist"));
    g_assert_true(writer_script_name_is_ignored("10-db.rpmorig"));
    g_assert_true(writer_script_name_is_ignored("10-db.swo"));
    g_assert_true(writer_script_name_is_ignored(".10-db.swp"));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    quiesce_test_add_func("/writers/scripts/name-filter", test_name_filter);
#define ADD(path, func) QUIESCE_TEST_ADD(path, Fixture, NULL, setup_no_socket, func, fixture_teardown)
    ADD("/writers/scripts/order-and-leftovers", test_order_and_leftovers);
    ADD("/writers/scripts/environment", test_environment);
    ADD("/writers/scripts/rollback-reverse", test_rollback_reverse);
    ADD("/writers/scripts/compat-rollback-is-thaw", test_compat_rollback_is_thaw);
    ADD("/writers/scripts/hung-writer-killed", test_hung_writer_killed);
    ADD("/writers/scripts/total-timeout", test_total_timeout);
    ADD("/writers/scripts/untrusted-group-writable", test_untrusted_group_writable);
    ADD("/writers/scripts/untrusted-owner", test_untrusted_owner);
    ADD("/writers/scripts/thaw-failures-collected", test_thaw_failures_collected);
    ADD("/writers/scripts/background-child", test_background_child_holds_output);
    ADD("/writers/scripts/output-capped-and-held", test_output_capped_and_held);
    ADD("/writers/scripts/cannot-execute", test_cannot_execute);
#undef ADD
    return quiesce_test_run();
}
