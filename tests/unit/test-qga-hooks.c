/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-qga-hooks.c — qemu-ga's hook directories run only where qemu-ga was
 * set up to run its hook: its configuration file's fsfreeze-hook, Debian's
 * DAEMON_ARGS with -F, RHEL's FSFREEZE_HOOK_PATHNAME; nothing otherwise.
 * Each case is a small /etc tree written to a temp dir.
 */
#include <glib/gstdio.h>

#include "agent/writers/writer-qga-hooks.h"
#include "tests/support/test-run.h"
#include "tests/support/test-tmpdir.h"

typedef struct {
    const char *file; /* under the root */
    const char *text;
    const char *dir;  /* the directory expected, or NULL: none */
} HookCase;

static void check_case(const HookCase *c)
{
    g_autofree char *root = quiesce_test_make_tmp_dir("quiesce-qga-hooks-XXXXXX");
    g_autofree char *source = NULL;
    g_auto(GStrv) dirs = NULL;

    if (c->file) {
        g_autofree char *path = g_build_filename(root, c->file, NULL);
        g_autofree char *parent = g_path_get_dirname(path);

        g_assert_cmpint(g_mkdir_with_parents(parent, 0755), ==, 0);
        g_assert_true(g_file_set_contents(path, c->text, -1, NULL));
    }
    dirs = writer_qga_hooks_detect(root, &source);
    g_test_message("%s: %s -> %s", c->file ? c->file : "(none)", c->text ? c->text : "",
                   source ? source : "no hook");
    if (c->dir) {
        g_assert_cmpuint(g_strv_length(dirs), ==, 1);
        g_assert_cmpstr(dirs[0], ==, c->dir);
        g_assert_nonnull(source);
    } else {
        g_assert_cmpuint(g_strv_length(dirs), ==, 0);
        g_assert_null(source);
    }
    quiesce_test_remove_tree(root);
}

static void test_detect(void)
{
    static const HookCase cases[] = {
        /* Debian's default: no configuration, the hook is off */
        { NULL, NULL, NULL },
        { "etc/qemu/qemu-ga.conf", "[general]\nverbose=true\n", NULL },
        { "etc/qemu/qemu-ga.conf", "[general]\nfsfreeze-hook=\n", "/etc/qemu/fsfreeze-hook.d" },
        { "etc/qemu/qemu-ga.conf", "[general]\nfsfreeze-hook=/usr/local/qga/hook\n",
          "/usr/local/qga/hook.d" },
        { "etc/default/qemu-guest-agent", "DAEMON_ARGS=\"-v\"\n", NULL },
        { "etc/default/qemu-guest-agent", "DAEMON_ARGS=\"-v -F\"\n", "/etc/qemu/fsfreeze-hook.d" },
        { "etc/default/qemu-guest-agent", "DAEMON_ARGS='--fsfreeze-hook=/opt/h'\n", "/opt/h.d" },
        { "etc/default/qemu-guest-agent", "# DAEMON_ARGS=\"-F\"\n", NULL },
        { "etc/sysconfig/qemu-ga", "FSFREEZE_HOOK_PATHNAME=/etc/qemu-ga/fsfreeze-hook\n",
          "/etc/qemu-ga/fsfreeze-hook.d" },
        { "etc/sysconfig/qemu-ga", "FSFREEZE_HOOK_PATHNAME=\n", NULL },
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        check_case(&cases[i]);
    }
}

static const QuiesceTestFunc tests[] = {
    { "/qga-hooks/detect", test_detect },
};

QUIESCE_TEST_MAIN(tests)
