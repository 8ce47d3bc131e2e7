/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * check.h — a tiny test harness for the portable protocol core's unit tests.
 *
 * Those tests must build with x86_64-w64-mingw32-gcc and run under wine, where
 * there is no GLib, so they cannot use g_test. A test program defines
 * functions `static void test_x(void)`, lists them in main() with RUN(test_x)
 * (or runs each case of a table as a test with RUN_NAMED(name, call)), and
 * returns check_exit_status(). A failed CHECK prints file:line and the
 * expression and marks the current test failed; the program exits 1 if any
 * test failed, 0 otherwise (ctest reads the exit status).
 */
#ifndef QUIESCE_TESTS_CHECK_H
#define QUIESCE_TESTS_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_failures;
static int check_current_failed;

#define CHECK(expr)                                                            \
    do {                                                                       \
        if (!(expr)) {                                                         \
            fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__,   \
                    #expr);                                                    \
            check_current_failed = 1;                                          \
        }                                                                      \
    } while (0)

#define CHECK_STR_EQ(actual, expected)                                         \
    do {                                                                       \
        const char *check_a_ = (actual);                                       \
        const char *check_e_ = (expected);                                     \
        if (!check_a_ || strcmp(check_a_, check_e_) != 0) {                    \
            fprintf(stderr, "%s:%d: %s\n  got:      %s\n  expected: %s\n",     \
                    __FILE__, __LINE__, #actual,                               \
                    check_a_ ? check_a_ : "(null)", check_e_);                 \
            check_current_failed = 1;                                          \
        }                                                                      \
    } while (0)

#define CHECK_MEM_EQ(actual, actual_len, expected, expected_len)               \
    do {                                                                       \
        if ((actual_len) != (expected_len) ||                                  \
            memcmp((actual), (expected), (expected_len)) != 0) {               \
            fprintf(stderr, "%s:%d: %s differs (%zu vs %zu bytes)\n",          \
                    __FILE__, __LINE__, #actual, (size_t)(actual_len),         \
                    (size_t)(expected_len));                                   \
            check_current_failed = 1;                                          \
        }                                                                      \
    } while (0)

/* The number of elements of an array (a table of cases). */
#define CHECK_N_ELEMENTS(array) (sizeof(array) / sizeof((array)[0]))

/* Runs @call as a test named @name (for the cases of a table). */
#define RUN_NAMED(name, call)                                                  \
    do {                                                                       \
        check_current_failed = 0;                                              \
        call;                                                                  \
        printf("%s %s\n", check_current_failed ? "FAIL" : "ok  ", (name));     \
        check_failures += check_current_failed;                                \
    } while (0)

#define RUN(test) RUN_NAMED(#test, test())

static inline int check_exit_status(void)
{
    return check_failures ? 1 : 0;
}

#endif
