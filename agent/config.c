/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * config.c — see the header.
 */
#include "agent/config.h"

#include <grp.h>

#include "agent/commands/commands.h"
#include "common/quiesce-error.h"
#include "transports/transport.h"

typedef struct {
    const char *group;
    const char *const *keys;
} ConfigGroup;

static const char *const agent_keys[] = { "channels", "allow-rpcs", "block-rpcs",
                                          "max-request-bytes", "max-depth", NULL };
static const char *const freeze_keys[] = {
    "window",       "host-lost-grace", "state-dir", "confine", "exclude", "running-state-command",
    "expedite-rcu", "flush-priority",  NULL};
static const char *const eligibility_keys[] = { "strict", "allow-dynamic", NULL };
static const char *const writers_keys[] = { "directories", "compat-directories", "socket",
                                            "socket-group", "timeout", "total-timeout", NULL };
static const ConfigGroup config_groups[] = {
    { "agent", agent_keys },
    { "freeze", freeze_keys },
    { "eligibility", eligibility_keys },
    { "writers", writers_keys },
};

static gboolean config_check_names(GKeyFile *file, const char *path, GError **error)
{
    g_auto(GStrv) groups = g_key_file_get_groups(file, NULL);

    for (char **group = groups; *group; group++) {
        const ConfigGroup *known = NULL;
        g_auto(GStrv) keys = NULL;
        for (gsize i = 0; i < G_N_ELEMENTS(config_groups); i++) {
            if (g_str_equal(config_groups[i].group, *group)) {
                known = &config_groups[i];
            }
        }
        if (!known) {
            g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_INVALID_ARGUMENT,
                        "%s: unknown group [%s]", path, *group);
            return FALSE;
        }
        keys = g_key_file_get_keys(file, *group, NULL, NULL);
        for (char **key = keys; key && *key; key++) {
            if (!g_strv_contains(known->keys, *key)) {
                g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_INVALID_ARGUMENT,
                            "%s: unknown key '%s' in [%s]", path, *key, *group);
                return FALSE;
            }
        }
    }
    return TRUE;
}

/* Reads an optional value with a typed getter; errors name file and key. */
static gboolean config_fail(GError **error, const char *path, const char *group,
                            const char *key, GError *cause)
{
    g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_INVALID_ARGUMENT, "%s: [%s] %s: %s", path,
                group, key, cause->message);
    g_error_free(cause);
    return FALSE;
}

gboolean config_check_confine(const char *dir, GError **error)
{
    if (!g_file_test(dir, G_FILE_TEST_IS_DIR)) {
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_INVALID_ARGUMENT,
                    "the confine directory %s does not exist or is not a directory", dir);
        return FALSE;
    }
    return TRUE;
}

gboolean config_parse_number(const char *text, gint64 min, gint64 max, gint64 *out, GError **error)
{
    gint64 value;

    if (!g_ascii_string_to_signed(text, 10, min, max, &value, NULL)) {
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_INVALID_ARGUMENT,
                    "must be a whole number from %" G_GINT64_FORMAT " to %" G_GINT64_FORMAT
                    ", not '%s'",
                    min, max, text);
        return FALSE;
    }
    *out = value;
    return TRUE;
}

/* An optional numeric key in [min, max]; *out is left alone when absent. */
static gboolean config_load_number(GKeyFile *file, const char *path, const char *group,
                                   const char *key, gint64 min, gint64 max, gint64 *out,
                                   GError **error)
{
    g_autofree char *text = g_key_file_get_value(file, group, key, NULL);
    GError *cause = NULL;

    if (!text) {
        return TRUE;
    }
    if (!config_parse_number(g_strstrip(text), min, max, out, &cause)) {
        return config_fail(error, path, group, key, cause);
    }
    return TRUE;
}

static gboolean config_load_agent(GKeyFile *file, const char *path, AgentConfig *agent,
                                  GError **error)
{
    gint64 bytes = (gint64)agent->max_request_bytes;
    gint64 depth = agent->max_depth;

    if (g_key_file_has_key(file, "agent", "channels", NULL)) {
        g_strfreev(agent->channels);
        agent->channels = g_key_file_get_string_list(file, "agent", "channels", NULL, NULL);
    }
    if (g_key_file_has_key(file, "agent", "allow-rpcs", NULL)) {
        g_strfreev(agent->allow_rpcs);
        agent->allow_rpcs = g_key_file_get_string_list(file, "agent", "allow-rpcs", NULL, NULL);
    }
    if (g_key_file_has_key(file, "agent", "block-rpcs", NULL)) {
        g_strfreev(agent->block_rpcs);
        agent->block_rpcs = g_key_file_get_string_list(file, "agent", "block-rpcs", NULL, NULL);
    }
    if (!config_load_number(file, path, "agent", "max-request-bytes", CONFIG_MAX_REQUEST_BYTES_MIN,
                            CONFIG_MAX_REQUEST_BYTES_MAX, &bytes, error) ||
        !config_load_number(file, path, "agent", "max-depth", CONFIG_MAX_DEPTH_MIN,
                            CONFIG_MAX_DEPTH_MAX, &depth, error)) {
        return FALSE;
    }
    agent->max_request_bytes = (gsize)bytes;
    agent->max_depth = (guint)depth;
    return TRUE;
}

static gboolean config_load_freeze(GKeyFile *file, const char *path, EngineConfig *engine,
                                   GError **error)
{
    GError *cause = NULL;
    gint64 window = engine->window_seconds;
    gint64 grace = engine->host_lost_grace_seconds;

    if (!config_load_number(file, path, "freeze", "window", CONFIG_WINDOW_SECONDS_MIN,
                            CONFIG_WINDOW_SECONDS_MAX, &window, error)) {
        return FALSE;
    }
    engine->window_seconds = (guint)window;
    if (!config_load_number(file, path, "freeze", "host-lost-grace", CONFIG_HOST_LOST_GRACE_MIN,
                            CONFIG_HOST_LOST_GRACE_MAX, &grace, error)) {
        return FALSE;
    }
    engine->host_lost_grace_seconds = (guint)grace;
    if (g_key_file_has_key(file, "freeze", "state-dir", NULL)) {
        g_free(engine->state_dir);
        engine->state_dir = g_key_file_get_string(file, "freeze", "state-dir", NULL);
    }
    if (g_key_file_has_key(file, "freeze", "running-state-command", NULL)) {
        g_free(engine->running_state_command);
        engine->running_state_command =
            g_key_file_get_string(file, "freeze", "running-state-command", NULL);
    }
    if (g_key_file_has_key(file, "freeze", "confine", NULL)) {
        g_autofree char *dir = g_key_file_get_string(file, "freeze", "confine", NULL);
        if ((*dir && !config_check_confine(dir, &cause)) ||
            !eligibility_policy_set_confine(engine->policy, *dir ? dir : NULL, &cause)) {
            return config_fail(error, path, "freeze", "confine", cause);
        }
    }
    if (g_key_file_has_key(file, "freeze", "exclude", NULL)) {
        g_auto(GStrv) list = g_key_file_get_string_list(file, "freeze", "exclude", NULL, NULL);
        for (char **m = list; m && *m; m++) {
            if (**m && !eligibility_policy_add_exclude(engine->policy, *m, &cause)) {
                return config_fail(error, path, "freeze", "exclude", cause);
            }
        }
    }
    return TRUE;
}

static gboolean config_load_bool(GKeyFile *file, const char *path, const char *group,
                                 const char *key, gboolean *out, GError **error)
{
    GError *cause = NULL;
    gboolean value;

    if (!g_key_file_has_key(file, group, key, NULL)) {
        return TRUE;
    }
    value = g_key_file_get_boolean(file, group, key, &cause);
    if (cause) {
        return config_fail(error, path, group, key, cause);
    }
    *out = value;
    return TRUE;
}

/* A list key replaces the list; an empty value means none. */
static void config_take_list(GKeyFile *file, const char *key, char ***list)
{
    if (g_key_file_has_key(file, "writers", key, NULL)) {
        g_strfreev(*list);
        *list = g_key_file_get_string_list(file, "writers", key, NULL, NULL);
    }
}

static gboolean config_load_seconds(GKeyFile *file, const char *path, const char *key,
                                    guint *out_ms, GError **error)
{
    gint64 seconds = 0; /* stays 0 when the key is absent */

    if (!config_load_number(file, path, "writers", key, 1, 3600, &seconds, error)) {
        return FALSE;
    }
    if (seconds > 0) {
        *out_ms = (guint)seconds * 1000;
    }
    return TRUE;
}

static gboolean config_load_writers(GKeyFile *file, const char *path, WritersConfig *writers,
                                    GError **error)
{
    config_take_list(file, "directories", &writers->script_dirs);
    if (g_key_file_has_key(file, "writers", "compat-directories", NULL)) {
        writers->compat_detect = FALSE; /* even when empty: none, said so */
    }
    config_take_list(file, "compat-directories", &writers->compat_script_dirs);
    if (g_key_file_has_key(file, "writers", "socket", NULL)) {
        g_autofree char *socket = g_key_file_get_string(file, "writers", "socket", NULL);
        g_free(writers->socket_path);
        writers->socket_path = *socket ? g_steal_pointer(&socket) : NULL;
    }
    if (g_key_file_has_key(file, "writers", "socket-group", NULL)) {
        g_autofree char *group = g_key_file_get_string(file, "writers", "socket-group", NULL);
        g_free(writers->socket_group);
        writers->socket_group = *group ? g_steal_pointer(&group) : NULL;
    }
    return config_load_seconds(file, path, "timeout", &writers->writer_timeout_ms, error) &&
           config_load_seconds(file, path, "total-timeout", &writers->total_timeout_ms, error);
}

gboolean config_load(const char *path, gboolean must_exist, AgentConfig *agent,
                     EngineConfig *engine, GError **error)
{
    g_autoptr(GKeyFile) file = g_key_file_new();
    g_autoptr(GError) cause = NULL;
    g_autofree char *text = NULL;
    gsize length = 0;
    const char *bad = NULL;

    if (!g_file_get_contents(path, &text, &length, &cause)) {
        if (!must_exist && g_error_matches(cause, G_FILE_ERROR, G_FILE_ERROR_NOENT)) {
            return TRUE;
        }
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_INVALID_ARGUMENT, "%s: %s", path,
                    cause->message);
        return FALSE;
    }
    /* GKeyFile parses any bytes but hands back no string value that is not
     * UTF-8 (NULL instead): refuse the file whole, naming the line. */
    if (!g_utf8_validate(text, (gssize)length, &bad)) {
        guint line = 1;
        for (const char *c = text; c < bad; c++) {
            line += *c == '\n';
        }
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_INVALID_ARGUMENT,
                    "%s: line %u is not valid UTF-8", path, line);
        return FALSE;
    }
    if (!g_key_file_load_from_data(file, text, length, G_KEY_FILE_NONE, &cause)) {
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_INVALID_ARGUMENT, "%s: %s", path,
                    cause->message);
        return FALSE;
    }
    return config_check_names(file, path, error) && config_load_agent(file, path, agent, error) &&
           config_load_freeze(file, path, engine, error) &&
           config_load_bool(file, path, "freeze", "expedite-rcu", &engine->expedite_rcu, error) &&
           config_load_bool(file, path, "freeze", "flush-priority", &engine->flush_priority,
                            error) &&
           config_load_bool(file, path, "eligibility", "strict", &engine->policy->strict, error) &&
           config_load_bool(file, path, "eligibility", "allow-dynamic",
                            &engine->policy->allow_dynamic, error) &&
           config_load_writers(file, path, &engine->writers, error);
}

/* Every path of a list key must be absolute: the agent's working directory
 * is no place a person meant. */
static gboolean config_check_absolute(const char *group, const char *key,
                                      const char *const *paths, GError **error)
{
    for (guint i = 0; paths && paths[i]; i++) {
        if (*paths[i] && !g_path_is_absolute(paths[i])) {
            g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_INVALID_ARGUMENT,
                        "[%s] %s: '%s' is not an absolute path", group, key, paths[i]);
            return FALSE;
        }
    }
    return TRUE;
}

static gboolean config_check_commands(const char *key, char **names, GError **error)
{
    for (guint i = 0; names && names[i]; i++) {
        g_autofree char *name = g_strstrip(g_strdup(names[i]));
        if (*name && !commands_name_is_known(name)) {
            g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_INVALID_ARGUMENT,
                        "[agent] %s: no command is named '%s'", key, name);
            return FALSE;
        }
    }
    return TRUE;
}

/* The channels' kinds, and the writers' group and paths: what would
 * otherwise only fail when the agent opens them, or never (a group that
 * does not exist admits nobody, silently). */
static gboolean config_validate_names(const AgentConfig *agent, const EngineConfig *engine,
                                      GError **error)
{
    const WritersConfig *writers = &engine->writers;
    const char *socket[] = { writers->socket_path, NULL };
    const char *confine[] = { engine->policy->confine, NULL };

    for (guint i = 0; agent->channels && agent->channels[i]; i++) {
        TransportFraming framing;
        g_autoptr(GError) cause = NULL;
        if (!transport_spec_framing(agent->channels[i], &framing, &cause)) {
            g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_INVALID_ARGUMENT,
                        "[agent] channels (or --channel): %s", cause->message);
            return FALSE;
        }
    }
    if (!config_check_commands("allow-rpcs", agent->allow_rpcs, error) ||
        !config_check_commands("block-rpcs", agent->block_rpcs, error)) {
        return FALSE;
    }
    if (writers->socket_group && !getgrnam(writers->socket_group)) {
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_INVALID_ARGUMENT,
                    "[writers] socket-group: no group named '%s'", writers->socket_group);
        return FALSE;
    }
    return config_check_absolute("writers", "directories",
                                 (const char *const *)writers->script_dirs, error) &&
           config_check_absolute("writers", "compat-directories",
                                 (const char *const *)writers->compat_script_dirs, error) &&
           config_check_absolute("writers", "socket", socket, error) &&
           config_check_absolute("freeze", "confine", confine, error);
}

/* Settings that are each in range but wrong, or wrong together. Checked
 * once the file and the command line are both applied. */
gboolean config_validate(const AgentConfig *agent, const EngineConfig *engine, GError **error)
{
    const char *state_dir = engine->state_dir ? engine->state_dir : "";
    guint n = agent->channels ? g_strv_length(agent->channels) : 0;

    if (n == 0) {
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_INVALID_ARGUMENT,
                    "no channel to serve: [agent] channels (or --channel) is empty; name at "
                    "least one KIND:ADDRESS");
        return FALSE;
    }
    for (guint i = 0; i < n; i++) {
        if (!*agent->channels[i]) {
            g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_INVALID_ARGUMENT,
                        "an empty channel in [agent] channels; name each as KIND:ADDRESS");
            return FALSE;
        }
        for (guint j = 0; j < i; j++) {
            if (g_str_equal(agent->channels[i], agent->channels[j])) {
                g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_INVALID_ARGUMENT,
                            "channel %s is configured twice; the second would take the "
                            "first one's place",
                            agent->channels[i]);
                return FALSE;
            }
        }
    }
    if (!g_path_is_absolute(state_dir)) {
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_INVALID_ARGUMENT,
                    "[freeze] state-dir must be an absolute path, not '%s' (default "
                    ENGINE_DEFAULT_STATE_DIR ")",
                    state_dir);
        return FALSE;
    }
    if (engine->writers.total_timeout_ms < engine->writers.writer_timeout_ms) {
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_INVALID_ARGUMENT,
                    "[writers] total-timeout (%u s) is shorter than timeout (%u s): a phase "
                    "must leave each writer its own time",
                    engine->writers.total_timeout_ms / 1000,
                    engine->writers.writer_timeout_ms / 1000);
        return FALSE;
    }
    return config_validate_names(agent, engine, error);
}

static void config_set_list(GKeyFile *file, const char *group, const char *key, char **list)
{
    g_key_file_set_string_list(file, group, key, (const char *const *)list,
                               list ? g_strv_length(list) : 0);
}

char *config_to_string(const AgentConfig *agent, const EngineConfig *engine)
{
    g_autoptr(GKeyFile) file = g_key_file_new();
    const EligibilityPolicy *policy = engine->policy;
    const WritersConfig *writers = &engine->writers;
    g_autoptr(GPtrArray) excludes = g_ptr_array_new();

    config_set_list(file, "agent", "channels", agent->channels);
    config_set_list(file, "agent", "allow-rpcs", agent->allow_rpcs);
    config_set_list(file, "agent", "block-rpcs", agent->block_rpcs);
    g_key_file_set_uint64(file, "agent", "max-request-bytes", agent->max_request_bytes);
    g_key_file_set_uint64(file, "agent", "max-depth", agent->max_depth);
    g_key_file_set_uint64(file, "freeze", "window", engine->window_seconds);
    g_key_file_set_uint64(file, "freeze", "host-lost-grace", engine->host_lost_grace_seconds);
    g_key_file_set_string(file, "freeze", "state-dir", engine->state_dir);
    g_key_file_set_string(file, "freeze", "confine", policy->confine ? policy->confine : "");
    for (guint i = 0; policy->exclude && i < policy->exclude->len; i++) {
        g_ptr_array_add(excludes, g_ptr_array_index(policy->exclude, i));
    }
    g_ptr_array_add(excludes, NULL);
    config_set_list(file, "freeze", "exclude", (char **)excludes->pdata);
    g_key_file_set_string(file, "freeze", "running-state-command",
                          engine->running_state_command ? engine->running_state_command : "");
    g_key_file_set_boolean(file, "freeze", "expedite-rcu", engine->expedite_rcu);
    g_key_file_set_boolean(file, "freeze", "flush-priority", engine->flush_priority);
    g_key_file_set_boolean(file, "eligibility", "strict", policy->strict);
    g_key_file_set_boolean(file, "eligibility", "allow-dynamic", policy->allow_dynamic);
    config_set_list(file, "writers", "directories", writers->script_dirs);
    config_set_list(file, "writers", "compat-directories", writers->compat_script_dirs);
    g_key_file_set_string(file, "writers", "socket",
                          writers->socket_path ? writers->socket_path : "");
    g_key_file_set_string(file, "writers", "socket-group",
                          writers->socket_group ? writers->socket_group : "");
    g_key_file_set_uint64(file, "writers", "timeout", writers->writer_timeout_ms / 1000);
    g_key_file_set_uint64(file, "writers", "total-timeout", writers->total_timeout_ms / 1000);
    return g_key_file_to_data(file, NULL, NULL);
}
