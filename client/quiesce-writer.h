/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * quiesce-writer.h — client library for socket writers of quiesced, and the
 * definition of the wire protocol they speak.
 *
 * A socket writer is a long-running process (a database, a queue, a cache
 * that holds dirty data) that must reach a consistent on-disk state before
 * the guest's filesystems are frozen for a host snapshot, and may need to
 * hold that state (a lock) across the freeze window. It connects to the
 * agent's unix socket, registers a name, and then answers the phases of each
 * snapshot session as they come. Plain C, no dependencies beyond libc, so any
 * program can link it; the `quiesce-writer` command-line helper
 * (quiesce-writer-tool.c) lets a shell script be a socket writer.
 *
 * WIRE PROTOCOL (version 1)
 *
 * Transport: a SOCK_STREAM unix socket, by default
 * QUIESCE_WRITER_DEFAULT_SOCKET. The agent admits root, its own uid, and
 * members of one configured group (checked with SO_PEERCRED and
 * SO_PEERGROUPS); everyone else is refused.
 *
 * Framing: every message is one line of printable ASCII (0x20-0x7e) ending
 * in "\n", at most QUIESCE_WRITER_LINE_MAX bytes including the newline.
 * Words are separated by single spaces. A longer line, or any other byte,
 * is a protocol violation and the receiver closes the connection.
 *
 *   writer -> agent   hello 1 NAME
 *       Sent once, first. NAME is 1..QUIESCE_WRITER_NAME_MAX characters of
 *       [A-Za-z0-9._-]; it names the writer in logs and failure reports and
 *       is unique among connected writers. 1 is the protocol version.
 *   agent -> writer   welcome 1
 *                     refused REASON...
 *       After "refused" the agent closes the connection (not allowed, bad
 *       name, name in use, too many writers, unsupported version). The
 *       agent closes a connection that has not said hello within
 *       5 seconds.
 *   agent -> writer   event PHASE SESSION
 *       PHASE is one of prepare, freeze, thaw, freeze-fail, post-snapshot
 *       (more may be added: answer "ok PHASE" to a phase you do not know).
 *       SESSION is the session id (up to QUIESCE_WRITER_SESSION_MAX
 *       characters of [A-Za-z0-9._:-]) or "-" when there is none
 *       (guest-fsfreeze-freeze has no session).
 *   writer -> agent   ok PHASE
 *                     fail PHASE REASON...
 *       The answer to the one outstanding event, naming its phase. It must
 *       come within the agent's per-writer timeout (30 s by default) or the
 *       writer counts as failed and the agent closes the connection.
 *
 * The writer sends nothing else: a line that is not the answer to the
 * outstanding event is a violation. Events come one at a time.
 *
 * Phases, in the order a session sends them:
 *   prepare        before the freeze window, with time to spare: do slow
 *                  work now (a checkpoint). Leaves nothing to undo; a freeze
 *                  may never follow. "fail" makes the host fall back to a
 *                  saved-state backup.
 *   freeze         make the on-disk state consistent and hold it (stop
 *                  writing, keep a lock) until thaw or freeze-fail. Writers
 *                  are frozen before the filesystems. "fail" aborts the
 *                  snapshot; a writer that answers "fail" must hold nothing.
 *   freeze-fail    the snapshot was abandoned after this writer froze
 *                  (a failure, the host's abort, the agent's window
 *                  expired, the host gone, the agent stopping): release
 *                  what freeze took. Sent in reverse freeze order.
 *   thaw           the snapshot is taken (the host's post or thaw): release.
 *                  Sent after the filesystems are thawed, in reverse freeze
 *                  order, to every frozen writer even when another failed.
 *   post-snapshot  after a good snapshot, with its session id (e.g. to
 *                  truncate logs the backup now holds). Failure is logged
 *                  only.
 *
 * Hang-ups. When the agent closes the connection while the writer is frozen
 * (the agent timed it out, or the agent died), the writer must release at
 * once, exactly as on freeze-fail: this library reports that as a local
 * freeze-fail event. When the writer closes the connection while frozen,
 * the agent reports the snapshot as not consistent and it is discarded.
 *
 * Example session (> agent to writer, < writer to agent):
 *   < hello 1 db
 *   > welcome 1
 *   > event prepare 6f1c...e2
 *   < ok prepare
 *   > event freeze 6f1c...e2
 *   < ok freeze
 *   > event thaw 6f1c...e2
 *   < ok thaw
 *   > event post-snapshot 6f1c...e2
 *   < ok post-snapshot
 *
 * LIBRARY
 *
 * Functions return 0 (or a pointer) on success and -1 (or NULL) on failure
 * with errno set; quiesce_writer_get_error() says more. A QuiesceWriter is
 * not thread-safe. Its socket is opened SOCK_CLOEXEC. Writes use
 * MSG_NOSIGNAL, so a hang-up never raises SIGPIPE.
 */
#ifndef QUIESCE_CLIENT_QUIESCE_WRITER_H
#define QUIESCE_CLIENT_QUIESCE_WRITER_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* libquiesce-writer.so.1 is compiled with hidden visibility
 * (client/CMakeLists.txt): what this header declares is its whole ABI. */
#if defined(__GNUC__)
#pragma GCC visibility push(default)
#endif

#define QUIESCE_WRITER_PROTOCOL_VERSION 1
#define QUIESCE_WRITER_DEFAULT_SOCKET "/run/quiesce/writers.sock"
#define QUIESCE_WRITER_LINE_MAX 512    /* bytes per line, newline included */
#define QUIESCE_WRITER_NAME_MAX 64     /* characters in a writer name */
#define QUIESCE_WRITER_SESSION_MAX 128 /* characters in a session id */
#define QUIESCE_WRITER_PHASE_MAX 32    /* characters in a phase name */
#define QUIESCE_WRITER_HELLO_TIMEOUT_MS 5000

typedef struct QuiesceWriter QuiesceWriter;

typedef struct {
    char phase[QUIESCE_WRITER_PHASE_MAX + 1];
    char session_id[QUIESCE_WRITER_SESSION_MAX + 1]; /* "" when the agent sent "-" */
    /* 1 when the library made this event up: the agent hung up while the
     * writer was frozen, so this is a freeze-fail to act on without
     * replying (quiesce_writer_reply() accepts and ignores it). */
    int local;
} QuiesceWriterEvent;

/* Is name a valid writer name? Returns 1 or 0. */
int quiesce_writer_name_is_valid(const char *name);

/*
 * Connects to @socket_path (NULL: QUIESCE_WRITER_DEFAULT_SOCKET), sends the
 * hello and waits up to QUIESCE_WRITER_HELLO_TIMEOUT_MS for the welcome.
 * Returns: (transfer full) a connected writer, or NULL with errno set
 *   (EACCES when refused, EINVAL for a bad name, ETIMEDOUT, EPROTO, or the
 *   connect() errno) and, when @err is not NULL, a message in @err.
 */
QuiesceWriter *quiesce_writer_connect(const char *socket_path, const char *name,
                                      char *err, size_t err_size);

/* Closes the connection and frees @writer (NULL is fine). */
void quiesce_writer_close(QuiesceWriter *writer);

/* The socket, for poll(): readable means quiesce_writer_next_event() has
 * something to read. Owned by @writer. */
int quiesce_writer_get_fd(const QuiesceWriter *writer);

/* 1 when a complete line (or a local event) is buffered, so the next
 * quiesce_writer_next_event() returns at once even if the fd is not
 * readable. */
int quiesce_writer_has_pending(const QuiesceWriter *writer);

/* 1 between a successful "ok freeze" reply and the next thaw or freeze-fail. */
int quiesce_writer_is_frozen(const QuiesceWriter *writer);

/*
 * Waits up to @timeout_ms (-1: no limit, 0: do not wait) for the next event.
 * Returns 1 with *event filled in, 0 on timeout, -1 when the connection is
 * over: errno EPIPE when the agent hung up, EPROTO when it broke the
 * protocol, or an I/O errno. If the writer was frozen, the hang-up is first
 * returned as a local freeze-fail event (return 1, event->local = 1).
 */
int quiesce_writer_next_event(QuiesceWriter *writer, QuiesceWriterEvent *event,
                              int timeout_ms);

/*
 * Answers @event: "ok" when @fail_reason is NULL, otherwise "fail" with the
 * reason (non-printable characters become '?', and it is cut to fit the
 * line). Returns 0, or -1 with errno (EPIPE when the agent hung up).
 */
int quiesce_writer_reply(QuiesceWriter *writer, const QuiesceWriterEvent *event,
                         const char *fail_reason);

/*
 * Handles one event. Return 0 for "ok"; anything else answers "fail" with
 * the text left in @reason (NUL-terminated, at most @reason_size bytes; it
 * starts empty). Local events are passed too (their answer is ignored).
 */
typedef int (*QuiesceWriterHandler)(const QuiesceWriterEvent *event, char *reason,
                                    size_t reason_size, void *user_data);

/*
 * Runs @handler for every event until the connection ends. Returns 0 when
 * the agent hung up (after the local freeze-fail, if frozen), -1 with errno
 * on a protocol or I/O error.
 */
int quiesce_writer_run(QuiesceWriter *writer, QuiesceWriterHandler handler,
                       void *user_data);

/* The last error's message, or "" (owned by @writer). */
const char *quiesce_writer_get_error(const QuiesceWriter *writer);

#if defined(__GNUC__)
#pragma GCC visibility pop
#endif

#ifdef __cplusplus
}
#endif

#endif
