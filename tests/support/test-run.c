/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-run.c — counts the tests that ran and the ones that skipped, so a
 * program that tested nothing exits 77 instead of 0 (test-run.h).
 *
 * GLib offers no count of the tests g_test_run() ran, so each test is added
 * through a trampoline that counts it and calls the real functions; the
 * closure is allocated once per test and lives as long as the program.
 */
#include "tests/support/test-run.h"

typedef struct {
    GTestFixtureFunc setup;
    GTestFixtureFunc test;
    GTestFixtureFunc teardown;
    GTestFunc func;
    gconstpointer data;
} CountedTest;

/* Test programs are single-threaded around g_test_run(); the counts are
 * only read after it returns. */
static guint tests_ran;
static guint tests_skipped;

static gboolean require_environment(void)
{
    return g_strcmp0(g_getenv("QUIESCE_TEST_REQUIRE_ROOT"), "1") == 0;
}

static void counted_setup(gpointer fixture, gconstpointer closure)
{
    const CountedTest *counted = closure;
    if (counted->setup) {
        counted->setup(fixture, counted->data);
    }
}

static void counted_test(gpointer fixture, gconstpointer closure)
{
    const CountedTest *counted = closure;
    tests_ran++;
    if (counted->func) {
        counted->func();
    } else {
        counted->test(fixture, counted->data);
    }
}

static void counted_teardown(gpointer fixture, gconstpointer closure)
{
    const CountedTest *counted = closure;
    if (counted->teardown) {
        counted->teardown(fixture, counted->data);
    }
}

void quiesce_test_add_vtable(const char *path, gsize fixture_size, gconstpointer data,
                             GTestFixtureFunc setup, GTestFixtureFunc test,
                             GTestFixtureFunc teardown)
{
    CountedTest *counted = g_new0(CountedTest, 1);
    counted->setup = setup;
    counted->test = test;
    counted->teardown = teardown;
    counted->data = data;
    g_test_add_vtable(path, fixture_size, counted, counted_setup, counted_test,
                      counted_teardown);
}

void quiesce_test_add_func(const char *path, GTestFunc func)
{
    CountedTest *counted = g_new0(CountedTest, 1);
    counted->func = func;
    g_test_add_vtable(path, 0, counted, NULL, counted_test, NULL);
}

void quiesce_test_skip(const char *reason)
{
    tests_skipped++;
    g_test_skip(reason);
}

void quiesce_test_skip_missing(const char *missing)
{
    if (require_environment()) {
        g_test_fail_printf("QUIESCE_TEST_REQUIRE_ROOT=1 but this environment lacks: %s",
                           missing);
        return;
    }
    quiesce_test_skip(missing);
}

int quiesce_test_exit_missing(const char *missing)
{
    if (require_environment()) {
        g_printerr("FAIL: QUIESCE_TEST_REQUIRE_ROOT=1 but this environment lacks: %s\n",
                   missing);
        return 1;
    }
    g_print("SKIP: %s\n", missing);
    return QUIESCE_TEST_SKIP_EXIT;
}

int quiesce_test_run(void)
{
    int status = g_test_run();
    if (status == 0 && tests_ran > 0 && tests_skipped >= tests_ran) {
        g_print("SKIP: all %u tests skipped\n", tests_ran);
        return QUIESCE_TEST_SKIP_EXIT;
    }
    return status;
}

int quiesce_test_main(int argc, char **argv, const QuiesceTestFunc *tests, gsize n_tests)
{
    g_test_init(&argc, &argv, NULL);
    for (gsize i = 0; i < n_tests; i++) {
        quiesce_test_add_func(tests[i].path, tests[i].func);
    }
    return quiesce_test_run();
}
