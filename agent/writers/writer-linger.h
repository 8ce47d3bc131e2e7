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
 */
#ifndef QUIESCE_AGENT_WRITERS_WRITER_LINGER_H
#define QUIESCE_AGENT_WRITERS_WRITER_LINGER_H

#include <glib.h>

#include "common/memlog.h"

#define WRITER_LINGER_MAX 32

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
