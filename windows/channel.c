/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * channel.c — see the header. States: closed (retry pending), listening
 * (a pipe waiting for its client), reading (an overlapped read pending).
 */
#include "windows/channel.h"

#include <stdlib.h>
#include <string.h>

#include "protocol/proto-alloc.h"
#include "windows/win-error.h"

#define CHANNEL_RETRY_MS 1000
#define CHANNEL_WRITE_LIMIT_MS 10000
#define CHANNEL_READ_SIZE 4096

typedef enum {
    CHANNEL_CLOSED,
    CHANNEL_LISTENING,
    CHANNEL_READING,
} ChannelState;

struct WinChannel {
    const WinChannelOps *ops;
    char *name; /* the spec, for messages */
    wchar_t *address;
    int index;
    const WinChannelEvents *events;
    void *owner;
    HANDLE handle;
    ChannelState state;
    OVERLAPPED io;       /* the pending connect or read */
    OVERLAPPED write_io; /* writes wait on their own event */
    ULONGLONG retry_tick;
    DWORD failed; /* a read that failed at once (no overlapped result to ask) */
    char buffer[CHANNEL_READ_SIZE];
};

static void channel_start(WinChannel *channel);

static void channel_close(WinChannel *channel)
{
    if (channel->handle != INVALID_HANDLE_VALUE) {
        CancelIo(channel->handle);
        CloseHandle(channel->handle);
        channel->handle = INVALID_HANDLE_VALUE;
    }
    channel->state = CHANNEL_CLOSED;
    channel->retry_tick = GetTickCount64() + CHANNEL_RETRY_MS;
}

/* The host left: a pipe waits for the next client; a device is closed and
 * reopened, since an error on it usually means it went away. */
static void channel_lost(WinChannel *channel)
{
    channel->events->disconnected(channel->owner, channel);
    if (channel->ops->listens && channel->handle != INVALID_HANDLE_VALUE) {
        DisconnectNamedPipe(channel->handle);
        channel_start(channel);
    } else {
        channel_close(channel);
    }
}

static void channel_read(WinChannel *channel)
{
    ResetEvent(channel->io.hEvent);
    channel->state = CHANNEL_READING;
    channel->failed = 0;
    if (!ReadFile(channel->handle, channel->buffer, sizeof(channel->buffer), NULL,
                  &channel->io) &&
        GetLastError() != ERROR_IO_PENDING) {
        /* Reported through the event like a completion, so the loop has
         * one path for both. */
        channel->failed = GetLastError();
        SetEvent(channel->io.hEvent);
    }
}

static void channel_connected(WinChannel *channel)
{
    channel->events->connected(channel->owner, channel);
    channel_read(channel);
}

static void channel_start(WinChannel *channel)
{
    if (!channel->ops->listens) {
        channel_connected(channel);
        return;
    }
    ResetEvent(channel->io.hEvent);
    channel->state = CHANNEL_LISTENING;
    if (ConnectNamedPipe(channel->handle, &channel->io)) {
        channel_connected(channel);
        return;
    }
    switch (GetLastError()) {
    case ERROR_IO_PENDING:
        return;
    case ERROR_PIPE_CONNECTED: /* the client came between create and connect */
        channel_connected(channel);
        return;
    default:
        channel_close(channel);
    }
}

void win_channel_retry(WinChannel *channel)
{
    DWORD code = 0;

    if (channel->state != CHANNEL_CLOSED || GetTickCount64() < channel->retry_tick) {
        return;
    }
    channel->handle = channel->ops->open(channel->address, &code);
    if (channel->handle == INVALID_HANDLE_VALUE) {
        channel->retry_tick = GetTickCount64() + CHANNEL_RETRY_MS;
        return;
    }
    channel_start(channel);
}

const WinChannelOps *win_channel_kind_of(const char *spec, ProtoError **error)
{
    const char *colon = strchr(spec, ':');
    char *kind = proto_xstrndup(spec, colon ? (size_t)(colon - spec) : strlen(spec));
    const WinChannelOps *ops = win_channel_ops_lookup(kind);

    free(kind);
    if (!ops) {
        proto_error_set(error, PROTO_ERROR_CLASS_GENERIC_ERROR,
                        "unknown channel '%s': use virtio-serial, isa-serial or pipe, optionally "
                        "with :ADDRESS",
                        spec);
    }
    return ops;
}

WinChannel *win_channel_new(const char *spec, int index, const WinChannelEvents *events,
                            void *owner, ProtoError **error)
{
    const char *colon = strchr(spec, ':');
    const WinChannelOps *ops = win_channel_kind_of(spec, error);
    WinChannel *channel;

    if (!ops) {
        return NULL;
    }
    channel = proto_xcalloc(1, sizeof(*channel));
    channel->ops = ops;
    channel->name = proto_xstrdup(spec);
    channel->address = win_wide_from_utf8(colon && colon[1] ? colon + 1 : ops->default_address);
    channel->index = index;
    channel->events = events;
    channel->owner = owner;
    channel->handle = INVALID_HANDLE_VALUE;
    channel->io.hEvent = CreateEventW(NULL, TRUE, FALSE, NULL);
    channel->write_io.hEvent = CreateEventW(NULL, TRUE, FALSE, NULL);
    channel->state = CHANNEL_CLOSED;
    channel->retry_tick = 0;
    return channel;
}

void win_channel_free(WinChannel *channel)
{
    if (!channel) {
        return;
    }
    channel_close(channel);
    CloseHandle(channel->io.hEvent);
    CloseHandle(channel->write_io.hEvent);
    free(channel->address);
    free(channel->name);
    free(channel);
}

int win_channel_index(const WinChannel *channel)
{
    return channel->index;
}

const char *win_channel_name(const WinChannel *channel)
{
    return channel->name;
}

HANDLE win_channel_event(const WinChannel *channel)
{
    return channel->state == CHANNEL_CLOSED ? NULL : channel->io.hEvent;
}

DWORD win_channel_timeout(const WinChannel *channel)
{
    ULONGLONG now = GetTickCount64();

    if (channel->state != CHANNEL_CLOSED) {
        return INFINITE;
    }
    return channel->retry_tick <= now ? 0 : (DWORD)(channel->retry_tick - now);
}

void win_channel_dispatch(WinChannel *channel)
{
    DWORD n = 0;
    BOOL ok = !channel->failed && GetOverlappedResult(channel->handle, &channel->io, &n, FALSE);

    if (channel->state == CHANNEL_LISTENING) {
        if (ok) {
            channel_connected(channel);
        } else {
            DisconnectNamedPipe(channel->handle);
            channel_start(channel);
        }
        return;
    }
    if (!ok && GetLastError() == ERROR_MORE_DATA) {
        ok = TRUE; /* a message-mode writer; the rest comes with the next read */
    }
    if (!ok) {
        channel_lost(channel);
        return;
    }
    if (n > 0) {
        channel->events->received(channel->owner, channel, channel->buffer, n);
    }
    /* The owner may have written a reply that found the host gone. */
    if (channel->state == CHANNEL_READING) {
        channel_read(channel);
    }
}

bool win_channel_write(WinChannel *channel, const char *bytes, size_t len)
{
    while (len > 0 && channel->state == CHANNEL_READING) {
        DWORD n = 0;
        DWORD chunk = len > 65536 ? 65536 : (DWORD)len;
        ResetEvent(channel->write_io.hEvent);
        if (!WriteFile(channel->handle, bytes, chunk, NULL, &channel->write_io) &&
            GetLastError() != ERROR_IO_PENDING) {
            return false;
        }
        /* A host that does not read must not stall the agent (and with it
         * the watchdog): the reply is dropped after a bound. */
        if (WaitForSingleObject(channel->write_io.hEvent, CHANNEL_WRITE_LIMIT_MS) !=
            WAIT_OBJECT_0) {
            CancelIoEx(channel->handle, &channel->write_io);
            GetOverlappedResult(channel->handle, &channel->write_io, &n, TRUE);
            return false;
        }
        if (!GetOverlappedResult(channel->handle, &channel->write_io, &n, FALSE)) {
            return false;
        }
        bytes += n;
        len -= n;
    }
    return len == 0;
}
