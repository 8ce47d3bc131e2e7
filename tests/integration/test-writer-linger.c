/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-writer-linger.c — scripts whose background children keep the output
 * pipe: a silent child (the held-output path with nothing in it, which
 * must not hand NULL to memrchr: UBSan aborts on that), and a child that
 * writes without end, which must cost the agent almost no CPU
 * (docs/design.md §6: the pipe is throttled, the child blocks, it is not
 * killed). Nothing is frozen.
 */
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "agent/writers/writer-linger.h"
#include "tests/integration/writers-fixture.h"

static const WriterContext no_context = { NULL, NULL };

static void setup_no_socket(Fixture *fixture, gconstpointer data)
{
    fixture_setup(fixture, data);
    g_clear_pointer(&fixture->config.socket_path, g_free);
}

/* A script @name whose freeze leaves @command running in the background
 * on its output pipe; freezes and thaws, and returns that child's pid. */
static pid_t run_background_child(Fixture *fixture, const char *name, const char *command)
{
    g_autofree char *pid_file = g_build_filename(fixture->dir, "bg.pid", NULL);
    g_autofree char *body = g_strdup_printf(
        "if [ \"$1\" = freeze ]; then %s & echo $! > '%s'; fi; exit 0", command, pid_file);
    g_autoptr(GError) error = NULL;
    pid_t child;

    g_free(fixture_write_script(fixture, fixture->script_dir, name, body, 0));
    fixture_start(fixture);
    g_assert_true(writers_freeze(fixture->writers, &no_context, NULL, &error));
    g_assert_no_error(error);
    child = read_pid_file(pid_file);
    for (int i = 0; i < 5; i++) {
        g_main_context_iteration(NULL, FALSE);
    }
    g_assert_true(writers_thaw(fixture->writers, &no_context, NULL, &error));
    g_assert_no_error(error);
    return child;
}

/* The script: freeze leaves a background child holding the pipe
 * without writing; freeze and thaw, then the held log. */
static void test_silent_background_child(Fixture *fixture, gconstpointer data)
{
    pid_t child = run_background_child(fixture, "10-silent", "sleep 30");
    g_autofree char *held = fixture_flush_log(fixture);

    g_assert_nonnull(strstr(held, "10-silent"));
    kill(child, SIGKILL);
}

static double cpu_seconds(void)
{
    struct rusage usage;

    g_assert_cmpint(getrusage(RUSAGE_SELF, &usage), ==, 0);
    return (double)usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6 +
           (double)usage.ru_stime.tv_sec + usage.ru_stime.tv_usec / 1e6;
}

static gboolean never(gpointer data)
{
    return FALSE;
}

/* A background child running `yes`: the agent (this process, running the
 * main loop) must stay nearly idle, the child must stay alive (blocked,
 * not killed by SIGPIPE), and the held log must stay bounded. */
static void test_endless_background_child(Fixture *fixture, gconstpointer data)
{
    pid_t child = run_background_child(fixture, "10-yes", "yes");
    double before = cpu_seconds();
    gint64 start = g_get_monotonic_time();
    fixture_iterate_until(never, NULL, 3000);
    double used = cpu_seconds() - before;
    double elapsed = (g_get_monotonic_time() - start) / 1e6;
    g_test_message("agent CPU while the child writes: %.3f s over %.2f s (%.1f %%)", used,
                   elapsed, 100 * used / elapsed);
    g_assert_cmpfloat(used / elapsed, <, 0.10);
    g_assert_true(pid_is_running(child)); /* blocked, not killed */

    g_autofree char *held = fixture_flush_log(fixture);
    g_assert_cmpuint(strlen(held), <, 1024 * 1024);
    kill(child, SIGKILL);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
#define ADD(path, func) g_test_add(path, Fixture, NULL, setup_no_socket, func, fixture_teardown)
    ADD("/writers/linger/silent-background-child", test_silent_background_child);
    ADD("/writers/linger/endless-background-child", test_endless_background_child);
#undef ADD
    return g_test_run();
}
