/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * commands.c — the list of command families, the order the dispatcher gets
 * their rows in, each family's state, and the frozen gate.
 */
#include "agent/commands/commands.h"

#include "agent/commands/control-system.h"

static const CommandFamily command_families[] = {
    { commands_basic, &commands_basic_count, NULL, NULL },
    { commands_fsfreeze, &commands_fsfreeze_count, NULL, NULL },
    { commands_snapshot, &commands_snapshot_count, NULL, NULL },
    { commands_system_info, &commands_system_info_count, NULL, NULL },
    { commands_time, &commands_time_count, NULL, NULL },
    { commands_network, &commands_network_count, NULL, NULL },
    { commands_disks, &commands_disks_count, NULL, NULL },
    { commands_stats, &commands_stats_count, NULL, NULL },
    { commands_power, &commands_power_count, control_system_new, control_system_free },
    { commands_vcpus, &commands_vcpus_count, control_system_new, control_system_free },
    { commands_memory_blocks, &commands_memory_blocks_count, control_system_new,
      control_system_free },
    { commands_fstrim, &commands_fstrim_count, control_system_new, control_system_free },
    { commands_users, &commands_users_count, control_system_new, control_system_free },
    { commands_ssh_keys, &commands_ssh_keys_count, control_system_new, control_system_free },
    { commands_file, &commands_file_count, commands_file_state_new, commands_file_state_free },
    { commands_exec, &commands_exec_count, commands_exec_state_new, commands_exec_state_free },
};

/*
 * qemu-ga 7.2's registration order on Linux (its QAPI schema's order;
 * guest-info lists commands in the reverse of it), so our guest-info is
 * byte for byte qemu-ga's. Rows of ours that qemu-ga does not have (the
 * snapshot session) follow in family order, and so are listed first.
 */
static const char *const qga_registration_order[] = {
    "guest-sync-delimited",
    "guest-sync",
    "guest-ping",
    "guest-get-time",
    "guest-set-time",
    "guest-info",
    "guest-shutdown",
    "guest-file-open",
    "guest-file-close",
    "guest-file-read",
    "guest-file-write",
    "guest-file-seek",
    "guest-file-flush",
    "guest-fsfreeze-status",
    "guest-fsfreeze-freeze",
    "guest-fsfreeze-freeze-list",
    "guest-fsfreeze-thaw",
    "guest-fstrim",
    "guest-suspend-disk",
    "guest-suspend-ram",
    "guest-suspend-hybrid",
    "guest-network-get-interfaces",
    "guest-get-vcpus",
    "guest-set-vcpus",
    "guest-get-disks",
    "guest-get-fsinfo",
    "guest-set-user-password",
    "guest-get-memory-blocks",
    "guest-set-memory-blocks",
    "guest-get-memory-block-info",
    "guest-exec-status",
    "guest-exec",
    "guest-get-host-name",
    "guest-get-users",
    "guest-get-timezone",
    "guest-get-osinfo",
    "guest-get-devices",
    "guest-ssh-get-authorized-keys",
    "guest-ssh-add-authorized-keys",
    "guest-ssh-remove-authorized-keys",
    "guest-get-diskstats",
    "guest-get-cpustats",
};

static const CommandSpec *commands_find(const char *name)
{
    for (gsize f = 0; f < G_N_ELEMENTS(command_families); f++) {
        for (gsize i = 0; i < *command_families[f].count; i++) {
            if (g_str_equal(command_families[f].specs[i].name, name)) {
                return &command_families[f].specs[i];
            }
        }
    }
    return NULL;
}

static gboolean commands_in_qga_order(const char *name)
{
    for (gsize i = 0; i < G_N_ELEMENTS(qga_registration_order); i++) {
        if (g_str_equal(qga_registration_order[i], name)) {
            return TRUE;
        }
    }
    return FALSE;
}

gboolean commands_name_is_known(const char *name)
{
    return commands_find(name) || commands_in_qga_order(name);
}

void commands_register(Dispatcher *dispatcher)
{
    for (gsize i = 0; i < G_N_ELEMENTS(qga_registration_order); i++) {
        const CommandSpec *spec = commands_find(qga_registration_order[i]);
        if (spec) {
            dispatcher_add_commands(dispatcher, spec, 1);
        }
    }
    for (gsize f = 0; f < G_N_ELEMENTS(command_families); f++) {
        const CommandFamily *family = &command_families[f];
        for (gsize i = 0; i < *family->count; i++) {
            if (!commands_in_qga_order(family->specs[i].name)) {
                dispatcher_add_commands(dispatcher, &family->specs[i], 1);
            }
        }
    }
}

void commands_context_init(CommandContext *context)
{
    g_assert(context->engine && !context->states);
    context->states = g_hash_table_new(NULL, NULL);
    for (gsize f = 0; f < G_N_ELEMENTS(command_families); f++) {
        const CommandFamily *family = &command_families[f];
        if (family->state_new) {
            g_hash_table_insert(context->states, (gpointer)family->specs,
                                family->state_new(context));
        }
    }
}

gpointer commands_get_state(const CommandContext *context, const CommandSpec *family_specs)
{
    gpointer state = g_hash_table_lookup(context->states, family_specs);

    g_assert(state); /* only families with a state_new ask */
    return state;
}

void commands_context_clear(CommandContext *context)
{
    for (gsize f = 0; context->states && f < G_N_ELEMENTS(command_families); f++) {
        const CommandFamily *family = &command_families[f];
        if (family->state_free) {
            family->state_free(g_hash_table_lookup(context->states, family->specs));
        }
    }
    g_clear_pointer(&context->states, g_hash_table_unref);
}

bool commands_is_frozen(void *context)
{
    const CommandContext *commands = context;

    return engine_is_frozen(commands->engine);
}
