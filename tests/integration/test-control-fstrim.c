/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-control-fstrim.c — guest-fstrim for real on this machine, safely: a
 * quiesced confined to a dir of its own trims the ext4 loop image mounted
 * there and lists nothing else; qemu-ga's result shape (path, minimum,
 * trimmed; qga/commands-posix.c) comes back; the minimum is passed to the
 * kernel; and while the agent holds the image frozen, fstrim is refused as
 * qemu-ga refuses it. Needs root and a loop device (skips otherwise).
 */
#include <glib/gstdio.h>

#include "tests/support/agent-process.h"
#include "tests/support/loopfs.h"
#include "tests/support/test-run.h"

typedef struct {
    char *dir;
    LoopFs *ext4;
    AgentProcess *agent;
} Fixture;

static void set_up(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    AgentProcessOptions options = { 0 };

    /* /tmp may be tmpfs; a loop image on it still trims, /var/tmp as elsewhere. */
    f->dir = g_strdup("/var/tmp/quiesce-fstrim-XXXXXX");
    g_assert_nonnull(g_mkdtemp(f->dir));
    f->ext4 = loopfs_create(f->dir, f->dir, "ext4", "ext4", 64, &error);
    g_assert_no_error(error);
    options.confine = f->dir;
    f->agent = agent_process_start_full("quiesced", g_getenv("QUIESCED"), &options, &error);
    g_assert_no_error(error);
}

static void tear_down(Fixture *f, gconstpointer data)
{
    agent_process_free(f->agent);
    loopfs_destroy(f->ext4);
    loopfs_run((const char *[]){ "rm", "-rf", f->dir, NULL }, NULL);
    g_free(f->dir);
}

static char *ask(Fixture *f, const char *request)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GByteArray) got = agent_process_exchange_lines(
        agent_process_socket(f->agent), (const guint8 *)request, strlen(request), 1, 30000, &error);

    g_assert_no_error(error);
    return g_strndup((const char *)got->data, got->len);
}

static void test_trims_only_its_loop_image(Fixture *f, gconstpointer data)
{
    g_autofree char *junk = g_build_filename(f->ext4->mountpoint, "junk", NULL);
    g_autofree char *blob = g_malloc0(8 << 20);
    g_autofree char *reply = NULL;
    g_autofree char *pattern = NULL;

    g_assert_true(g_file_set_contents(junk, blob, 8 << 20, NULL));
    g_assert_true(loopfs_run((const char *[]){ "sync", NULL }, NULL));
    g_assert_cmpint(g_unlink(junk), ==, 0);
    reply = ask(f, "{\"execute\":\"guest-fstrim\"}");
    g_test_message("%s", reply);
    /* One path, this one, with qemu-ga's members. */
    pattern = g_strdup_printf("^\\{\"return\": \\{\"paths\": \\[\\{\"minimum\": [0-9]+, \"path\": "
                              "\"%s\", \"trimmed\": [1-9][0-9]*\\}\\]\\}\\}\n$",
                              f->ext4->mountpoint);
    g_assert_true(g_regex_match_simple(pattern, reply, 0, 0));
}

static void test_minimum(Fixture *f, gconstpointer data)
{
    g_autofree char *reply = ask(f, "{\"execute\":\"guest-fstrim\",\"arguments\":"
                                    "{\"minimum\":1048576}}");

    g_test_message("%s", reply);
    g_assert_true(g_regex_match_simple("\"minimum\": (104857[6-9]|10485[89][0-9]|[2-9][0-9]{6,})",
                                       reply, 0, 0));
}

static void test_refused_while_frozen(Fixture *f, gconstpointer data)
{
    g_autofree char *frozen = ask(f, "{\"execute\":\"guest-fsfreeze-freeze\"}");
    g_autofree char *trim = ask(f, "{\"execute\":\"guest-fstrim\"}");
    g_autofree char *thawed = ask(f, "{\"execute\":\"guest-fsfreeze-thaw\"}");

    g_assert_cmpstr(frozen, ==, "{\"return\": 1}\n");
    g_assert_cmpstr(trim, ==, "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"Command "
                              "guest-fstrim has been disabled: the agent is in frozen state\"}}\n");
    g_assert_cmpstr(thawed, ==, "{\"return\": 1}\n");
}

int main(int argc, char **argv)
{
    const char *fstypes[] = { "ext4", NULL };
    g_autofree char *missing = loopfs_missing_requirement(fstypes);

    g_test_init(&argc, &argv, NULL);
    g_test_set_nonfatal_assertions();
    if (missing) {
        return quiesce_test_exit_missing(missing);
    }
    g_assert_nonnull(g_getenv("QUIESCED"));
#define ADD(path, fn) QUIESCE_TEST_ADD(path, Fixture, NULL, set_up, fn, tear_down)
    ADD("/fstrim/trims-only-its-loop-image", test_trims_only_its_loop_image);
    ADD("/fstrim/minimum", test_minimum);
    ADD("/fstrim/refused-while-frozen", test_refused_while_frozen);
    return quiesce_test_run();
}
