/*
 * commands.h — the command tables, one per command family. Each handler has
 * the one CommandHandler signature and receives the Agent as its context.
 */
#ifndef QUIESCE_AGENT_COMMANDS_H
#define QUIESCE_AGENT_COMMANDS_H

#include <glib.h>

#include "common/protocol-glib.h"
#include "protocol/command-table.h"

/* guest-sync, guest-sync-delimited, guest-ping, guest-info. */
extern const CommandSpec commands_basic[];
extern const gsize commands_basic_count;

/* guest-fsfreeze-status, -freeze, -freeze-list, -thaw, guest-get-fsinfo. */
extern const CommandSpec commands_fsfreeze[];
extern const gsize commands_fsfreeze_count;

/* guest-snapshot-check, -prepare, -post, -abort, -status. */
extern const CommandSpec commands_snapshot[];
extern const gsize commands_snapshot_count;

#endif
