/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * file-handles.h — the open files of guest-file-open, numbered as qemu-ga
 * numbers them (qga/main.c ga_get_fd_handle(), docs/qga-reference.md §8):
 * int64 ids from a counter that starts at 1000 and is saved in the state
 * directory before an id is handed out, so ids are never reused while the
 * state directory lives (a host holding an id across an agent restart gets
 * "has not been found", not somebody else's file). Bounded: at most
 * FILE_HANDLES_MAX files are open at once (qemu-ga has no bound and runs
 * out of fds, channel included).
 */
#ifndef QUIESCE_AGENT_COMMANDS_FILE_HANDLES_H
#define QUIESCE_AGENT_COMMANDS_FILE_HANDLES_H

#include <glib.h>
#include <stdio.h>

#define FILE_HANDLES_FIRST_ID 1000 /* qemu-ga's QGA_PSTATE_DEFAULT_FD_COUNTER */
#define FILE_HANDLES_MAX 256
#define FILE_HANDLES_COUNTER_NAME "file-handle-counter"

/* What the stream did last: stdio needs a flush or a seek between a write
 * and a read (C11 7.21.5.3), which qemu-ga inserts; so do we. */
typedef enum {
    FILE_HANDLE_RW_NEW,
    FILE_HANDLE_RW_READING,
    FILE_HANDLE_RW_WRITING,
} FileHandleRw;

typedef struct {
    gint64 id;
    FILE *stream; /* owned; its fd is close-on-exec and non-blocking */
    FileHandleRw rw;
} FileHandle;

typedef struct FileHandles FileHandles;

/* The counter lives in state_dir (copied); a missing file starts at
 * FILE_HANDLES_FIRST_ID, an unreadable one too, with a warning. */
FileHandles *file_handles_new(const char *state_dir);
/* Closes every file still open. */
void file_handles_free(FileHandles *handles);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(FileHandles, file_handles_free)

/* Takes over stream on success and returns its new id; on failure (too many
 * open, the counter cannot be saved) returns -1 and stream stays the
 * caller's. */
gint64 file_handles_add(FileHandles *handles, FILE *stream, GError **error);
/* (transfer none), or NULL with qemu-ga's "handle 'N' has not been found". */
FileHandle *file_handles_find(FileHandles *handles, gint64 id, GError **error);
/* Forgets the handle without closing its stream (the caller closed it). */
void file_handles_forget(FileHandles *handles, gint64 id);
guint file_handles_count(const FileHandles *handles);

#endif
