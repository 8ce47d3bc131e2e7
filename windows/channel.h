/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * channel.h — one host conversation's bytes on Windows: virtio-serial
 * (\\.\Global\org.qemu.guest_agent.0), isa-serial (COM1) or a named pipe
 * (pipe:\\.\pipe\NAME, for local use and tests), behind one small ops
 * table (channel-kinds.c) as the Linux transports are. A channel knows no
 * JSON: it hands bytes to its owner and says when a host arrives or leaves.
 *
 * All I/O is overlapped: the agent's one thread waits on each channel's
 * event beside the stop event, so nothing blocks the watchdog. A device
 * that is absent (the virtio driver not loaded yet, the port hot-unplugged)
 * is retried every second; it may come and go.
 */
#ifndef QUIESCE_CHANNEL_H
#define QUIESCE_CHANNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <windows.h>

#include "protocol/proto-error.h"

typedef struct WinChannel WinChannel;

typedef struct {
    void (*received)(void *owner, WinChannel *channel, const char *bytes, size_t len);
    /* A host can now talk: the owner resets its parser (docs/qga-reference.md §4). */
    void (*connected)(void *owner, WinChannel *channel);
    /* The host left, or the device went away. */
    void (*disconnected)(void *owner, WinChannel *channel);
} WinChannelEvents;

typedef struct WinChannelOps WinChannelOps;

/* spec is KIND:ADDRESS (virtio-serial, isa-serial, pipe) or KIND alone for
 * the default address; index is the owner's number for it. Opening is
 * attempted at once and retried later if the device is absent. */
/* The kind of a spec, or NULL with *error naming the kinds (for checking
 * options before anything is opened, e.g. --install's). */
const WinChannelOps *win_channel_kind_of(const char *spec, ProtoError **error);
WinChannel *win_channel_new(const char *spec, int index, const WinChannelEvents *events,
                            void *owner, ProtoError **error);
void win_channel_free(WinChannel *channel);

int win_channel_index(const WinChannel *channel);
const char *win_channel_name(const WinChannel *channel);
/* The event to wait on (NULL while closed), and what to do once it fires. */
HANDLE win_channel_event(const WinChannel *channel);
void win_channel_dispatch(WinChannel *channel);
/* Milliseconds until a closed channel retries (INFINITE when open), and
 * the retry itself when due. */
DWORD win_channel_timeout(const WinChannel *channel);
void win_channel_retry(WinChannel *channel);
/* Writes a whole reply; false when the host is gone or does not read
 * within a bound (the reply is dropped). */
bool win_channel_write(WinChannel *channel, const char *bytes, size_t len);

/* --- for channel-kinds.c --- */
struct WinChannelOps {
    const char *kind;
    const char *default_address;
    /* Opens the handle for overlapped I/O; INVALID_HANDLE_VALUE and *code. */
    HANDLE (*open)(const wchar_t *address, DWORD *code);
    /* A pipe waits for a client (ConnectNamedPipe); a device is there. */
    bool listens;
};

const WinChannelOps *win_channel_ops_lookup(const char *kind);

#endif
