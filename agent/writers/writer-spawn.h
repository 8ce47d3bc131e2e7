/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * writer-spawn.h — run one script writer to completion or to its deadline.
 *
 * The child (posix_spawn, so it is safe in a threaded daemon):
 *   - runs in a new session and process group (setsid), so a timeout can
 *     kill it together with everything it started;
 *   - has stdin from /dev/null, stdout and stderr on one capture pipe;
 *   - has every signal unblocked (the daemon blocks some, e.g. SIGIO, and a
 *     mask is inherited across exec) and every signal at its default
 *     action (an ignored SIGPIPE would be inherited too). One exception we
 *     cannot change: glibc's posix_spawn (2.36) leaves its two internal
 *     signals, 32 and 33, ignored in the child; glibc programs cannot use
 *     them (SIGRTMIN is 34) and re-install them when they need them;
 *   - has no other fd open (closefrom(3)), and cwd "/".
 *
 * Waiting uses poll() on the pipe and a pidfd (or 10 ms naps where pidfd
 * is missing) — never the main loop: the engine calls writers from inside a
 * command handler. The script is done when its main process exits; its
 * output is read while it runs and kept capped (writer-output.h).
 *
 * Unlike qemu-ga (docs/qga-reference.md §6), a script that leaves a child in
 * the background holding stdout (qemu's mysql-flush sample keeps a mysql
 * client holding a lock that way) neither blocks the agent nor loses that
 * child: the pipe is handed back to the caller to keep draining, so the
 * child never gets SIGPIPE. At the deadline the whole process group gets
 * SIGKILL and is reaped; it counts as WRITER_OUTCOME_TIMED_OUT.
 */
#ifndef QUIESCE_AGENT_WRITERS_WRITER_SPAWN_H
#define QUIESCE_AGENT_WRITERS_WRITER_SPAWN_H

#include <glib.h>
#include <sys/types.h>

#include "agent/writers/writer-result.h"

typedef struct {
    const char *path;  /* executable (absolute: no PATH search) */
    const char *arg;   /* its one argument: the phase */
    const char *const *argv; /* or the whole argv (NULL: { path, arg }); the
                              * engine runs its running-state command so */
    gboolean discard_stderr; /* stderr to /dev/null instead of the capture */
    char **envp;       /* the complete environment */
    gint64 deadline;   /* g_get_monotonic_time() by which it must have exited */
    gsize output_cap;  /* bytes of output kept */
} WriterSpawnRequest;

/*
 * Runs the request. Never fails as a function: a script that cannot start
 * is a run with WRITER_OUTCOME_REFUSED and the errno in its detail.
 * Returns: (transfer full) the run, with its output.
 * @out_linger_fd: (out) -1, or the capture pipe's read end (non-blocking,
 *   O_CLOEXEC, transfer full) when the script exited normally but left
 *   something holding the pipe open.
 * @out_unreaped: (out) 0, or the pid of a killed child that did not die
 *   within a grace period (stuck in the kernel); the caller reaps it later.
 */
WriterRun *writer_spawn_run(const WriterSpawnRequest *request, int *out_linger_fd,
                            pid_t *out_unreaped);

#endif
