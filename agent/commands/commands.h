/*
 * commands.h — the QGA command families and what they see of the agent.
 *
 * Every handler has the one CommandHandler signature; its context is a
 * CommandContext, never the Agent. A family is one file with one table (and,
 * if it keeps state between requests — open files, running children — a
 * state the agent creates and frees through the family's row); adding one
 * means a file here, a row in commands.c's list and a line in
 * agent/CMakeLists.txt — nothing in agent.c. commands.c registers rows in
 * qemu-ga's order, whatever family they are in.
 */
#ifndef QUIESCE_AGENT_COMMANDS_H
#define QUIESCE_AGENT_COMMANDS_H

#include <glib.h>

#include "agent/engine/engine.h"
#include "common/protocol-glib.h"
#include "protocol/command-table.h"
#include "protocol/dispatcher.h"

/* What a command handler may use; all borrowed, owned by the agent. */
typedef struct {
    Engine *engine;               /* the freeze engine every channel shares */
    const Dispatcher *dispatcher; /* its rows, for guest-info */
    /* The snapshot session just prepared by the request being dispatched
     * belongs to that request's channel: the host leaving it starts the
     * engine's host-lost grace (engine_host_lost()). */
    void (*bind_session)(gpointer owner, const char *session_id);
    gpointer owner;
    GHashTable *states; /* owned: family table -> its state (commands.c) */
} CommandContext;

typedef struct {
    const CommandSpec *specs;
    const gsize *count;
    /* Both NULL for a family without state. state_new may keep context
     * (it outlives the state). */
    gpointer (*state_new)(const CommandContext *context);
    void (*state_free)(gpointer state);
} CommandFamily;

/* Adds every family's rows to dispatcher, in the order qemu-ga registers
 * the commands both have (guest-info lists them in reverse), and creates
 * the families' states in context. */
void commands_register(Dispatcher *dispatcher, CommandContext *context);
/* The state of the family whose table is family_specs (transfer none). */
gpointer commands_get_state(const CommandContext *context, const CommandSpec *family_specs);
/* Frees the families' states (the agent does, before the engine). */
void commands_context_clear(CommandContext *context);

/* The dispatcher's frozen gate over a CommandContext. */
bool commands_is_frozen(void *context);

/* The families (one file each). */
extern const CommandSpec commands_basic[]; /* guest-sync(-delimited), -ping, -info */
extern const gsize commands_basic_count;
extern const CommandSpec commands_fsfreeze[]; /* guest-fsfreeze-*, guest-get-fsinfo */
extern const gsize commands_fsfreeze_count;
extern const CommandSpec commands_snapshot[]; /* guest-snapshot-* */
extern const gsize commands_snapshot_count;
extern const CommandSpec commands_file[]; /* guest-file-* */
extern const gsize commands_file_count;
gpointer commands_file_state_new(const CommandContext *context);
void commands_file_state_free(gpointer state);
extern const CommandSpec commands_exec[]; /* guest-exec, guest-exec-status */
extern const gsize commands_exec_count;
gpointer commands_exec_state_new(const CommandContext *context);
void commands_exec_state_free(gpointer state);

#endif
