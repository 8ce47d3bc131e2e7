/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-rcu-expedite.c — fsfreeze/rcu-expedite.c on plain files standing in
 * for /sys/kernel/rcu_expedited: set and put back with its record; left
 * alone when already set; nothing left set when the knob or the record
 * cannot be written; a failed put-back keeps the record; recovery puts
 * back only a record of this boot whose knob still reads 1, and removes
 * every record, even one that makes no sense.
 */
#include <glib/gstdio.h>
#include <string.h>

#include "fsfreeze/rcu-expedite.h"
#include "tests/support/test-run.h"
#include "tests/support/test-tmpdir.h"

typedef struct {
    char *dir;
    char *knob;
    char *record;
} Files;

static void files_init(Files *files, const char *knob_value)
{
    files->dir = quiesce_test_make_tmp_dir("quiesce-rcu-XXXXXX");
    files->knob = g_build_filename(files->dir, "rcu_expedited", NULL);
    files->record = g_build_filename(files->dir, RCU_EXPEDITE_RECORD, NULL);
    if (knob_value) {
        g_assert_true(g_file_set_contents(files->knob, knob_value, -1, NULL));
    }
}

static void files_clear(Files *files)
{
    quiesce_test_remove_tree(files->dir);
    g_free(files->dir);
    g_free(files->knob);
    g_free(files->record);
}

static char *slurp(const char *path)
{
    char *text = NULL;

    return g_file_get_contents(path, &text, NULL, NULL) ? text : g_strdup("(missing)");
}

static char *this_boot(void)
{
    char *boot = NULL;

    g_assert_true(g_file_get_contents(RCU_EXPEDITE_BOOT_ID, &boot, NULL, NULL));
    return g_strstrip(boot);
}

static void test_set_and_put_back(void)
{
    Files files;
    RcuExpedite rcu;
    gboolean set = FALSE;
    g_autoptr(GError) error = NULL;
    g_autofree char *boot = this_boot();
    g_autofree char *want = g_strdup_printf("old=0\nboot=%s\n", boot);
    g_autofree char *knob = NULL;
    g_autofree char *record = NULL;
    g_autofree char *after = NULL;

    files_init(&files, "0\n");
    g_assert_true(rcu_expedite_begin(&rcu, files.knob, files.record, &set, &error));
    g_assert_no_error(error);
    g_assert_true(set);
    knob = slurp(files.knob);
    g_assert_cmpstr(knob, ==, "1");
    record = slurp(files.record);
    g_assert_cmpstr(record, ==, want);
    g_assert_true(rcu_expedite_end(&rcu, &error));
    after = slurp(files.knob);
    g_assert_cmpstr(after, ==, "0");
    g_assert_false(g_file_test(files.record, G_FILE_TEST_EXISTS));
    g_assert_true(rcu_expedite_end(&rcu, &error)); /* a second end does nothing */
    files_clear(&files);
}

static void test_already_set(void)
{
    Files files;
    RcuExpedite rcu;
    gboolean set = TRUE;
    g_autoptr(GError) error = NULL;
    g_autofree char *knob = NULL;

    files_init(&files, "1\n");
    g_assert_true(rcu_expedite_begin(&rcu, files.knob, files.record, &set, &error));
    g_assert_false(set);
    g_assert_false(g_file_test(files.record, G_FILE_TEST_EXISTS));
    g_assert_true(rcu_expedite_end(&rcu, &error));
    knob = slurp(files.knob);
    g_assert_cmpstr(knob, ==, "1\n");
    files_clear(&files);
}

static void test_cannot_set(void)
{
    Files files;
    RcuExpedite rcu;
    gboolean set = TRUE;
    g_autoptr(GError) error = NULL;
    g_autofree char *bad_record = NULL;
    g_autofree char *knob = NULL;

    /* No knob (a kernel without it). */
    files_init(&files, NULL);
    g_assert_false(rcu_expedite_begin(&rcu, files.knob, files.record, &set, &error));
    g_assert_false(set);
    g_assert_nonnull(strstr(error->message, "cannot read"));
    g_assert_false(g_file_test(files.record, G_FILE_TEST_EXISTS));
    g_clear_error(&error);
    /* A knob that holds no number. */
    g_assert_true(g_file_set_contents(files.knob, "", -1, NULL));
    g_assert_false(rcu_expedite_begin(&rcu, files.knob, files.record, &set, &error));
    g_assert_nonnull(strstr(error->message, "holds no number"));
    g_clear_error(&error);
    /* A record that cannot be written: the knob is not touched. */
    g_assert_true(g_file_set_contents(files.knob, "0\n", -1, NULL));
    bad_record = g_build_filename(files.dir, "missing-dir", "record", NULL);
    g_assert_false(rcu_expedite_begin(&rcu, files.knob, bad_record, &set, &error));
    g_assert_false(set);
    g_assert_nonnull(strstr(error->message, "cannot write the record"));
    knob = slurp(files.knob);
    g_assert_cmpstr(knob, ==, "0\n");
    files_clear(&files);
}

/* The knob went away between the two calls: the put-back fails, and the
 * record stays for the next start, which puts the knob back. */
static void test_put_back_fails(void)
{
    Files files;
    RcuExpedite rcu;
    gboolean set = FALSE;
    gboolean restored = FALSE;
    g_autoptr(GError) error = NULL;

    files_init(&files, "0\n");
    g_assert_true(rcu_expedite_begin(&rcu, files.knob, files.record, &set, &error));
    g_assert_true(set);
    g_assert_cmpint(g_unlink(files.knob), ==, 0);
    g_assert_cmpint(g_mkdir(files.knob, 0700), ==, 0);
    g_assert_false(rcu_expedite_end(&rcu, &error));
    g_assert_nonnull(error);
    g_assert_true(g_file_test(files.record, G_FILE_TEST_EXISTS));
    g_assert_cmpint(g_rmdir(files.knob), ==, 0);
    g_clear_error(&error);
    g_assert_true(rcu_expedite_end(&rcu, &error)); /* done with: a no-op */
    g_assert_true(g_file_test(files.record, G_FILE_TEST_EXISTS));
    /* The next start puts the knob back from the record. */
    g_assert_true(g_file_set_contents(files.knob, "1\n", -1, NULL));
    g_assert_true(rcu_expedite_recover(files.knob, files.record, &restored, &error));
    g_assert_true(restored);
    g_assert_false(g_file_test(files.record, G_FILE_TEST_EXISTS));
    files_clear(&files);
}

/* rcu_expedite_recover() on a record with @text and a knob at @knob_value:
 * whether it put the value back, and what the knob holds after. */
static gboolean recover_with(const char *text, const char *knob_value, char **out_knob)
{
    Files files;
    gboolean restored = FALSE;
    g_autoptr(GError) error = NULL;

    files_init(&files, knob_value);
    if (text) {
        g_assert_true(g_file_set_contents(files.record, text, -1, NULL));
    }
    g_assert_true(rcu_expedite_recover(files.knob, files.record, &restored, &error));
    g_assert_no_error(error);
    g_assert_false(g_file_test(files.record, G_FILE_TEST_EXISTS));
    *out_knob = slurp(files.knob);
    files_clear(&files);
    return restored;
}

static void test_recover(void)
{
    g_autofree char *boot = this_boot();
    g_autofree char *ours = g_strdup_printf("old=0\nboot=%s\n", boot);
    const struct {
        const char *record;
        const char *knob;
        gboolean restored;
        const char *after;
    } cases[] = {
        {ours, "1\n", TRUE, "0"},    /* ours, still set: put back */
        {ours, "0\n", FALSE, "0\n"}, /* already put back by someone */
        {"old=0\nboot=00000000-0000-0000-0000-000000000000\n", "1\n", FALSE, "1\n"},
        {"old=0\n", "1\n", FALSE, "1\n"}, /* no boot id */
        {"garbage\x01\n", "1\n", FALSE, "1\n"},
        {"", "1\n", FALSE, "1\n"},
        {NULL, "1\n", FALSE, "1\n"}, /* no record at all */
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *after = NULL;
        gboolean restored = recover_with(cases[i].record, cases[i].knob, &after);

        g_test_message("case %u: restored %d, knob %s", i, restored, after);
        g_assert_cmpint(restored, ==, cases[i].restored);
        g_assert_cmpstr(after, ==, cases[i].after);
    }
    /* An old value that is not a number is not written back. */
    g_autofree char *bad = g_strdup_printf("old=abc\nboot=%s\n", boot);
    g_autofree char *after = NULL;
    g_assert_false(recover_with(bad, "1\n", &after));
    g_assert_cmpstr(after, ==, "1\n");
}

static const QuiesceTestFunc tests[] = {
    {"/rcu-expedite/set-and-put-back", test_set_and_put_back},
    {"/rcu-expedite/already-set", test_already_set},
    {"/rcu-expedite/cannot-set", test_cannot_set},
    {"/rcu-expedite/put-back-fails", test_put_back_fails},
    {"/rcu-expedite/recover", test_recover},
};

QUIESCE_TEST_MAIN(tests)
