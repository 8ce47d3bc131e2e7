/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-tmpdir.c — see test-tmpdir.h.
 */
#include "tests/support/test-tmpdir.h"

#include <glib/gstdio.h>

char *quiesce_test_make_tmp_dir(const char *tmpl)
{
    g_autoptr(GError) error = NULL;
    char *dir = g_dir_make_tmp(tmpl, &error);

    g_assert_no_error(error);
    return dir;
}

void quiesce_test_remove_tree(const char *path)
{
    g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
    const char *name;

    while (dir && (name = g_dir_read_name(dir))) {
        g_autofree char *child = g_build_filename(path, name, NULL);
        if (g_file_test(child, G_FILE_TEST_IS_DIR) && !g_file_test(child, G_FILE_TEST_IS_SYMLINK)) {
            quiesce_test_remove_tree(child);
        } else {
            g_unlink(child);
        }
    }
    g_rmdir(path);
}
