/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * writer-output.h — a script's captured stdout+stderr, capped.
 *
 * Keeps the LAST @cap bytes a writer wrote (the end of the output is where
 * the error message is) and counts what it dropped from the front, so a
 * writer that prints without end costs a bounded amount of memory. The text
 * is handed out sanitized: invalid UTF-8 repaired, control characters other
 * than newline and tab shown as '?'.
 */
#ifndef QUIESCE_AGENT_WRITERS_WRITER_OUTPUT_H
#define QUIESCE_AGENT_WRITERS_WRITER_OUTPUT_H

#include <glib.h>

#include "agent/writers/writer-result.h"
#include "common/memlog.h"

/* (transfer full) An empty buffer keeping at most @cap bytes (cap >= 1). */
WriterOutput *writer_output_new(gsize cap);
void writer_output_free(WriterOutput *output);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(WriterOutput, writer_output_free)

void writer_output_append(WriterOutput *output, const void *data, gsize len);

/*
 * Reads what @fd (non-blocking) has now into @output. Returns FALSE when
 * the fd is finished (end of file, or a read error other than EAGAIN/EINTR),
 * TRUE when it may have more later.
 */
gboolean writer_output_read_fd(WriterOutput *output, int fd);
/* What one wake-up reads at most: a pipe's default buffer. */
#define WRITER_OUTPUT_READ_MAX (64 * 1024)
/* The same, reading at most @max_bytes (a writer that never stops must not
 * keep the caller reading); @out_read (may be NULL) gets the count. */
gboolean writer_output_read_fd_max(WriterOutput *output, int fd, gsize max_bytes,
                                   gsize *out_read);

/* Bytes dropped from the front because of the cap. */
guint64 writer_output_get_dropped(const WriterOutput *output);
gboolean writer_output_is_empty(const WriterOutput *output);

/* (transfer full) The last @max_bytes kept (all if 0), sanitized. */
char *writer_output_dup_tail(const WriterOutput *output, gsize max_bytes);

/*
 * Appends the kept output to @log, one memlog line per output line, each
 * prefixed with @prefix, and empties @output; a note comes first when
 * bytes were dropped. When @flush_partial is FALSE a last line without its
 * newline stays in @output (output that is still arriving).
 */
void writer_output_emit(WriterOutput *output, MemLog *log, GLogLevelFlags level,
                        const char *prefix, gboolean flush_partial);

#endif
