/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-kernel-knob.c — fsfreeze/kernel-knob.c on plain files standing in
 * for /sys/kernel/rcu_expedited (set to 1 only from 0) and the writeback
 * workqueue's nice (set to -20 from any other value): set and put back
 * with its record; left alone when already set; nothing left set when the
 * knob or the record cannot be written; a failed put-back keeps the
 * record; recovery puts back only a record of this boot whose knob still
 * reads what the agent set, and removes every record, even one that makes
 * no sense; the dirty data read from a meminfo.
 */
#include <glib/gstdio.h>
#include <string.h>

#include "fsfreeze/kernel-knob.h"
#include "tests/support/test-run.h"
#include "tests/support/test-tmpdir.h"

typedef struct {
    char *dir;
    char *knob;
    char *record;
} Files;

static void files_init(Files *files, const char *knob_value)
{
    files->dir = quiesce_test_make_tmp_dir("quiesce-knob-XXXXXX");
    files->knob = g_build_filename(files->dir, "knob", NULL);
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

    g_assert_true(g_file_get_contents(KERNEL_KNOB_BOOT_ID, &boot, NULL, NULL));
    return g_strstrip(boot);
}

static void test_set_and_put_back(void)
{
    Files files;
    KernelKnob k;
    gboolean set = FALSE;
    g_autoptr(GError) error = NULL;
    g_autofree char *boot = this_boot();
    g_autofree char *want = g_strdup_printf("old=0\nboot=%s\n", boot);
    g_autofree char *knob = NULL;
    g_autofree char *record = NULL;
    g_autofree char *after = NULL;

    files_init(&files, "0\n");
    g_assert_true(kernel_knob_set(&k, files.knob, "1", "0", files.record, &set, &error));
    g_assert_no_error(error);
    g_assert_true(set);
    knob = slurp(files.knob);
    g_assert_cmpstr(knob, ==, "1");
    record = slurp(files.record);
    g_assert_cmpstr(record, ==, want);
    g_assert_true(kernel_knob_put_back(&k, &error));
    after = slurp(files.knob);
    g_assert_cmpstr(after, ==, "0");
    g_assert_false(g_file_test(files.record, G_FILE_TEST_EXISTS));
    g_assert_true(kernel_knob_put_back(&k, &error)); /* a second end does nothing */
    files_clear(&files);
}

static void test_already_set(void)
{
    Files files;
    KernelKnob k;
    gboolean set = TRUE;
    g_autoptr(GError) error = NULL;

    /* Set already, or holding a value it is not set from (only_from "0"),
     * or no number at all: left alone, silently, as before. */
    const char *values[] = {"1\n", "2\n", "abc\n"};
    for (guint i = 0; i < G_N_ELEMENTS(values); i++) {
        g_autofree char *after = NULL;

        files_init(&files, values[i]);
        g_assert_true(kernel_knob_set(&k, files.knob, "1", "0", files.record, &set, &error));
        g_assert_no_error(error);
        g_assert_false(set);
        g_assert_false(g_file_test(files.record, G_FILE_TEST_EXISTS));
        g_assert_true(kernel_knob_put_back(&k, &error));
        after = slurp(files.knob);
        g_assert_cmpstr(after, ==, values[i]);
        files_clear(&files);
    }
}

static void test_cannot_set(void)
{
    Files files;
    KernelKnob k;
    gboolean set = TRUE;
    g_autoptr(GError) error = NULL;
    g_autofree char *bad_record = NULL;
    g_autofree char *knob = NULL;

    /* No knob (a kernel without it). */
    files_init(&files, NULL);
    g_assert_false(kernel_knob_set(&k, files.knob, "1", "0", files.record, &set, &error));
    g_assert_false(set);
    g_assert_nonnull(strstr(error->message, "cannot read"));
    g_assert_false(g_file_test(files.record, G_FILE_TEST_EXISTS));
    g_clear_error(&error);
    /* A knob that holds no number. */
    g_assert_true(g_file_set_contents(files.knob, "", -1, NULL));
    g_assert_false(kernel_knob_set(&k, files.knob, "1", "0", files.record, &set, &error));
    g_assert_nonnull(strstr(error->message, "holds no number"));
    g_clear_error(&error);
    /* A record that cannot be written: the knob is not touched. */
    g_assert_true(g_file_set_contents(files.knob, "0\n", -1, NULL));
    bad_record = g_build_filename(files.dir, "missing-dir", "record", NULL);
    g_assert_false(kernel_knob_set(&k, files.knob, "1", "0", bad_record, &set, &error));
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
    KernelKnob k;
    gboolean set = FALSE;
    g_autofree char *restored = NULL;
    g_autoptr(GError) error = NULL;

    files_init(&files, "0\n");
    g_assert_true(kernel_knob_set(&k, files.knob, "1", "0", files.record, &set, &error));
    g_assert_true(set);
    g_assert_cmpint(g_unlink(files.knob), ==, 0);
    g_assert_cmpint(g_mkdir(files.knob, 0700), ==, 0);
    g_assert_false(kernel_knob_put_back(&k, &error));
    g_assert_nonnull(error);
    g_assert_true(g_file_test(files.record, G_FILE_TEST_EXISTS));
    g_assert_cmpint(g_rmdir(files.knob), ==, 0);
    g_clear_error(&error);
    g_assert_true(kernel_knob_put_back(&k, &error)); /* done with: a no-op */
    g_assert_true(g_file_test(files.record, G_FILE_TEST_EXISTS));
    /* The next start puts the knob back from the record. */
    g_assert_true(g_file_set_contents(files.knob, "1\n", -1, NULL));
    g_assert_true(kernel_knob_recover(files.knob, "1", "0", files.record, &restored, &error));
    g_assert_cmpstr(restored, ==, "0");
    g_assert_false(g_file_test(files.record, G_FILE_TEST_EXISTS));
    files_clear(&files);
}

/* kernel_knob_recover() for a knob the agent sets to @value (from
 * @only_from), on a record with @text and a knob at @knob_value: the value
 * it put back (NULL when none), and what the knob holds after. */
static char *recover_with(const char *value, const char *only_from, const char *text,
                          const char *knob_value, char **out_knob)
{
    Files files;
    char *restored = NULL;
    g_autoptr(GError) error = NULL;

    files_init(&files, knob_value);
    if (text) {
        g_assert_true(g_file_set_contents(files.record, text, -1, NULL));
    }
    g_assert_true(
        kernel_knob_recover(files.knob, value, only_from, files.record, &restored, &error));
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
    g_autofree char *ours_nice = g_strdup_printf("old=5\nboot=%s\n", boot);
    g_autofree char *ours_same = g_strdup_printf("old=-20\nboot=%s\n", boot);
    g_autofree char *bad = g_strdup_printf("old=abc\nboot=%s\n", boot);
    g_autofree char *minus = g_strdup_printf("old=-1\nboot=%s\n", boot);
    const struct {
        const char *value; /* what the agent sets */
        const char *record;
        const char *knob;
        const char *restored;
        const char *after;
    } cases[] = {
        {"1", ours, "1\n", "0", "0"},    /* ours, still set: put back */
        {"1", ours, "0\n", NULL, "0\n"}, /* already put back by someone */
        {"1", "old=0\nboot=00000000-0000-0000-0000-000000000000\n", "1\n", NULL, "1\n"},
        {"1", "old=0\n", "1\n", NULL, "1\n"}, /* no boot id */
        {"1", "garbage\x01\n", "1\n", NULL, "1\n"},
        {"1", "", "1\n", NULL, "1\n"},
        {"1", NULL, "1\n", NULL, "1\n"},       /* no record at all */
        {"1", bad, "1\n", NULL, "1\n"},        /* an old value that is not a number */
        {"-20", ours_nice, "-20\n", "5", "5"}, /* the writeback nice: put back */
        {"-20", ours, "-20\n", "0", "0"},
        {"-20", ours_nice, "-5\n", NULL, "-5\n"},   /* changed by someone since */
        {"-20", ours_same, "-20\n", NULL, "-20\n"}, /* nothing to put back */
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *after = NULL;
        /* as the engine recovers them: the RCU knob only from 0 */
        const char *only_from = g_str_equal(cases[i].value, "1") ? "0" : NULL;
        g_autofree char *restored =
            recover_with(cases[i].value, only_from, cases[i].record, cases[i].knob, &after);

        g_test_message("case %u: restored %s, knob %s", i, restored ? restored : "(none)", after);
        g_assert_cmpstr(restored, ==, cases[i].restored);
        g_assert_cmpstr(after, ==, cases[i].after);
    }
}

/* The writeback workqueue's nice: set to -20 from any other value (negative
 * ones too) and put back; left alone at -20; a value that is no number is
 * refused and left as it was. */
static void test_nice_knob(void)
{
    const char *befores[] = {"0\n", "5\n", "-5\n"};
    const char *backs[] = {"0", "5", "-5"};

    for (guint i = 0; i < G_N_ELEMENTS(befores); i++) {
        Files files;
        KernelKnob k;
        gboolean set = FALSE;
        g_autoptr(GError) error = NULL;
        g_autofree char *during = NULL;
        g_autofree char *after = NULL;

        files_init(&files, befores[i]);
        g_assert_true(kernel_knob_set(&k, files.knob, "-20", NULL, files.record, &set, &error));
        g_assert_no_error(error);
        g_assert_true(set);
        during = slurp(files.knob);
        g_assert_cmpstr(during, ==, "-20");
        g_assert_true(kernel_knob_put_back(&k, &error));
        after = slurp(files.knob);
        g_assert_cmpstr(after, ==, backs[i]);
        g_assert_false(g_file_test(files.record, G_FILE_TEST_EXISTS));
        files_clear(&files);
    }

    Files files;
    KernelKnob k;
    gboolean set = TRUE;
    g_autoptr(GError) error = NULL;
    g_autofree char *knob = NULL;

    files_init(&files, "-20\n");
    g_assert_true(kernel_knob_set(&k, files.knob, "-20", NULL, files.record, &set, &error));
    g_assert_false(set);
    g_assert_false(g_file_test(files.record, G_FILE_TEST_EXISTS));
    g_assert_true(g_file_set_contents(files.knob, "abc\n", -1, NULL));
    g_assert_false(kernel_knob_set(&k, files.knob, "-20", NULL, files.record, &set, &error));
    g_assert_false(set);
    g_assert_nonnull(strstr(error->message, "holds no number"));
    knob = slurp(files.knob);
    g_assert_cmpstr(knob, ==, "abc\n");
    g_assert_false(g_file_test(files.record, G_FILE_TEST_EXISTS));
    files_clear(&files);
}

static void test_dirty_kib(void)
{
    const struct {
        const char *text; /* NULL: no file */
        gint64 want;
    } cases[] = {
        {"MemTotal:  1000 kB\nDirty:   300 kB\nWriteback:  12 kB\nWritebackTmp: 7 kB\n", 312},
        {"Writeback: 0 kB\nDirty: 65536 kB\n", 65536},
        {"Dirty: 300 kB\n", -1}, /* no Writeback: line */
        {"Dirty: x kB\nWriteback: 0 kB\n", -1},
        {"", -1},
        {NULL, -1},
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *dir = quiesce_test_make_tmp_dir("quiesce-meminfo-XXXXXX");
        g_autofree char *path = g_build_filename(dir, "meminfo", NULL);

        if (cases[i].text) {
            g_assert_true(g_file_set_contents(path, cases[i].text, -1, NULL));
        }
        g_assert_cmpint(kernel_dirty_kib(path), ==, cases[i].want);
        quiesce_test_remove_tree(dir);
    }
    /* The real one reads. */
    g_assert_cmpint(kernel_dirty_kib(KERNEL_MEMINFO), >=, 0);
}

static const QuiesceTestFunc tests[] = {
    {"/kernel-knob/set-and-put-back", test_set_and_put_back},
    {"/kernel-knob/already-set", test_already_set},
    {"/kernel-knob/cannot-set", test_cannot_set},
    {"/kernel-knob/put-back-fails", test_put_back_fails},
    {"/kernel-knob/recover", test_recover},
    {"/kernel-knob/nice-knob", test_nice_knob},
    {"/kernel-knob/dirty-kib", test_dirty_kib},
};

QUIESCE_TEST_MAIN(tests)
