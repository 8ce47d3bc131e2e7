/*
 * log.h — where the daemon's log lines go: stderr, systemd style, with a
 * level on every line (journald reads the "<N>" prefix when stderr is the
 * journal). Debug lines only with --verbose.
 *
 * While filesystems are frozen, lines are held in memory (common/memlog.h)
 * and written after the last thaw: journald writing to a frozen /var/log
 * would stop reading our stderr, and a blocked write to stderr would stop the
 * agent that must thaw (DESIGN §5).
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

#endif
