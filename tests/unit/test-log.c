/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-log.c — the agent's log writer (agent/log.h): the journal fields of a
 * normal line, a line of a snapshot session and a line held while frozen;
 * which way a line goes (journal, the journal's stream as a fallback,
 * plain stderr), through the seam AgentLog.journal_writer in place of
 * g_log_writer_journald(). The datagrams GLib then sends to the journal's
 * socket are checked by tests/integration/test-journal-native.sh.
 */
#include <stdio.h>
#include <string.h>

#include "agent/log.h"
#include "tests/support/test-run.h"

#define SESSION "5e0a1f7c-3b7e-4c1e-9d58-2f6a4a9c0b11"
#define HELD_TIME_US G_GINT64_CONSTANT(1714644672345678) /* 2024-05-02T10:11:12.345678Z */

/* One entry as "KEY=VALUE\n" lines, in field order. */
static char *fields_text(const GLogField *fields, gsize n_fields)
{
    GString *text = g_string_new(NULL);

    for (gsize i = 0; i < n_fields; i++) {
        gsize length = fields[i].length < 0 ? strlen(fields[i].value) : (gsize)fields[i].length;
        g_string_append_printf(text, "%s=%.*s\n", fields[i].key, (int)length,
                               (const char *)fields[i].value);
    }
    return g_string_free(text, FALSE);
}

static char *build_text(GLogLevelFlags level, const char *message, const char *session,
                        gint64 held_time_us, const GLogField *given, gsize n_given)
{
    AgentLogFields out;
    char *text;

    agent_log_fields_build(&out, level, message, session, held_time_us, given, n_given);
    text = fields_text(out.fields, out.n_fields);
    agent_log_fields_clear(&out);
    return text;
}

/* What g_warning() passes with G_LOG_USE_STRUCTURED off (g_logv()), plus a
 * structured call's code location. */
static const GLogField given[] = {
    { "PRIORITY", "4", -1 },         { "GLIB_OLD_LOG_API", "1", -1 },
    { "MESSAGE", "ignored", -1 },    { "GLIB_DOMAIN", "quiesced", -1 },
    { "CODE_FILE", "agent.c", -1 },  { "CODE_LINE", "42", -1 },
    { "QUIESCE_SESSION", "forged", -1 },
};

static void test_fields_normal(void)
{
    g_autofree char *text =
        build_text(G_LOG_LEVEL_WARNING, "serving qga on x", NULL, 0, given, G_N_ELEMENTS(given));

    g_assert_cmpstr(text, ==,
                    "MESSAGE=serving qga on x\n"
                    "PRIORITY=4\n"
                    "SYSLOG_IDENTIFIER=quiesced\n"
                    "GLIB_DOMAIN=quiesced\n"
                    "CODE_FILE=agent.c\n"
                    "CODE_LINE=42\n");
}

static void test_fields_session(void)
{
    g_autofree char *text = build_text(G_LOG_LEVEL_INFO, "froze 2", SESSION, 0, NULL, 0);
    g_autofree char *empty = build_text(G_LOG_LEVEL_DEBUG, "x", "", 0, NULL, 0);

    g_assert_cmpstr(text, ==,
                    "MESSAGE=froze 2\n"
                    "PRIORITY=6\n"
                    "SYSLOG_IDENTIFIER=quiesced\n"
                    "QUIESCE_SESSION=" SESSION "\n");
    g_assert_cmpstr(empty, ==, "MESSAGE=x\nPRIORITY=7\nSYSLOG_IDENTIFIER=quiesced\n");
}

/* The text's time is local, as journalctl prints the entry's own. */
static char *held_prefix(gint64 real_time_us)
{
    g_autoptr(GDateTime) when = g_date_time_new_from_unix_local(real_time_us / G_USEC_PER_SEC);
    g_autofree char *stamp = g_date_time_format(when, "%H:%M:%S");

    return g_strdup_printf("[logged while frozen at %s.%06d] ", stamp,
                           (int)(real_time_us % G_USEC_PER_SEC));
}

static void test_fields_held(void)
{
    g_autofree char *prefix = held_prefix(HELD_TIME_US);
    g_autofree char *text =
        build_text(G_LOG_LEVEL_CRITICAL, "thaw failed", SESSION, HELD_TIME_US, NULL, 0);
    g_autofree char *expected = g_strdup_printf("MESSAGE=%sthaw failed\n"
                                                "PRIORITY=3\n"
                                                "SYSLOG_IDENTIFIER=quiesced\n"
                                                "QUIESCE_SESSION=" SESSION "\n"
                                                "QUIESCE_HELD=1\n"
                                                "QUIESCE_TIME=2024-05-02T10:11:12.345678Z\n",
                                                prefix);

    g_assert_cmpstr(text, ==, expected);
}

static void test_fields_bounded(void)
{
    GLogField many[20];
    g_autoptr(GPtrArray) keys = g_ptr_array_new_with_free_func(g_free);
    AgentLogFields out;

    for (gsize i = 0; i < G_N_ELEMENTS(many); i++) {
        g_ptr_array_add(keys, g_strdup_printf("EXTRA_%zu", i));
        many[i] = (GLogField){ g_ptr_array_index(keys, i), "v", -1 };
    }
    agent_log_fields_build(&out, G_LOG_LEVEL_MESSAGE, "m", SESSION, HELD_TIME_US, many,
                           G_N_ELEMENTS(many));
    g_assert_cmpuint(out.n_fields, ==, AGENT_LOG_FIELDS_MAX);
    g_assert_cmpstr(out.fields[AGENT_LOG_FIELDS_MAX - 1].key, ==, "EXTRA_7");
    agent_log_fields_clear(&out);
}

/* The journal seam: keeps each entry's text, answers as told. */
typedef struct {
    GPtrArray *entries;
    GLogWriterOutput answer;
} Journal;

static GLogWriterOutput journal_capture(GLogLevelFlags level, const GLogField *fields,
                                        gsize n_fields, gpointer user_data)
{
    Journal *journal = user_data;

    g_ptr_array_add(journal->entries, fields_text(fields, n_fields));
    return journal->answer;
}

static void write_line(AgentLog *log, GLogLevelFlags level, const char *message)
{
    const GLogField fields[] = { { "MESSAGE", message, -1 }, { "PRIORITY", "x", -1 } };

    agent_log_write(level, fields, G_N_ELEMENTS(fields), log);
}

static const char *entry_at(const Journal *journal, guint i)
{
    return g_ptr_array_index(journal->entries, i);
}

static void test_journal_lines(void)
{
    Journal journal = { g_ptr_array_new_with_free_func(g_free), G_LOG_WRITER_HANDLED };
    AgentLog log = { .journal = TRUE, .journal_writer = journal_capture,
                     .journal_writer_data = &journal };
    g_autofree char *held_text = NULL;
    gint64 before;

    write_line(&log, G_LOG_LEVEL_INFO, "serving");
    write_line(&log, G_LOG_LEVEL_DEBUG, "not verbose: dropped");
    agent_log_set_session(&log, SESSION);
    write_line(&log, G_LOG_LEVEL_MESSAGE, "prepare");
    g_assert_cmpuint(journal.entries->len, ==, 2);
    g_assert_cmpstr(entry_at(&journal, 0), ==,
                    "MESSAGE=serving\nPRIORITY=6\nSYSLOG_IDENTIFIER=quiesced\n");
    g_assert_cmpstr(entry_at(&journal, 1), ==,
                    "MESSAGE=prepare\nPRIORITY=5\nSYSLOG_IDENTIFIER=quiesced\n"
                    "QUIESCE_SESSION=" SESSION "\n");

    /* Held while frozen: nothing sent until the thaw, then each line with
     * the session it was logged in and the time it was logged. */
    before = g_get_real_time();
    agent_log_hold(&log, TRUE);
    write_line(&log, G_LOG_LEVEL_WARNING, "writer slow");
    agent_log_set_session(&log, NULL);
    write_line(&log, G_LOG_LEVEL_INFO, "after the session");
    g_assert_cmpuint(journal.entries->len, ==, 2);
    agent_log_hold(&log, FALSE);
    g_assert_cmpuint(journal.entries->len, ==, 4);
    held_text = g_strdup(entry_at(&journal, 2));
    g_assert_true(g_str_has_prefix(held_text, "MESSAGE=[logged while frozen at "));
    g_assert_nonnull(strstr(held_text, "] writer slow\nPRIORITY=4\nSYSLOG_IDENTIFIER=quiesced\n"
                                       "QUIESCE_SESSION=" SESSION "\nQUIESCE_HELD=1\n"
                                       "QUIESCE_TIME="));
    g_assert_null(strstr(entry_at(&journal, 3), "QUIESCE_SESSION="));
    g_assert_nonnull(strstr(entry_at(&journal, 3), "QUIESCE_HELD=1\n"));
    {
        /* QUIESCE_TIME is the time of the append, to the µs. */
        const char *value = strstr(held_text, "QUIESCE_TIME=") + strlen("QUIESCE_TIME=");
        g_autofree char *stamp = g_strndup(value, strcspn(value, "\n"));
        g_autoptr(GDateTime) parsed = g_date_time_new_from_iso8601(stamp, NULL);
        gint64 logged;

        g_assert_nonnull(parsed);
        g_assert_true(g_str_has_suffix(stamp, "Z"));
        g_assert_cmpuint(strlen(stamp), ==, strlen("2024-05-02T10:11:12.345678Z"));
        logged = g_date_time_to_unix(parsed) * G_USEC_PER_SEC +
                 g_date_time_get_microsecond(parsed);
        g_assert_cmpint(logged, >=, before);
        g_assert_cmpint(logged, <=, g_get_real_time());
    }

    /* After the thaw lines go out at once again, without QUIESCE_HELD. */
    write_line(&log, G_LOG_LEVEL_INFO, "thawed");
    g_assert_cmpstr(entry_at(&journal, 4), ==,
                    "MESSAGE=thawed\nPRIORITY=6\nSYSLOG_IDENTIFIER=quiesced\n");
    g_ptr_array_unref(journal.entries);
}

/* Not the journal: stderr exactly as before native logging (held lines
 * with no time); the journal, but its socket refuses: the stream's "<N>"
 * form, with the held line's time in the text. */
static void test_stderr_lines(void)
{
    if (g_test_subprocess()) {
        Journal journal = { g_ptr_array_new_with_free_func(g_free), G_LOG_WRITER_UNHANDLED };
        AgentLog plain = { .journal = FALSE, .journal_writer = journal_capture,
                           .journal_writer_data = &journal };
        AgentLog stream = { .journal = TRUE, .journal_writer = journal_capture,
                            .journal_writer_data = &journal };

        agent_log_set_session(&plain, SESSION);
        write_line(&plain, G_LOG_LEVEL_WARNING, "plain now");
        agent_log_hold(&plain, TRUE);
        write_line(&plain, G_LOG_LEVEL_INFO, "plain held");
        agent_log_hold(&plain, FALSE);
        g_assert_cmpuint(journal.entries->len, ==, 0);
        write_line(&stream, G_LOG_LEVEL_WARNING, "stream now");
        agent_log_hold(&stream, TRUE);
        write_line(&stream, G_LOG_LEVEL_CRITICAL, "stream held");
        agent_log_hold(&stream, FALSE);
        g_assert_cmpuint(journal.entries->len, ==, 2); /* tried, refused */
        g_ptr_array_unref(journal.entries);
        return;
    }
    g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
    g_test_trap_assert_passed();
    g_test_trap_assert_stderr("quiesced: warning: plain now\n"
                              "quiesced: info: plain held\n"
                              "<4>stream now\n"
                              "<3>[logged while frozen at *] stream held\n");
}

/* After the thaw the held lines wait for agent_log_hold(FALSE) (the agent
 * writes them once the thaw's reply is out); what is logged meanwhile goes
 * out behind them as an ordinary line, and holding again first writes them
 * all. */
static void test_journal_after_thaw(void)
{
    Journal journal = { g_ptr_array_new_with_free_func(g_free), G_LOG_WRITER_HANDLED };
    AgentLog log = { .journal = TRUE, .journal_writer = journal_capture,
                     .journal_writer_data = &journal };

    agent_log_hold(&log, TRUE);
    write_line(&log, G_LOG_LEVEL_WARNING, "frozen line");
    g_assert_true(agent_log_holding_frozen(&log));
    g_usleep(1000); /* times to the µs: a line in the thaw's µs is held */
    agent_log_thawed(&log);
    g_assert_false(agent_log_holding_frozen(&log));
    g_usleep(1000);
    write_line(&log, G_LOG_LEVEL_INFO, "thawed line");
    g_assert_cmpuint(journal.entries->len, ==, 0);
    agent_log_hold(&log, FALSE);
    g_assert_cmpuint(journal.entries->len, ==, 2);
    g_assert_true(g_str_has_prefix(entry_at(&journal, 0), "MESSAGE=[logged while frozen at "));
    g_assert_nonnull(strstr(entry_at(&journal, 0), "QUIESCE_HELD=1\n"));
    g_assert_cmpstr(entry_at(&journal, 1), ==,
                    "MESSAGE=thawed line\nPRIORITY=6\nSYSLOG_IDENTIFIER=quiesced\n");
    g_assert_null(log.held);
    g_assert_cmpint(log.thawed_us, ==, 0);

    /* Frozen again before the queued lines went out: they go out first. */
    agent_log_hold(&log, TRUE);
    write_line(&log, G_LOG_LEVEL_WARNING, "first");
    g_usleep(1000);
    agent_log_thawed(&log);
    g_usleep(1000);
    write_line(&log, G_LOG_LEVEL_INFO, "between");
    agent_log_hold(&log, TRUE);
    g_assert_cmpuint(journal.entries->len, ==, 4);
    g_assert_nonnull(strstr(entry_at(&journal, 2), "] first\n"));
    g_assert_cmpstr(entry_at(&journal, 3), ==,
                    "MESSAGE=between\nPRIORITY=6\nSYSLOG_IDENTIFIER=quiesced\n");
    g_assert_true(agent_log_holding_frozen(&log));
    write_line(&log, G_LOG_LEVEL_WARNING, "second");
    agent_log_hold(&log, FALSE);
    g_assert_cmpuint(journal.entries->len, ==, 5);
    g_assert_nonnull(strstr(entry_at(&journal, 4), "QUIESCE_HELD=1\n"));
    g_ptr_array_unref(journal.entries);
}

static const QuiesceTestFunc tests[] = {
    { "/log/fields/normal", test_fields_normal },
    { "/log/fields/session", test_fields_session },
    { "/log/fields/held", test_fields_held },
    { "/log/fields/bounded", test_fields_bounded },
    { "/log/journal-lines", test_journal_lines },
    { "/log/journal-after-thaw", test_journal_after_thaw },
    { "/log/stderr-lines", test_stderr_lines },
};

QUIESCE_TEST_MAIN(tests)
