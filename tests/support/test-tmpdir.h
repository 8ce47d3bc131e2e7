/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-tmpdir.h — a test's own temp dir: made (the test fails when it
 * cannot be) and removed with all that the test wrote in it.
 */
#ifndef QUIESCE_TESTS_SUPPORT_TEST_TMPDIR_H
#define QUIESCE_TESTS_SUPPORT_TEST_TMPDIR_H

#include <glib.h>

/* g_dir_make_tmp(@tmpl), asserting that it succeeded. Free with g_free(). */
char *quiesce_test_make_tmp_dir(const char *tmpl);

/* Removes @path and everything below it; symlinks are removed, not followed. */
void quiesce_test_remove_tree(const char *path);

#endif
