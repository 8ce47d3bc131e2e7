/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * agent-process.h — test helper: start an agent (quiesced or qemu-ga) on a
 * unix socket in a fresh temp dir, talk raw bytes to it, stop it with
 * SIGTERM and check it exits 0 (as qemu-ga's own test-qga does).
 */
#ifndef QUIESCE_TESTS_AGENT_PROCESS_H
#define QUIESCE_TESTS_AGENT_PROCESS_H

#include <glib.h>

typedef struct AgentProcess AgentProcess;

typedef struct {
    const char *const *extra_args; /* appended to the command line; may be NULL */
    const char *const *envp;       /* NULL: inherit */
    /* quiesced only, for safety always set: --confine (default: the agent's
     * own temp dir, so a stray freeze request can never reach the machine's
     * filesystems) and --state-dir (default: <temp dir>/state). */
    const char *confine;
    const char *state_dir;
    /* quiesced only: the configuration file's text. Default: only
     * "[freeze] running-state-command=" (empty: do not ask systemd), so no
     * test depends on the host's systemd state. */
    const char *config;
    /* The agent's stderr goes to this file (created or truncated); NULL:
     * inherited. */
    const char *stderr_path;
    /* Return as soon as it is spawned, without waiting for the socket. */
    gboolean no_wait;
} AgentProcessOptions;

/* flavour: "quiesced" or "qemu-ga"; extra_args (NULL-terminated, may be
 * NULL) are appended to the command line. Waits until the socket accepts. */
AgentProcess *agent_process_start(const char *flavour, const char *binary,
                                  const char *const *extra_args, GError **error);
AgentProcess *agent_process_start_full(const char *flavour, const char *binary,
                                       const AgentProcessOptions *options, GError **error);
const char *agent_process_socket(const AgentProcess *agent);
const char *agent_process_dir(const AgentProcess *agent);
GPid agent_process_pid(const AgentProcess *agent);
/* Connects, sends input, reads until `want` bytes arrived (then briefly for
 * anything extra) or timeout_ms passed, closes. Returns what was read. */
GByteArray *agent_process_exchange(const char *socket_path, const guint8 *input, gsize len,
                                   gsize want, int timeout_ms, GError **error);
/* The same, reading until `lines` newline-terminated replies arrived. */
GByteArray *agent_process_exchange_lines(const char *socket_path, const guint8 *input, gsize len,
                                         guint lines, int timeout_ms, GError **error);
/* A connection of the test's own to a unix socket (asserts it works). */
int agent_process_connect(const char *socket_path);
/* Writes all of text to fd (asserts). */
void agent_process_send(int fd, const char *text);
/* One reply line from fd within timeout_ms, or NULL. (transfer full) */
char *agent_process_read_line(int fd, int timeout_ms);
/* One request on a fresh connection: its reply line, or NULL when none
 * came within timeout_ms. (transfer full) */
char *agent_process_ask(const char *socket_path, const char *request, int timeout_ms);
/* SIGTERM, wait up to 5 s; FALSE unless it exited with status 0. */
gboolean agent_process_stop(AgentProcess *agent, GError **error);
/* SIGTERM, wait up to 5 s; *wait_status from waitpid(). FALSE only when it
 * did not exit. */
gboolean agent_process_terminate(AgentProcess *agent, int *wait_status, GError **error);
void agent_process_free(AgentProcess *agent);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(AgentProcess, agent_process_free)

#endif
