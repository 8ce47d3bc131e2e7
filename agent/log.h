/*
 * log.h — where the daemon's log lines go: stderr, systemd style, with a
 * level on every line (journald reads the "<N>" prefix when stderr is the
 * journal). Debug lines only with --verbose.
 */
#ifndef QUIESCE_AGENT_LOG_H
#define QUIESCE_AGENT_LOG_H

#include <glib.h>

typedef struct {
    gboolean verbose;
    gboolean journal; /* stderr is connected to journald: use <N> prefixes */
} AgentLog;

/* Installs the GLib log writer; log must outlive the program's logging. */
void agent_log_install(AgentLog *log);

#endif
