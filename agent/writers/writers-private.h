/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * writers-private.h — helpers shared by writers.c and writers-config.c;
 * not for the engine.
 */
#ifndef QUIESCE_AGENT_WRITERS_WRITERS_PRIVATE_H
#define QUIESCE_AGENT_WRITERS_WRITERS_PRIVATE_H

#include "agent/writers/writers.h"

/* Deep-copies @from into @to (clear @to with writers_config_clear()). */
void writers_config_copy(WritersConfig *to, const WritersConfig *from);

/* Checks the session id's form; FALSE with QUIESCE_ERROR_INVALID_ARGUMENT. */
gboolean writers_context_validate(const WriterContext *context, GError **error);

/* (transfer full) A script's environment for @phase: the agent's own,
 * PATH if unset, QUIESCE_PHASE, QUIESCE_SESSION_ID, QUIESCE_MOUNTPOINTS. */
char **writers_context_build_env(const WriterContext *context, WriterPhase phase);

#endif
