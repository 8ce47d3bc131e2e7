/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * memlog.h — an in-memory log buffer for the freeze window.
 *
 * Between the first FIFREEZE and the last FITHAW nothing may be written to
 * disk (docs/design.md §7): a write to a frozen /var/log blocks the writer until
 * the thaw, and if that writer is the agent, the agent cannot thaw. qemu-ga
 * answers this by dropping every log line while frozen (docs/qga-reference.md
 * §5), which loses exactly the lines an operator needs after a failed
 * backup. Instead the agent appends to a MemLog while frozen and flushes it
 * to the real log after the last thaw.
 *
 * The buffer is bounded by a byte cap: when a new line does not fit, the
 * oldest lines are dropped and counted, and the flush reports the count
 * first. A single line larger than the cap is truncated to fit. A MemLog is
 * thread-safe (a watchdog thread may append while the main loop does).
 */
#ifndef QUIESCE_COMMON_MEMLOG_H
#define QUIESCE_COMMON_MEMLOG_H

#include <glib.h>
#include <stdarg.h>

typedef struct MemLog MemLog;

/*
 * Called by memlog_flush() once per buffered line, oldest first.
 * @level: the level given to memlog_append() (one G_LOG_LEVEL_* flag).
 * @message: (transfer none) the formatted line, valid during the call.
 * @real_time_us: wall-clock time of the append (g_get_real_time()).
 */
typedef void (*MemLogFunc)(GLogLevelFlags level, const char *message,
                           gint64 real_time_us, gpointer user_data);

/*
 * Returns: (transfer full) an empty buffer that holds at most @cap_bytes of
 * messages (each line also counts a fixed per-line overhead). @cap_bytes
 * must be at least MEMLOG_MIN_CAP.
 */
#define MEMLOG_MIN_CAP 256
MemLog *memlog_new(gsize cap_bytes);
void memlog_free(MemLog *log);

/* Appends one line; never blocks on I/O, never fails. */
void memlog_append(MemLog *log, GLogLevelFlags level, const char *format, ...)
    G_GNUC_PRINTF(3, 4);
void memlog_appendv(MemLog *log, GLogLevelFlags level, const char *format,
                    va_list args) G_GNUC_PRINTF(3, 0);

/*
 * Appends one line with a tag the flush gives back (the agent's log: the
 * snapshot session the line belongs to); NULL for none. Tags are cut at
 * MEMLOG_TAG_MAX bytes and count against the cap.
 */
#define MEMLOG_TAG_MAX 64
void memlog_append_tagged(MemLog *log, GLogLevelFlags level, const char *tag,
                          const char *format, ...) G_GNUC_PRINTF(4, 5);

/*
 * Called after every append, outside the buffer's lock, on the appending
 * thread; the owner uses it to schedule a flush when nothing holds the log
 * back. NULL (the default) for none.
 */
typedef void (*MemLogNotify)(gpointer user_data);
void memlog_set_notify(MemLog *log, MemLogNotify notify, gpointer user_data);

/* Lines currently buffered, and lines dropped since the last flush. */
guint memlog_get_length(MemLog *log);
guint64 memlog_get_dropped(MemLog *log);

/*
 * Empties the buffer, calling @func for each line oldest first. When lines
 * were dropped, @func first gets one G_LOG_LEVEL_WARNING line saying how
 * many. @func runs without the buffer's lock held, so it may append to @log
 * (those lines wait for the next flush).
 */
void memlog_flush(MemLog *log, MemLogFunc func, gpointer user_data);
/* The same, with each line's tag (transfer none, NULL for none); the
 * dropped-lines note gets the tag of the oldest line kept. */
typedef void (*MemLogTaggedFunc)(GLogLevelFlags level, const char *message, const char *tag,
                                 gint64 real_time_us, gpointer user_data);
void memlog_flush_tagged(MemLog *log, MemLogTaggedFunc func, gpointer user_data);

/*
 * A MemLogFunc that forwards a line to GLib's structured log (so to the
 * journal or stderr, as main configured), at its original level (ERROR is
 * sent as CRITICAL: G_LOG_LEVEL_ERROR would abort) and prefixed with the
 * time it was logged, since it reaches the log later than it happened.
 * @user_data: unused.
 */
void memlog_func_glib(GLogLevelFlags level, const char *message,
                      gint64 real_time_us, gpointer user_data);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(MemLog, memlog_free)

#endif
