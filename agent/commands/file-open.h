/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * file-open.h — guest-file-open's opening of a file as qemu-ga does it
 * (qga/commands-posix.c safe_open_or_create(), docs/qga-reference.md §8):
 * fopen()'s modes, a new file created exclusively and given mode 0666
 * whatever the umask, and removed again if a later step fails; the fd is
 * non-blocking (a FIFO must not hang the agent), close-on-exec, O_NOCTTY.
 */
#ifndef QUIESCE_AGENT_COMMANDS_FILE_OPEN_H
#define QUIESCE_AGENT_COMMANDS_FILE_OPEN_H

#include <glib.h>
#include <stdio.h>

/* (transfer full), or NULL with qemu-ga's message ("invalid file open mode
 * 'M'", "failed to open file 'P' (mode: 'M'): <strerror>", ...). */
FILE *file_open_stream(const char *path, const char *mode, GError **error);

#endif
