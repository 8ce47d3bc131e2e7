/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * writers-config.c — the writers' configuration (defaults, copies) and
 * what a writer is told about a session: the checked session id and a
 * script's environment (writers.h documents the variables).
 */
#include "agent/writers/writers.h"
#include "agent/writers/writers-private.h"

#include <string.h>

#include "client/quiesce-writer.h"
#include "common/quiesce-error.h"

#define WRITERS_DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

void writers_config_init(WritersConfig *config)
{
    static const char *const dirs[] = { WRITERS_DEFAULT_DIR, NULL };
    memset(config, 0, sizeof *config);
    config->script_dirs = g_strdupv((char **)dirs);
    config->compat_script_dirs = NULL;
    config->compat_detect = TRUE;
    config->socket_path = g_strdup(WRITERS_DEFAULT_SOCKET);
    config->writer_timeout_ms = WRITERS_DEFAULT_WRITER_TIMEOUT_MS;
    config->total_timeout_ms = WRITERS_DEFAULT_TOTAL_TIMEOUT_MS;
    config->output_cap = WRITERS_DEFAULT_OUTPUT_CAP;
    config->log_cap = WRITERS_DEFAULT_LOG_CAP;
    config->trusted_uid = 0;
}

void writers_config_clear(WritersConfig *config)
{
    g_clear_pointer(&config->script_dirs, g_strfreev);
    g_clear_pointer(&config->compat_script_dirs, g_strfreev);
    g_clear_pointer(&config->socket_path, g_free);
    g_clear_pointer(&config->socket_group, g_free);
}

void writers_config_copy(WritersConfig *to, const WritersConfig *from)
{
    *to = *from;
    to->script_dirs = g_strdupv(from->script_dirs);
    to->compat_script_dirs = g_strdupv(from->compat_script_dirs);
    to->socket_path = g_strdup(from->socket_path);
    to->socket_group = g_strdup(from->socket_group);
}

gboolean writers_context_validate(const WriterContext *context, GError **error)
{
    const char *id = context->session_id;
    if (!id) {
        return TRUE;
    }
    gsize len = strlen(id);
    gboolean ok = len > 0 && len <= QUIESCE_WRITER_SESSION_MAX;
    for (gsize i = 0; ok && i < len; i++) {
        ok = g_ascii_isalnum(id[i]) || strchr("._:-", id[i]);
    }
    if (!ok) {
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_INVALID_ARGUMENT,
                    "writers: invalid session id (1-%d of A-Z a-z 0-9 . _ : -)",
                    QUIESCE_WRITER_SESSION_MAX);
    }
    return ok;
}

/* (transfer full) The environment of a script run. */
char **writers_context_build_env(const WriterContext *context, WriterPhase phase)
{
    char **env = g_get_environ();
    if (!g_environ_getenv(env, "PATH")) {
        env = g_environ_setenv(env, "PATH", WRITERS_DEFAULT_PATH, TRUE);
    }
    env = g_environ_setenv(env, "QUIESCE_PHASE", writer_phase_to_string(phase), TRUE);
    if (context->session_id) {
        env = g_environ_setenv(env, "QUIESCE_SESSION_ID", context->session_id, TRUE);
    } else {
        env = g_environ_unsetenv(env, "QUIESCE_SESSION_ID");
    }
    g_autofree char *mounts = context->mountpoints
                                  ? g_strjoinv("\n", (char **)context->mountpoints)
                                  : g_strdup("");
    return g_environ_setenv(env, "QUIESCE_MOUNTPOINTS", mounts, TRUE);
}
