/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-protocol-doc.c — docs/protocol.md against the sources: every
 * saved-state reason code the agent can send (a `*_REASON_*` string macro
 * in agent/ or fsfreeze/) is documented there, so a host author can rely on
 * the list. A new code without its line in the docs fails here.
 */
#include <glib.h>

#include "tests/support/test-run.h"

static const char *const scanned_dirs[] = { "agent", "fsfreeze", NULL };

/* Adds the codes #defined in the .c and .h files under dir (recursively). */
static void collect_codes(const char *dir, GRegex *define, GPtrArray *codes)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *name;

    g_assert_nonnull(d);
    while ((name = g_dir_read_name(d))) {
        g_autofree char *path = g_build_filename(dir, name, NULL);
        g_autofree char *text = NULL;
        g_autoptr(GMatchInfo) match = NULL;

        if (g_file_test(path, G_FILE_TEST_IS_DIR)) {
            collect_codes(path, define, codes);
            continue;
        }
        if (!g_str_has_suffix(name, ".c") && !g_str_has_suffix(name, ".h")) {
            continue;
        }
        g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
        for (g_regex_match(define, text, 0, &match); g_match_info_matches(match);
             g_match_info_next(match, NULL)) {
            g_ptr_array_add(codes, g_match_info_fetch(match, 1));
        }
    }
}

static void test_every_reason_code_documented(void)
{
    const char *source = g_getenv("QUIESCE_SOURCE_DIR");
    g_autofree char *doc_path = g_build_filename(source, "docs", "protocol.md", NULL);
    g_autofree char *doc = NULL;
    g_autoptr(GRegex) define = g_regex_new("^#define\\s+\\w+_REASON_\\w+\\s+\"([a-z][a-z0-9-]*)\"",
                                           G_REGEX_MULTILINE, 0, NULL);
    g_autoptr(GPtrArray) codes = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GString) missing = g_string_new(NULL);

    g_assert_nonnull(source);
    g_assert_true(g_file_get_contents(doc_path, &doc, NULL, NULL));
    for (gsize i = 0; scanned_dirs[i]; i++) {
        g_autofree char *dir = g_build_filename(source, scanned_dirs[i], NULL);
        collect_codes(dir, define, codes);
    }
    /* The eligibility, engine and writers codes at least. */
    g_assert_cmpuint(codes->len, >=, 8);
    for (guint i = 0; i < codes->len; i++) {
        g_autofree char *quoted = g_strdup_printf("| `%s` |", (char *)codes->pdata[i]);
        if (!strstr(doc, quoted)) {
            g_string_append_printf(missing, " %s", (char *)codes->pdata[i]);
        }
    }
    g_assert_cmpstr(missing->str, ==, "");
}

static const QuiesceTestFunc tests[] = {
    { "/protocol-doc/every-reason-code-documented", test_every_reason_code_documented },
};

QUIESCE_TEST_MAIN(tests)
