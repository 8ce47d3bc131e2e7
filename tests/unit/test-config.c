/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-config.c — the configuration file: the shipped sample parses and
 * changes nothing, settings apply, and typos or bad values are refused with
 * the file, group and key named (numbers outside their range included):
 * the refused files and their messages are tests/fixtures/config-errors.
 */
#include <glib/gstdio.h>

#include "agent/config.h"
#include "tests/support/test-run.h"

static char *write_config(const char *text)
{
    g_autoptr(GError) error = NULL;
    char *path = NULL;
    int fd = g_file_open_tmp("quiesce-config-XXXXXX.conf", &path, &error);

    g_assert_no_error(error);
    close(fd);
    g_assert_true(g_file_set_contents(path, text, -1, NULL));
    return path;
}

static gboolean load(const char *text, AgentConfig *agent, EngineConfig *engine, GError **error)
{
    g_autofree char *path = write_config(text);
    gboolean ok = config_load(path, TRUE, agent, engine, error);

    g_unlink(path);
    return ok;
}

/* A configuration that is refused and the text its message must contain. */
typedef struct {
    char *text;
    char *message;
} RefusedCase;

static void refused_case_free(RefusedCase *c)
{
    g_free(c->text);
    g_free(c->message);
    g_free(c);
}

/* The cases of @stage ("load" or "validate") in tests/fixtures/config-errors,
 * "stage TAB file text (C-escaped) TAB message part". */
static GPtrArray *read_refused_cases(const char *stage)
{
    g_autofree char *path =
        g_build_filename(g_getenv("QUIESCE_FIXTURES"), "config-errors", NULL);
    g_autofree char *contents = NULL;
    g_autoptr(GError) error = NULL;
    g_auto(GStrv) lines = NULL;
    GPtrArray *cases = g_ptr_array_new_with_free_func((GDestroyNotify)refused_case_free);

    g_assert_true(g_file_get_contents(path, &contents, NULL, &error));
    g_assert_no_error(error);
    lines = g_strsplit(contents, "\n", -1);
    for (guint i = 0; lines[i]; i++) {
        g_auto(GStrv) fields = NULL;
        RefusedCase *c;

        if (lines[i][0] == '\0' || lines[i][0] == '#') {
            continue;
        }
        fields = g_strsplit(lines[i], "\t", -1);
        if (g_strv_length(fields) != 3 ||
            (g_strcmp0(fields[0], "load") != 0 && g_strcmp0(fields[0], "validate") != 0)) {
            g_error("config-errors:%u: want load or validate, text and message, TAB-separated: %s",
                    i + 1, lines[i]);
        }
        if (g_strcmp0(fields[0], stage) != 0) {
            continue;
        }
        c = g_new0(RefusedCase, 1);
        c->text = g_strcompress(fields[1]);
        c->message = g_strdup(fields[2]);
        g_ptr_array_add(cases, c);
    }
    g_assert_cmpuint(cases->len, >, 0);
    return cases;
}

static void test_sample_is_all_defaults(void)
{
    g_autofree char *sample = g_build_filename(g_getenv("QUIESCE_SOURCE_DIR"), "systemd",
                                               "quiesced.conf", NULL);
    g_auto(AgentConfig) agent = { .max_depth = 64 };
    g_autoptr(EngineConfig) engine = engine_config_new();
    g_autoptr(GError) error = NULL;

    g_assert_true(config_load(sample, TRUE, &agent, engine, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(engine->host_lost_grace_seconds, ==, ENGINE_DEFAULT_HOST_LOST_GRACE_SECONDS);
    g_assert_cmpuint(engine->window_seconds, ==, ENGINE_DEFAULT_WINDOW_SECONDS);
    g_assert_cmpstr(engine->state_dir, ==, ENGINE_DEFAULT_STATE_DIR);
    g_assert_false(engine->policy->strict);
    g_assert_true(engine->expedite_rcu);
    g_assert_true(engine->flush_priority);
    g_assert_null(agent.channels);
}

static void test_settings_apply(void)
{
    g_auto(AgentConfig) agent = { 0 };
    g_autoptr(EngineConfig) engine = engine_config_new();
    g_autoptr(GError) error = NULL;

    g_assert_true(load("[agent]\nchannels=unix-listen:/a;vsock-listen:9\nblock-rpcs=guest-ping\n"
                       "max-depth=16\n[freeze]\nwindow=5\nhost-lost-grace=0\nstate-dir=/run/q\n"
                       "confine=/tmp\n"
                       "exclude=/srv/efi;/srv/scratch\nrunning-state-command=\n"
                       "expedite-rcu=false\nflush-priority=false\n"
                       "[eligibility]\nstrict=true\nallow-dynamic=true\n",
                       &agent, engine, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(g_strv_length(agent.channels), ==, 2);
    g_assert_cmpstr(agent.channels[1], ==, "vsock-listen:9");
    g_assert_cmpstr(agent.block_rpcs[0], ==, "guest-ping");
    g_assert_cmpuint(agent.max_depth, ==, 16);
    g_assert_cmpuint(engine->window_seconds, ==, 5);
    g_assert_cmpuint(engine->host_lost_grace_seconds, ==, 0);
    g_assert_cmpstr(engine->state_dir, ==, "/run/q");
    g_assert_cmpstr(engine->policy->confine, ==, "/tmp");
    g_assert_cmpuint(engine->policy->exclude->len, ==, 2);
    g_assert_cmpstr(engine->running_state_command, ==, "");
    g_assert_false(engine->expedite_rcu);
    g_assert_false(engine->flush_priority);
    g_assert_true(engine->policy->strict);
    g_assert_true(engine->policy->allow_dynamic);
}

static void test_errors_name_the_key(void)
{
    g_autoptr(GPtrArray) cases = read_refused_cases("load");

    for (guint i = 0; i < cases->len; i++) {
        const RefusedCase *c = g_ptr_array_index(cases, i);
        g_auto(AgentConfig) agent = { 0 };
        g_autoptr(EngineConfig) engine = engine_config_new();
        g_autoptr(GError) error = NULL;

        g_assert_false(load(c->text, &agent, engine, &error));
        g_assert_nonnull(error);
        g_assert_nonnull(strstr(error->message, c->message));
        g_assert_nonnull(strstr(error->message, "quiesce-config-"));
        /* Nothing half-applied that matters: defaults where the error was. */
        g_assert_cmpuint(engine->window_seconds, ==, ENGINE_DEFAULT_WINDOW_SECONDS);
    }
}

static void test_numeric_bounds_accepted(void)
{
    g_auto(AgentConfig) agent = { 0 };
    g_autoptr(EngineConfig) engine = engine_config_new();
    g_autoptr(GError) error = NULL;

    g_assert_true(load("[agent]\nmax-request-bytes=67108864\nmax-depth=2\n"
                       "[freeze]\nwindow=600\n[writers]\ntimeout=3600\n",
                       &agent, engine, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(agent.max_request_bytes, ==, CONFIG_MAX_REQUEST_BYTES_MAX);
    g_assert_cmpuint(agent.max_depth, ==, 2);
    g_assert_cmpuint(engine->window_seconds, ==, CONFIG_WINDOW_SECONDS_MAX);
    g_assert_cmpuint(engine->writers.writer_timeout_ms, ==, 3600 * 1000);
}

/* What only the whole configuration can say wrong (config_validate(), as
 * at start and under --check): each names its key. */
static void test_validate_names_the_key(void)
{
    g_autoptr(GPtrArray) cases = read_refused_cases("validate");

    for (guint i = 0; i < cases->len; i++) {
        const RefusedCase *c = g_ptr_array_index(cases, i);
        g_auto(AgentConfig) agent = { .channels = g_strsplit("virtio-serial", "\n", 0) };
        g_autoptr(EngineConfig) engine = engine_config_new();
        g_autoptr(GError) error = NULL;

        g_assert_true(load(c->text, &agent, engine, &error));
        g_assert_false(config_validate(&agent, engine, &error));
        g_assert_nonnull(error);
        g_test_message("%s", error->message);
        g_assert_nonnull(strstr(error->message, c->message));
    }
    /* A qemu-ga command quiesced lacks may be blocked (a carried-over list). */
    {
        g_auto(AgentConfig) agent = { .channels = g_strsplit("virtio-serial", "\n", 0) };
        g_autoptr(EngineConfig) engine = engine_config_new();
        g_autoptr(GError) error = NULL;

        g_assert_true(load("[agent]\nblock-rpcs=guest-exec;guest-file-open\n", &agent, engine,
                           &error));
        g_assert_true(config_validate(&agent, engine, &error));
        g_assert_no_error(error);
    }
}

/* --print-config: every key, in a form config_load() reads back the same. */
static void test_print_config_round_trips(void)
{
    /* main.c's defaults for what the file leaves out */
    g_auto(AgentConfig) agent = { .max_request_bytes = 1048576, .max_depth = 64 };
    g_auto(AgentConfig) again = { 0 };
    g_autoptr(EngineConfig) engine = engine_config_new();
    g_autoptr(EngineConfig) reread = engine_config_new();
    g_autoptr(GError) error = NULL;
    g_autofree char *text = NULL;
    g_autofree char *text_again = NULL;

    g_assert_true(load("[agent]\nchannels=unix-listen:/run/q.sock;vsock-listen:4000\n"
                       "block-rpcs=guest-exec\n[freeze]\nwindow=30\nexclude=/boot/efi\n"
                       "[writers]\ntimeout=5\n",
                       &agent, engine, &error));
    text = config_to_string(&agent, engine);
    g_test_message("%s", text);
    g_assert_nonnull(strstr(text, "window=30\n"));
    g_assert_nonnull(strstr(text, "exclude=/boot/efi;\n"));
    g_assert_nonnull(strstr(text, "channels=unix-listen:/run/q.sock;vsock-listen:4000;\n"));
    g_assert_true(load(text, &again, reread, &error));
    g_assert_no_error(error);
    text_again = config_to_string(&again, reread);
    g_assert_cmpstr(text, ==, text_again);
}

static void test_missing_file(void)
{
    g_auto(AgentConfig) agent = { 0 };
    g_autoptr(EngineConfig) engine = engine_config_new();
    g_autoptr(GError) error = NULL;

    g_assert_true(config_load("/nonexistent/quiesced.conf", FALSE, &agent, engine, &error));
    g_assert_false(config_load("/nonexistent/quiesced.conf", TRUE, &agent, engine, &error));
    g_assert_nonnull(strstr(error->message, "/nonexistent/quiesced.conf"));
}

static const QuiesceTestFunc tests[] = {
    { "/config/sample-is-all-defaults", test_sample_is_all_defaults },
    { "/config/settings-apply", test_settings_apply },
    { "/config/errors-name-the-key", test_errors_name_the_key },
    { "/config/numeric-bounds-accepted", test_numeric_bounds_accepted },
    { "/config/missing-file", test_missing_file },
    { "/config/validate-names-the-key", test_validate_names_the_key },
    { "/config/print-config-round-trips", test_print_config_round_trips },
};

QUIESCE_TEST_MAIN(tests)
