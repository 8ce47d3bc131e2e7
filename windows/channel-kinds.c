/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * channel-kinds.c — the three kinds of channel; only how the handle is
 * opened differs (channel.c does the rest).
 */
#include <string.h>

#include "windows/channel.h"

/* virtio-serial: the port's name as the vioserial driver publishes it,
 * as qemu-ga opens it (qga/channel-win32.c). */
static HANDLE open_device(const wchar_t *address, DWORD *code)
{
    HANDLE h = CreateFileW(address, GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING,
                           FILE_FLAG_OVERLAPPED, NULL);
    *code = h == INVALID_HANDLE_VALUE ? GetLastError() : 0;
    return h;
}

/* isa-serial: a read returns once bytes stop arriving for 1 ms, instead
 * of waiting for a full buffer (qemu-ga sets the same interval). */
static HANDLE open_com(const wchar_t *address, DWORD *code)
{
    HANDLE h = open_device(address, code);
    COMMTIMEOUTS timeouts = { 0 };

    if (h == INVALID_HANDLE_VALUE) {
        return h;
    }
    timeouts.ReadIntervalTimeout = 1;
    if (!SetCommTimeouts(h, &timeouts)) {
        *code = GetLastError();
        CloseHandle(h);
        return INVALID_HANDLE_VALUE;
    }
    return h;
}

/* One instance, local clients only: one host at a time, as qemu-ga. */
static HANDLE open_pipe(const wchar_t *address, DWORD *code)
{
    HANDLE h = CreateNamedPipeW(address,
                                PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED |
                                    FILE_FLAG_FIRST_PIPE_INSTANCE,
                                PIPE_TYPE_BYTE | PIPE_READMODE_BYTE | PIPE_WAIT |
                                    PIPE_REJECT_REMOTE_CLIENTS,
                                1, 65536, 65536, 0, NULL);
    *code = h == INVALID_HANDLE_VALUE ? GetLastError() : 0;
    return h;
}

static const WinChannelOps channel_kinds[] = {
    { "virtio-serial", "\\\\.\\Global\\org.qemu.guest_agent.0", open_device, false },
    { "isa-serial", "\\\\.\\COM1", open_com, false },
    { "pipe", "\\\\.\\pipe\\quiesced", open_pipe, true },
};

const WinChannelOps *win_channel_ops_lookup(const char *kind)
{
    for (size_t i = 0; i < sizeof(channel_kinds) / sizeof(channel_kinds[0]); i++) {
        if (strcmp(channel_kinds[i].kind, kind) == 0) {
            return &channel_kinds[i];
        }
    }
    return NULL;
}
