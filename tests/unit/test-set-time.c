/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-set-time.c — guest-set-time's sequence and messages (qemu-ga's
 * qmp_guest_set_time()) through the SetTimeOps seam: a fake clock that
 * records what it was asked and a fake hwclock script that records its
 * arguments, so the clock of the machine running the tests is never
 * touched. What a user would check: a good time sets the clock, then runs
 * `hwclock -w`; no time runs `hwclock -s` only; a time out of range, a
 * missing hwclock or a clock that refuses leaves hwclock unrun.
 */
#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

#include "agent/commands/set-time.h"
#include "common/quiesce-error.h"
#include "tests/support/test-run.h"

/* The fake clock: what it was last asked, and the errno it fails with. */
static struct {
    int calls;
    struct timeval tv;
    int fail_errno;
} fake_clock;

static int fake_set_clock(const struct timeval *tv)
{
    fake_clock.calls++;
    fake_clock.tv = *tv;
    if (fake_clock.fail_errno) {
        errno = fake_clock.fail_errno;
        return -1;
    }
    /* settimeofday()'s own check. */
    if (tv->tv_usec < 0 || tv->tv_usec >= 1000000) {
        errno = EINVAL;
        return -1;
    }
    return 0;
}

typedef struct {
    char *dir;
    char *hwclock;
    char *log;
    SetTimeOps ops;
} Fixture;

/* The fake hwclock: appends its arguments to the log, then runs tail. */
static void fixture_write_hwclock(Fixture *f, const char *tail)
{
    g_autofree char *script = g_strdup_printf("#!/bin/sh\necho \"$*\" >> '%s'\n%s\n", f->log,
                                              tail);

    g_assert_true(g_file_set_contents(f->hwclock, script, -1, NULL));
    g_assert_cmpint(g_chmod(f->hwclock, 0755), ==, 0);
}

static void fixture_set_up(Fixture *f, gconstpointer data)
{
    f->dir = g_dir_make_tmp("test-set-time-XXXXXX", NULL);
    g_assert_nonnull(f->dir);
    f->hwclock = g_build_filename(f->dir, "hwclock", NULL);
    f->log = g_build_filename(f->dir, "log", NULL);
    f->ops = (SetTimeOps){ .set_clock = fake_set_clock, .hwclock = f->hwclock };
    memset(&fake_clock, 0, sizeof(fake_clock));
    fixture_write_hwclock(f, "exit 0");
}

static void fixture_tear_down(Fixture *f, gconstpointer data)
{
    g_unlink(f->hwclock);
    g_unlink(f->log);
    g_rmdir(f->dir);
    g_free(f->dir);
    g_free(f->hwclock);
    g_free(f->log);
}

/* What the fake hwclock was run with, one line per run ("" if never). */
static char *hwclock_runs(Fixture *f)
{
    char *text = NULL;

    if (!g_file_get_contents(f->log, &text, NULL, NULL)) {
        return g_strdup("");
    }
    return text;
}

static void test_time_sets_clock_then_rtc(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *runs = NULL;

    g_assert_true(set_time_apply(&f->ops, TRUE, G_GINT64_CONSTANT(1700000000123456789), &error));
    g_assert_no_error(error);
    g_assert_cmpint(fake_clock.calls, ==, 1);
    g_assert_cmpint(fake_clock.tv.tv_sec, ==, 1700000000);
    g_assert_cmpint(fake_clock.tv.tv_usec, ==, 123456);
    runs = hwclock_runs(f);
    g_assert_cmpstr(runs, ==, "-w\n");
}

static void test_no_time_sets_clock_from_rtc(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *runs = NULL;

    g_assert_true(set_time_apply(&f->ops, FALSE, 0, &error));
    g_assert_cmpint(fake_clock.calls, ==, 0);
    runs = hwclock_runs(f);
    g_assert_cmpstr(runs, ==, "-s\n");
}

/* Each is refused with "Invalid time" and nothing is set or run (TZ=UTC). */
static void test_out_of_range_changes_nothing(Fixture *f, gconstpointer data)
{
    const gint64 times[] = {
        G_GINT64_CONSTANT(-1000000000000000000), /* 1938 */
        G_GINT64_CONSTANT(-1000000000),          /* 1969-12-31T23:59:59 */
        G_GINT64_CONSTANT(3155760000000000000),  /* 2070-01-01 */
        G_MAXINT64,
        G_MININT64,
    };

    for (gsize i = 0; i < G_N_ELEMENTS(times); i++) {
        g_autoptr(GError) error = NULL;
        g_autofree char *runs = NULL;

        g_assert_false(set_time_apply(&f->ops, TRUE, times[i], &error));
        g_assert_cmpstr(error->message, ==, "Invalid time");
        g_assert_cmpint(fake_clock.calls, ==, 0);
        runs = hwclock_runs(f);
        g_assert_cmpstr(runs, ==, "");
    }
}

/* Less than a second before the epoch: qemu-ga passes a negative tv_usec,
 * which settimeofday() refuses. */
static void test_clock_refusal(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *runs = NULL;

    g_assert_false(set_time_apply(&f->ops, TRUE, -1000, &error));
    g_assert_cmpstr(error->message, ==, "Failed to set time to guest: Invalid argument");
    g_clear_error(&error);
    fake_clock.fail_errno = EPERM;
    g_assert_false(set_time_apply(&f->ops, TRUE, G_GINT64_CONSTANT(1700000000000000000), &error));
    g_assert_cmpstr(error->message, ==, "Failed to set time to guest: Operation not permitted");
    runs = hwclock_runs(f);
    g_assert_cmpstr(runs, ==, "");
}

static void test_hwclock_failures(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;

    fixture_write_hwclock(f, "exit 1");
    g_assert_false(set_time_apply(&f->ops, FALSE, 0, &error));
    g_assert_cmpstr(error->message, ==, "hwclock failed to set hardware clock to system time");
    g_clear_error(&error);
    fixture_write_hwclock(f, "kill -KILL $$");
    g_assert_false(set_time_apply(&f->ops, TRUE, G_GINT64_CONSTANT(1700000000000000000), &error));
    g_assert_cmpstr(error->message, ==, "child process has terminated abnormally");
}

static void test_hwclock_missing_is_unsupported(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;

    g_unlink(f->hwclock);
    g_assert_false(set_time_apply(&f->ops, TRUE, G_GINT64_CONSTANT(1700000000000000000), &error));
    g_assert_cmpstr(error->message, ==, "this feature or command is not currently supported");
    g_assert_cmpint(fake_clock.calls, ==, 0);
}

#define ADD(path, fn) QUIESCE_TEST_ADD(path, Fixture, NULL, fixture_set_up, fn, fixture_tear_down)

int main(int argc, char **argv)
{
    g_setenv("TZ", "UTC", TRUE);
    g_test_init(&argc, &argv, NULL);
    ADD("/set-time/time-sets-clock-then-rtc", test_time_sets_clock_then_rtc);
    ADD("/set-time/no-time-sets-clock-from-rtc", test_no_time_sets_clock_from_rtc);
    ADD("/set-time/out-of-range-changes-nothing", test_out_of_range_changes_nothing);
    ADD("/set-time/clock-refusal", test_clock_refusal);
    ADD("/set-time/hwclock-failures", test_hwclock_failures);
    ADD("/set-time/hwclock-missing-is-unsupported", test_hwclock_missing_is_unsupported);
    return quiesce_test_run();
}
