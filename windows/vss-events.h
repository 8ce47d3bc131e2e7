/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vss-events.h — the three named events between the agent (requester) and
 * our provider, which VSS loads in its own process: "frozen" (the provider
 * holds, in CommitSnapshots), "thaw" (the agent lets it go) and "timeout"
 * (the provider let go on its own at VSS_PROVIDER_HOLD_MS). Our names,
 * not qemu-ga's, so both can be installed.
 */
#ifndef QUIESCE_VSS_EVENTS_H
#define QUIESCE_VSS_EVENTS_H

#include <stdbool.h>
#include <windows.h>

#define VSS_EVENT_FROZEN L"Global\\quiesced-vss-frozen"
#define VSS_EVENT_THAW L"Global\\quiesced-vss-thaw"
#define VSS_EVENT_TIMEOUT L"Global\\quiesced-vss-timeout"

/* The requester creates them (manual reset, cleared); the VSS service runs
 * as SYSTEM like the agent, so the default security suffices. */
static inline bool vss_events_create(HANDLE *frozen, HANDLE *thaw, HANDLE *timeout)
{
    *frozen = CreateEventW(NULL, TRUE, FALSE, VSS_EVENT_FROZEN);
    *thaw = CreateEventW(NULL, TRUE, FALSE, VSS_EVENT_THAW);
    *timeout = CreateEventW(NULL, TRUE, FALSE, VSS_EVENT_TIMEOUT);
    if (*frozen && *thaw && *timeout) {
        /* Left set by an attempt that died: start clean. */
        ResetEvent(*frozen);
        ResetEvent(*thaw);
        ResetEvent(*timeout);
        return true;
    }
    return false;
}

static inline void vss_events_close(HANDLE frozen, HANDLE thaw, HANDLE timeout)
{
    HANDLE all[3] = { frozen, thaw, timeout };

    for (int i = 0; i < 3; i++) {
        if (all[i]) {
            CloseHandle(all[i]);
        }
    }
}

#endif
