/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hv-vss-agent.h — test helper: the real quiesced serving a fake hv_vss
 * device (fake-kernel.h) and, beside it, a QGA unix socket on the same
 * engine, with its log captured to a file the test can read.
 *
 * SAFETY: the agent always gets --confine=<dir> (the test's own directory,
 * holding only loop mounts the test made), --state-dir=<dir>/state and a
 * configuration file whose [freeze] running-state-command is empty unless
 * the test says otherwise, and whose [writers] are the test's own or none
 * (no script of this machine runs, no socket is created under /run). It
 * dies with the test (PR_SET_PDEATHSIG).
 */
#ifndef QUIESCE_TESTS_HV_VSS_AGENT_H
#define QUIESCE_TESTS_HV_VSS_AGENT_H

#include <glib.h>

typedef struct HvVssAgent HvVssAgent;

typedef struct {
    const char *binary; /* quiesced */
    const char *dir;    /* the confinement dir; state, config, log and sockets go here */
    const char *device; /* the fake kernel's path */
    const char *config; /* NULL: "[freeze]\nrunning-state-command=\n"; must not
                         * hold [writers]: that group is appended (writers_dir) */
    const char *const *envp; /* NULL: inherit */
    const char *writers_dir; /* the one script writers directory; NULL: none */
} HvVssAgentOptions;

/* Spawns the agent; does not wait for anything. (transfer full) */
HvVssAgent *hv_vss_agent_start(const HvVssAgentOptions *options, GError **error);
GPid hv_vss_agent_pid(const HvVssAgent *agent);
/* The QGA channel beside hv-vss (unix-listen). */
const char *hv_vss_agent_qga_socket(const HvVssAgent *agent);
/* One QGA request, its one-line reply (transfer full). */
char *hv_vss_agent_ask(HvVssAgent *agent, const char *request, GError **error);
/* The log so far. (transfer full) */
char *hv_vss_agent_log(const HvVssAgent *agent);
/* Waits up to timeout_ms for needle to appear in the log. */
gboolean hv_vss_agent_wait_log(const HvVssAgent *agent, const char *needle, int timeout_ms);
/* Waits up to timeout_ms for the agent to exit on its own; *status from
 * waitpid. FALSE if it is still running. */
gboolean hv_vss_agent_wait_exit(HvVssAgent *agent, int timeout_ms, int *status);
/* SIGTERM; TRUE when it exited with status 0 within 5 s. */
gboolean hv_vss_agent_stop(HvVssAgent *agent, GError **error);
/* SIGKILL (when still running), reap, free. */
void hv_vss_agent_free(HvVssAgent *agent);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(HvVssAgent, hv_vss_agent_free)

#endif
