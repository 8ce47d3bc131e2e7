/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-run.h — honest skips for GLib test programs.
 *
 * g_test_run() returns 0 when every test called g_test_skip(), so ctest
 * would report a program that tested nothing as Passed. Tests added with
 * QUIESCE_TEST_ADD() or quiesce_test_add_func() are counted as they run,
 * skips through quiesce_test_skip*() are counted too, and
 * quiesce_test_run() returns 77 (ctest's SKIP_RETURN_CODE, set on every
 * test that uses this) when every test that ran was skipped.
 *
 * What the environment lacks (root, loop devices, mkfs, a uid to
 * switch to, the SQLite example) is a skip on a developer's machine but a
 * failure in CI: with QUIESCE_TEST_REQUIRE_ROOT=1 (set by .ci/run),
 * quiesce_test_skip_missing() fails the test and quiesce_test_exit_missing()
 * returns 1, each naming what was missing.
 */
#ifndef QUIESCE_TESTS_SUPPORT_TEST_RUN_H
#define QUIESCE_TESTS_SUPPORT_TEST_RUN_H

#include <glib.h>

#define QUIESCE_TEST_SKIP_EXIT 77

/* g_test_add_vtable() with the test counted; use QUIESCE_TEST_ADD(). */
void quiesce_test_add_vtable(const char *path, gsize fixture_size, gconstpointer data,
                             GTestFixtureFunc setup, GTestFixtureFunc test,
                             GTestFixtureFunc teardown);

/* g_test_add() with the test counted (the same casts as GLib's macro). */
#define QUIESCE_TEST_ADD(path, Fixture, data, setup, test, teardown)                              \
    quiesce_test_add_vtable(path, sizeof(Fixture), data,                                          \
                            (GTestFixtureFunc)(void (*)(void))(setup),                            \
                            (GTestFixtureFunc)(void (*)(void))(test),                             \
                            (GTestFixtureFunc)(void (*)(void))(teardown))

/* g_test_add_func() with the test counted. */
void quiesce_test_add_func(const char *path, GTestFunc func);

/* g_test_skip(), counted. For a reason that is not the environment's
 * (a test that does not apply here). */
void quiesce_test_skip(const char *reason);

/* The environment lacks @missing: a counted skip, or with
 * QUIESCE_TEST_REQUIRE_ROOT=1 a failure naming it. */
void quiesce_test_skip_missing(const char *missing);

/* The same for a whole program, before g_test_run(): prints why and
 * returns the exit code, 77 or (required) 1. */
int quiesce_test_exit_missing(const char *missing);

/* g_test_run(); 77 when at least one test ran and every one that ran was
 * skipped. */
int quiesce_test_run(void);

/* One entry of a program's table of tests: a GTest path and its function. */
typedef struct {
    const char *path;
    GTestFunc func;
} QuiesceTestFunc;

/* g_test_init(), each of @tests added with quiesce_test_add_func() in
 * order, then quiesce_test_run(). */
int quiesce_test_main(int argc, char **argv, const QuiesceTestFunc *tests, gsize n_tests);

/* main() of a program that is its table of tests and nothing else. */
#define QUIESCE_TEST_MAIN(tests)                                                                  \
    int main(int argc, char **argv)                                                               \
    {                                                                                             \
        return quiesce_test_main(argc, argv, (tests), G_N_ELEMENTS(tests));                       \
    }

#endif
