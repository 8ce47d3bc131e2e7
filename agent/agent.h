/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * agent.h — the daemon's one context: configuration, the command dispatcher,
 * the open channels and the main loop. Passed explicitly everywhere (no
 * globals), so a test can run two agents in one process.
 */
#ifndef QUIESCE_AGENT_AGENT_H
#define QUIESCE_AGENT_AGENT_H

#include <glib.h>

#include "agent/engine/engine.h"
#include "agent/log.h"
#include "agent/service-notify.h"

typedef struct {
    char **channels;     /* "KIND:ADDRESS" specs */
    char **allow_rpcs;   /* NULL: everything allowed */
    char **block_rpcs;   /* NULL: nothing blocked */
    gsize max_request_bytes;
    guint max_depth;
} AgentConfig;

typedef struct Agent Agent;

/* Builds the engine (which thaws what a killed predecessor left frozen) and
 * the dispatcher from the command tables, and applies allow/block lists.
 * config is copied, engine_config and writers taken (transfer full; writers
 * may be NULL), log and notify borrowed (notify may be NULL: it hears
 * STATUS= frozen / thawed). Unknown RPC names and a failed recovery are
 * logged. */
Agent *agent_new(const AgentConfig *config, EngineConfig *engine_config, Writers *writers,
                 AgentLog *log, ServiceNotify *notify);
void agent_free(Agent *agent);
/* Opens every configured channel, whatever its kind (agent/channels/);
 * FALSE with the first failure. */
gboolean agent_open_channels(Agent *agent, GError **error);
/* The service manager's STATUS= line (service-notify.h) as the guest
 * freezes and thaws. */
#define AGENT_STATUS_FROZEN "frozen"
#define AGENT_STATUS_THAWED "thawed"

/* Where a stop with filesystems still frozen saves the held log lines. */
#define AGENT_SHUTDOWN_LOG_NAME "shutdown-log"

/*
 * Runs until agent_quit(); thaws whatever is still frozen before returning.
 * FALSE when that thaw failed and filesystems stay frozen: the log lines
 * held since the freeze are then appended to agent_shutdown_log_path()
 * rather than sent to stderr (which may lead to the frozen disk), and
 * error, for stderr, says which session was left frozen and where the log
 * went. (agent_free() tries the thaw once more.)
 */
gboolean agent_run(Agent *agent, GError **error);
void agent_quit(Agent *agent);
/* <state dir>/AGENT_SHUTDOWN_LOG_NAME (transfer full). */
char *agent_shutdown_log_path(const Agent *agent);

void agent_config_clear(AgentConfig *config);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(AgentConfig, agent_config_clear)

G_DEFINE_AUTOPTR_CLEANUP_FUNC(Agent, agent_free)

#endif
