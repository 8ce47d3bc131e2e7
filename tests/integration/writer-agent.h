/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * writer-agent.h — the real quiesced in front of a database writer, for the
 * ways a frozen writer is let go that only the agent itself takes: its
 * window expiring, the host that prepared going away, the agent being
 * killed, and its per-writer timeout. The database tests drive the writers
 * module in-process for everything else (writers-fixture.h).
 *
 * One small ext4 loop image (loopfs.h) in a /var/tmp dir of its own is
 * all the agent may freeze (--confine), so guest-snapshot-prepare answers
 * child-snapshot and a session really starts. The database's files are
 * elsewhere: none of its clients waits on that freeze, so what they wait
 * on is the writer alone. Needs root and the loop tools
 * (writer_agent_missing()).
 */
#ifndef QUIESCE_TESTS_WRITER_AGENT_H
#define QUIESCE_TESTS_WRITER_AGENT_H

#include <glib.h>

#include "tests/support/agent-process.h"
#include "tests/support/loopfs.h"

typedef struct {
    char *dir;           /* /var/tmp/quiesce-writer-agent-PID-XXXXXX */
    LoopFsGuard *guard;  /* owns fs */
    LoopFs *fs;          /* dir/fs, ext4: what a session freezes */
    char *writer_socket; /* dir/writers.sock: give it to the writer */
    char *log_path;      /* dir/quiesced.log: the agent's stderr */
    AgentProcess *agent; /* NULL until writer_agent_start() */
} WriterAgent;

/* The paths, and what each test of one does with the agent. */
typedef enum {
    WRITER_AGENT_WINDOW_EXPIRED, /* window WRITER_AGENT_END_S, no host-lost grace */
    WRITER_AGENT_HOST_GONE,      /* host-lost grace WRITER_AGENT_END_S, window 30 s */
    WRITER_AGENT_KILLED,         /* SIGKILLed after prepare */
    WRITER_AGENT_WRITER_TIMEOUT, /* the writer outlasts [writers] timeout=2 */
    WRITER_AGENT_N_PATHS,
} WriterAgentPath;

/* "window-expired", "host-gone", "agent-killed", "writer-timeout". */
extern const char *const writer_agent_path_names[WRITER_AGENT_N_PATHS];

/* NULL when root, the loop tools and $QUIESCED are there, else (transfer
 * full) what is missing. */
char *writer_agent_missing(void);

/* The dir and the loop image; no agent yet. First removes what runs whose
 * process is gone left behind (an assertion aborts before any cleanup).
 * (transfer full) */
WriterAgent *writer_agent_new(void);
/*
 * Starts quiesced with [freeze] window=@window_s, host-lost-grace=@grace_s
 * (0: the window alone) and [writers] timeout=@writer_timeout_s, socket
 * writers on writer_socket, no scripts. Asserts it answers.
 */
void writer_agent_start(WriterAgent *agent, guint window_s, guint grace_s,
                        guint writer_timeout_s);
/* The window, and the host-lost grace: time for a test to see the lock
 * held after prepare's answer on a loaded machine (the window counts from
 * before the writers' prepare). */
#define WRITER_AGENT_END_S 5
/* How long after its release is due a writer gets to let go. */
#define WRITER_AGENT_SLACK_S 3

/* writer_agent_new() and writer_agent_start() as @path wants them; NULL
 * after quiesce_test_skip_missing() when writer_agent_missing() says what
 * is missing. */
WriterAgent *writer_agent_new_for(WriterAgentPath path);
/*
 * guest-snapshot-prepare on a connection closed after the reply. Asserts
 * a session froze the image, or for WRITER_AGENT_WRITER_TIMEOUT that the
 * host got saved-state naming @writer_name with nothing frozen.
 * (transfer full) the reply.
 */
char *writer_agent_prepare(WriterAgent *agent, WriterAgentPath path, const char *writer_name);
/* When (monotonic µs) the writer must have let go on @path: when its
 * release is due, plus WRITER_AGENT_SLACK_S. Due: the agent ending the
 * session (WRITER_AGENT_END_S after @start_us, when prepare was sent);
 * for WRITER_AGENT_KILLED now (call it right after the kill); for the
 * writer timeout @writer_limit_s after @start_us, the writer's own limit
 * for its phase. */
gint64 writer_agent_release_bound(WriterAgentPath path, gint64 start_us, gint64 writer_limit_s);
/* For the window and the host gone: the agent ended the session itself,
 * the image is thawed and a late post says why. No-op for the others. */
void writer_agent_assert_ended(WriterAgent *agent, WriterAgentPath path, const char *prepare);
/* One request on a connection of its own, closed after the reply (a host
 * that connects per command). (transfer full) the reply line. */
char *writer_agent_ask(WriterAgent *agent, const char *request);
/* 1 when fs is frozen, 0 when not (loopfs_guard's probe). */
int writer_agent_fs_frozen(WriterAgent *agent);
/* SIGKILL, reaped: the agent is gone as when it crashes (what it froze
 * stays frozen until writer_agent_free()). */
void writer_agent_kill(WriterAgent *agent);
/* Kills the agent if running, thaws and removes the image and the dir. */
void writer_agent_free(WriterAgent *agent);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(WriterAgent, writer_agent_free)

#endif
