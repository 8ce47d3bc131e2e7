/* SPDX-License-Identifier: GPL-2.0-or-later */
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
#include "agent/engine/engine.h"

#define CONFIG_DEFAULT_PATH "/etc/quiesce/quiesced.conf"

/*
 * Ranges of the numeric settings, the same on the command line and in the
 * file. Requests: QEMU's own token size and nesting caps (64 MiB, 1024) are
 * the most any host needs. The freeze window must be bounded (docs/design.md §2: a
 * guest never stays frozen because a host died); VSS holds I/O for 10 s and
 * gives writers 60 s, so ten minutes is already generous.
 */
#define CONFIG_MAX_REQUEST_BYTES_MIN 64
#define CONFIG_MAX_REQUEST_BYTES_MAX 67108864 /* 64 MiB; a plain number for --help */
#define CONFIG_MAX_DEPTH_MIN 2
#define CONFIG_MAX_DEPTH_MAX 1024
#define CONFIG_WINDOW_SECONDS_MIN 1
#define CONFIG_WINDOW_SECONDS_MAX 600
#define CONFIG_HOST_LOST_GRACE_MIN 0 /* 0: the window alone */
#define CONFIG_HOST_LOST_GRACE_MAX 600

/* Parses a decimal integer in [min, max]; the error says the range and
 * quotes text (callers prefix the option or key). */
/* The confinement must name an existing directory: a typo would otherwise
 * confine to nothing and make every prepare look like an empty guest. */
gboolean config_check_confine(const char *dir, GError **error);
gboolean config_parse_number(const char *text, gint64 min, gint64 max, gint64 *out,
                             GError **error);

/* Applies the file's settings onto agent and engine (which hold defaults).
 * A missing file is an error only when must_exist. */
gboolean config_load(const char *path, gboolean must_exist, AgentConfig *agent,
                     EngineConfig *engine, GError **error);

/* What no single key can say wrong: at least one channel and none twice,
 * an absolute state directory, [writers] total-timeout >= timeout. Called
 * after the file and the command line are applied. */
gboolean config_validate(const AgentConfig *agent, const EngineConfig *engine, GError **error);

/* The effective configuration (after the file and the command line) as a
 * configuration file would say it, every key present. (transfer full) */
char *config_to_string(const AgentConfig *agent, const EngineConfig *engine);

#endif
