/*
 * log.h — where the daemon's log lines go: stderr, systemd style, with a
 * level on every line (journald reads the "<N>" prefix when stderr is the
 * journal). Debug lines only with --verbose.
 *
 * While filesystems are frozen, lines are held in memory (common/memlog.h)
 * and written after the last thaw: journald writing to a frozen /var/log
 * would stop reading our stderr, and a blocked write to stderr would stop the
 * agent that must thaw (docs/design.md §7).
 */
#ifndef QUIESCE_AGENT_LOG_H
#define QUIESCE_AGENT_LOG_H

#include <glib.h>

#include "common/memlog.h"

#define AGENT_LOG_HOLD_BYTES (256u * 1024)

typedef struct {
    gboolean verbose;
    gboolean journal; /* stderr is connected to journald: use <N> prefixes */
    MemLog *held;     /* non-NULL while holding lines */
} AgentLog;

/* Installs the GLib log writer; log must outlive the program's logging. */
void agent_log_install(AgentLog *log);
/* Starts holding lines in memory, or stops and writes what was held. */
void agent_log_hold(AgentLog *log, gboolean hold);

/*
 * For an agent stopping with filesystems still frozen (a thaw failed):
 * stderr may lead to the frozen disk (journald writing /var/log), so the
 * held lines are appended to path instead, oldest first, each with the time
 * it was logged, under a header line. The log keeps holding: later lines
 * wait for another save or agent_log_release(). FALSE when path cannot be
 * opened; the lines stay held then.
 */
gboolean agent_log_save_held(AgentLog *log, const char *path, GError **error);
/* Stops holding for good at exit: what is still held is appended to path
 * (may be NULL) or, failing that, written to stderr. */
void agent_log_release(AgentLog *log, const char *path);

#endif
