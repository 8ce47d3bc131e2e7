/* SPDX-License-Identifier: GPL-2.0-or-later */
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
 * the commands both have (guest-info lists them in reverse). */
void commands_register(Dispatcher *dispatcher);
/* Creates the families' states in context, whose engine (and the rest)
 * must be set; before the first request is dispatched. */
void commands_context_init(CommandContext *context);
/* The state of the family whose table is family_specs (transfer none). */
gpointer commands_get_state(const CommandContext *context, const CommandSpec *family_specs);
/* Frees the families' states (the agent does, before the engine). */
void commands_context_clear(CommandContext *context);

/* Whether name is a command of ours or of qemu-ga's (a qemu-ga command
 * quiesced lacks may stand in --block-rpcs carried over from qemu-ga). */
gboolean commands_name_is_known(const char *name);

/* The dispatcher's frozen gate over a CommandContext. */
bool commands_is_frozen(void *context);

/* The families (one file each). */
extern const CommandSpec commands_basic[]; /* guest-sync(-delimited), -ping, -info */
extern const gsize commands_basic_count;
extern const CommandSpec commands_fsfreeze[]; /* guest-fsfreeze-*, guest-get-fsinfo */
extern const gsize commands_fsfreeze_count;
extern const CommandSpec commands_snapshot[]; /* guest-snapshot-* */
extern const gsize commands_snapshot_count;
/* guest-get-osinfo, -host-name, -timezone, -users; -devices (blocked) */
extern const CommandSpec commands_system_info[];
extern const gsize commands_system_info_count;
extern const CommandSpec commands_time[]; /* guest-get-time, guest-set-time */
extern const gsize commands_time_count;
extern const CommandSpec commands_network[]; /* guest-network-get-interfaces */
extern const gsize commands_network_count;
extern const CommandSpec commands_disks[]; /* guest-get-disks */
extern const gsize commands_disks_count;
extern const CommandSpec commands_stats[]; /* guest-get-diskstats, guest-get-cpustats */
extern const gsize commands_stats_count;
extern const CommandSpec commands_power[]; /* guest-shutdown, guest-suspend-* */
extern const gsize commands_power_count;
extern const CommandSpec commands_vcpus[]; /* guest-get-vcpus, guest-set-vcpus */
extern const gsize commands_vcpus_count;
extern const CommandSpec commands_memory_blocks[]; /* guest-*-memory-block(s|-info) */
extern const gsize commands_memory_blocks_count;
extern const CommandSpec commands_fstrim[]; /* guest-fstrim */
extern const gsize commands_fstrim_count;
extern const CommandSpec commands_users[]; /* guest-set-user-password */
extern const gsize commands_users_count;
extern const CommandSpec commands_ssh_keys[]; /* guest-ssh-*-authorized-keys */
extern const gsize commands_ssh_keys_count;
extern const CommandSpec commands_file[]; /* guest-file-* */
extern const gsize commands_file_count;
gpointer commands_file_state_new(const CommandContext *context);
void commands_file_state_free(gpointer state);
extern const CommandSpec commands_exec[]; /* guest-exec, guest-exec-status */
extern const gsize commands_exec_count;
gpointer commands_exec_state_new(const CommandContext *context);
void commands_exec_state_free(gpointer state);

#endif
