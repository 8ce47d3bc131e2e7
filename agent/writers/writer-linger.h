/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * writer-linger.h — keep reading the output pipes of scripts that exited
 * but left a background child holding them.
 *
 * qemu's own mysql-flush sample hook keeps a mysql client in the
 * background holding FLUSH TABLES WITH READ LOCK across the freeze, with
 * its stdout on the hook's stdout. qemu-ga 9.1+ blocks until that pipe is
 * closed (so the freeze never returns); closing our end instead would kill
 * the client with SIGPIPE the next time it prints. So the pipe is kept and
 * drained from the main loop into the held log, capped per pipe, until the
 * background child closes it; at most WRITER_LINGER_MAX pipes are kept
 * (the oldest is closed first).
 *
 * A child that writes without end (`yes`) must not cost the agent a core:
 * each pipe is read at most WRITER_LINGER_RATE bytes a second, after which
 * its watch pauses until the second is over. The child then blocks in
 * write() on the full pipe rather than dying of SIGPIPE, which for the
 * mysql-flush pattern would drop the lock it holds in the middle of the
 * window. Only the first WRITER_LINGER_LOG_MAX bytes are logged as they
 * come; of the rest, the tail and the count of what was dropped are logged
 * when the pipe closes.
 */
#ifndef QUIESCE_AGENT_WRITERS_WRITER_LINGER_H
#define QUIESCE_AGENT_WRITERS_WRITER_LINGER_H

#include <glib.h>

#include "common/memlog.h"

#define WRITER_LINGER_MAX 32
#define WRITER_LINGER_RATE (16 * 1024)      /* bytes read per pipe per second */
#define WRITER_LINGER_LOG_MAX (64 * 1024)   /* bytes per pipe logged as they come */

typedef struct WriterLinger WriterLinger;

/* (transfer full) @log is borrowed and must outlive the set; output is
 * drained on @context (a reference is taken). */
WriterLinger *writer_linger_new(GMainContext *context, MemLog *log, gsize output_cap);
/* Drains what is there, then closes every pipe. */
void writer_linger_free(WriterLinger *linger);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(WriterLinger, writer_linger_free)

/* Takes @fd (non-blocking read end, transfer full); its lines are logged
 * with @prefix. */
void writer_linger_add(WriterLinger *linger, int fd, const char *prefix);

/* Reads what every pipe has now (outside the main loop: the engine calls
 * this before handing the held log out). */
void writer_linger_drain(WriterLinger *linger);

guint writer_linger_get_length(const WriterLinger *linger);

#endif
