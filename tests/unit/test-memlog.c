/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-memlog.c — the in-memory log used while filesystems are frozen:
 * order, levels, the byte cap (oldest dropped and counted), truncation of a
 * line larger than the cap, that a flush empties the buffer, and tags (the
 * agent's session id) given back with their lines.
 */
#include <string.h>

#include "common/memlog.h"
#include "tests/support/test-run.h"

typedef struct {
    GPtrArray *messages; /* char* */
    GArray *levels;      /* GLogLevelFlags */
    gint64 first_time;
} Collected;

static void collect(GLogLevelFlags level, const char *message, gint64 real_time_us,
                    gpointer user_data)
{
    Collected *collected = user_data;
    if (collected->messages->len == 0) {
        collected->first_time = real_time_us;
    }
    g_ptr_array_add(collected->messages, g_strdup(message));
    g_array_append_val(collected->levels, level);
}

static void collected_init(Collected *collected)
{
    collected->messages = g_ptr_array_new_with_free_func(g_free);
    collected->levels = g_array_new(FALSE, FALSE, sizeof(GLogLevelFlags));
    collected->first_time = 0;
}

static void collected_clear(Collected *collected)
{
    g_ptr_array_unref(collected->messages);
    g_array_unref(collected->levels);
}

static const char *message_at(Collected *collected, guint i)
{
    return g_ptr_array_index(collected->messages, i);
}

static void test_order_and_levels(void)
{
    g_autoptr(MemLog) log = memlog_new(4096);
    gint64 before = g_get_real_time();
    memlog_append(log, G_LOG_LEVEL_INFO, "froze %s", "/srv");
    memlog_append(log, G_LOG_LEVEL_WARNING, "writer %d slow", 3);
    g_assert_cmpuint(memlog_get_length(log), ==, 2);

    Collected collected;
    collected_init(&collected);
    memlog_flush(log, collect, &collected);
    g_assert_cmpuint(collected.messages->len, ==, 2);
    g_assert_cmpstr(message_at(&collected, 0), ==, "froze /srv");
    g_assert_cmpstr(message_at(&collected, 1), ==, "writer 3 slow");
    g_assert_cmpint(g_array_index(collected.levels, GLogLevelFlags, 0), ==, G_LOG_LEVEL_INFO);
    g_assert_cmpint(g_array_index(collected.levels, GLogLevelFlags, 1), ==,
                    G_LOG_LEVEL_WARNING);
    /* The time of the append, not of the flush, travels with the line. */
    g_assert_cmpint(collected.first_time, >=, before);
    g_assert_cmpint(collected.first_time, <=, g_get_real_time());
    collected_clear(&collected);

    /* A flush empties the buffer. */
    g_assert_cmpuint(memlog_get_length(log), ==, 0);
    collected_init(&collected);
    memlog_flush(log, collect, &collected);
    g_assert_cmpuint(collected.messages->len, ==, 0);
    collected_clear(&collected);
}

static void test_cap_drops_oldest(void)
{
    g_autoptr(MemLog) log = memlog_new(1024);
    for (int i = 0; i < 200; i++) {
        memlog_append(log, G_LOG_LEVEL_INFO, "line %03d", i);
    }
    guint kept = memlog_get_length(log);
    g_assert_cmpuint(kept, >, 0);
    g_assert_cmpuint(kept, <, 200);
    g_assert_cmpuint(memlog_get_dropped(log), ==, 200 - kept);

    Collected collected;
    collected_init(&collected);
    memlog_flush(log, collect, &collected);
    /* First the count of dropped lines, then the newest lines in order. */
    g_assert_cmpuint(collected.messages->len, ==, kept + 1);
    g_assert_cmpint(g_array_index(collected.levels, GLogLevelFlags, 0), ==,
                    G_LOG_LEVEL_WARNING);
    g_autofree char *expected_note = g_strdup_printf("%u earlier log lines were dropped",
                                                     200 - kept);
    g_assert_true(g_str_has_prefix(message_at(&collected, 0), expected_note));
    g_assert_cmpstr(message_at(&collected, collected.messages->len - 1), ==, "line 199");
    g_autofree char *first_kept = g_strdup_printf("line %03u", 200 - kept);
    g_assert_cmpstr(message_at(&collected, 1), ==, first_kept);
    collected_clear(&collected);

    /* The count restarts after a flush. */
    g_assert_cmpuint(memlog_get_dropped(log), ==, 0);
}

static void test_long_line_truncated(void)
{
    g_autoptr(MemLog) log = memlog_new(MEMLOG_MIN_CAP);
    g_autofree char *huge = g_strnfill(10000, 'x');
    memlog_append(log, G_LOG_LEVEL_INFO, "short");
    memlog_append(log, G_LOG_LEVEL_INFO, "%s", huge);
    /* A cut inside a two-byte character must move back to its start. */
    g_autoptr(GString) accents = g_string_new(NULL);
    for (int i = 0; i < 500; i++) {
        g_string_append(accents, "\xc3\xa9");
    }
    memlog_append(log, G_LOG_LEVEL_INFO, "%s", accents->str);

    Collected collected;
    collected_init(&collected);
    memlog_flush(log, collect, &collected);
    /* Each long line filled the buffer alone: the earlier lines were dropped. */
    g_assert_cmpuint(collected.messages->len, ==, 2);
    const char *last = message_at(&collected, 1);
    g_assert_true(g_str_has_suffix(last, " [truncated]"));
    g_assert_cmpuint(strlen(last), <, MEMLOG_MIN_CAP);
    g_assert_true(g_utf8_validate(last, -1, NULL));
    collected_clear(&collected);
}

static void reentrant_append(GLogLevelFlags level, const char *message, gint64 real_time_us,
                             gpointer user_data)
{
    MemLog *log = user_data;
    memlog_append(log, G_LOG_LEVEL_DEBUG, "seen: %s", message);
}

static void test_flush_func_may_append(void)
{
    g_autoptr(MemLog) log = memlog_new(4096);
    memlog_append(log, G_LOG_LEVEL_INFO, "one");
    memlog_flush(log, reentrant_append, log);
    g_assert_cmpuint(memlog_get_length(log), ==, 1);

    Collected collected;
    collected_init(&collected);
    memlog_flush(log, collect, &collected);
    g_assert_cmpstr(message_at(&collected, 0), ==, "seen: one");
    collected_clear(&collected);
}

static void test_flush_to_glib(void)
{
    if (g_test_subprocess()) {
        /* g_test_init() makes WARNING and CRITICAL fatal; the flush must not. */
        g_log_set_always_fatal(G_LOG_FATAL_MASK);
        g_autoptr(MemLog) log = memlog_new(4096);
        memlog_append(log, G_LOG_LEVEL_MESSAGE, "thawed %d filesystems", 2);
        /* ERROR must not abort once it reaches GLib's log: sent as CRITICAL. */
        memlog_append(log, G_LOG_LEVEL_ERROR, "writer db failed");
        memlog_flush(log, memlog_func_glib, NULL);
        return;
    }
    g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
    g_test_trap_assert_passed();
    g_test_trap_assert_stderr("*Message*[logged while frozen at *] thawed 2 filesystems*"
                              "CRITICAL*[logged while frozen at *] writer db failed*");
}

static void collect_tag(GLogLevelFlags level, const char *message, const char *tag,
                        gint64 real_time_us, gpointer user_data)
{
    g_ptr_array_add(user_data, g_strdup_printf("%s|%s", tag ? tag : "(none)", message));
}

static void test_tags(void)
{
    g_autoptr(MemLog) log = memlog_new(4096);
    g_autoptr(MemLog) small = memlog_new(MEMLOG_MIN_CAP);
    g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func(g_free);
    g_autofree char *long_tag = g_strnfill(200, 't');
    g_autofree char *cut_tag = g_strnfill(MEMLOG_TAG_MAX, 't');
    g_autofree char *expected = g_strdup_printf("%s|third", cut_tag);
    g_autofree char *big = g_strnfill(1000, 'x');

    memlog_append_tagged(log, G_LOG_LEVEL_INFO, "session-1", "first %d", 1);
    memlog_append(log, G_LOG_LEVEL_INFO, "second");
    memlog_append_tagged(log, G_LOG_LEVEL_INFO, long_tag, "third");
    memlog_flush_tagged(log, collect_tag, lines);
    g_assert_cmpuint(lines->len, ==, 3);
    g_assert_cmpstr(g_ptr_array_index(lines, 0), ==, "session-1|first 1");
    g_assert_cmpstr(g_ptr_array_index(lines, 1), ==, "(none)|second");
    g_assert_cmpstr(g_ptr_array_index(lines, 2), ==, expected);

    /* The tag counts against the cap; a line over it is still cut to fit,
     * tag kept, and the dropped-lines note carries the oldest kept tag. */
    g_ptr_array_set_size(lines, 0);
    memlog_append_tagged(small, G_LOG_LEVEL_INFO, "s", "old");
    memlog_append_tagged(small, G_LOG_LEVEL_WARNING, "s2", "%s", big);
    memlog_flush_tagged(small, collect_tag, lines);
    g_assert_cmpuint(lines->len, ==, 2);
    g_assert_true(g_str_has_prefix(g_ptr_array_index(lines, 0), "s2|1 earlier log lines"));
    g_assert_true(g_str_has_prefix(g_ptr_array_index(lines, 1), "s2|xxx"));
    g_assert_true(g_str_has_suffix(g_ptr_array_index(lines, 1), " [truncated]"));
}

static const QuiesceTestFunc tests[] = {
    { "/memlog/order-and-levels", test_order_and_levels },
    { "/memlog/cap-drops-oldest", test_cap_drops_oldest },
    { "/memlog/long-line-truncated", test_long_line_truncated },
    { "/memlog/flush-func-may-append", test_flush_func_may_append },
    { "/memlog/flush-to-glib", test_flush_to_glib },
    { "/memlog/tags", test_tags },
};

QUIESCE_TEST_MAIN(tests)
