/*
 * config.h — /etc/quiesce/quiesced.conf (GKeyFile), documented by the
 * commented sample systemd/quiesced.conf. Command-line options override the
 * file. Unknown groups or keys and bad values are errors naming the file, the
 * key and what was expected, so a typo cannot silently weaken a policy.
 */
#ifndef QUIESCE_AGENT_CONFIG_H
#define QUIESCE_AGENT_CONFIG_H

#include <glib.h>

#include "agent/agent.h"
#include "agent/engine.h"

#define CONFIG_DEFAULT_PATH "/etc/quiesce/quiesced.conf"

/* Applies the file's settings onto agent and engine (which hold defaults).
 * A missing file is an error only when must_exist. */
gboolean config_load(const char *path, gboolean must_exist, AgentConfig *agent,
                     EngineConfig *engine, GError **error);

#endif
