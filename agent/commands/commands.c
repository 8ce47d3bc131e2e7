/*
 * commands.c — the list of command families and the frozen gate.
 */
#include "agent/commands/commands.h"

static const CommandFamily command_families[] = {
    { commands_basic, &commands_basic_count },
    { commands_fsfreeze, &commands_fsfreeze_count },
    { commands_snapshot, &commands_snapshot_count },
};

void commands_register(Dispatcher *dispatcher)
{
    for (gsize i = 0; i < G_N_ELEMENTS(command_families); i++) {
        dispatcher_add_commands(dispatcher, command_families[i].specs,
                                *command_families[i].count);
    }
}

bool commands_is_frozen(void *context)
{
    const CommandContext *commands = context;

    return engine_is_frozen(commands->engine);
}
