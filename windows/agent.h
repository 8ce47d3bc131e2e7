/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * agent.h — the one context of the Windows agent: log, engine, dispatcher,
 * channels, and the loop that waits on them with a single thread. main.c
 * and service.c only create it, run it and set its stop event.
 */
#ifndef QUIESCE_WIN_AGENT_H
#define QUIESCE_WIN_AGENT_H

#include <stdbool.h>
#include <windows.h>

#include "windows/engine.h"
#include "windows/win-log.h"

#define WIN_AGENT_MAX_CHANNELS 4

typedef struct {
    const char *channels[WIN_AGENT_MAX_CHANNELS]; /* KIND[:ADDRESS] */
    size_t n_channels;
    WinEngineConfig engine;
    bool debug;
} WinAgentConfig;

typedef struct WinAgent WinAgent;

/* log is borrowed. The platform parts come from win_probe_default() and
 * the VSS factory the program links (real in quiesced.exe, fake in tests). */
WinAgent *win_agent_new(const WinAgentConfig *config, WinLog *log, VssBackendFactory factory,
                        ProtoError **error);
/* Ends an active session (thaw before stopping), then frees. */
void win_agent_free(WinAgent *agent);
/* Serves until the stop event is set. */
void win_agent_run(WinAgent *agent);
/* Signalled by the console handler or the SCM's handler. */
HANDLE win_agent_stop_event(WinAgent *agent);

#endif
