/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * writers-fixture.h — shared scaffolding of the writers tests: a temp dir
 * with a native and a compat script directory, a WritersConfig pointing
 * there (socket in the temp dir, trusted uid = ours), real shell scripts
 * written at test time, socket-writer processes (the quiesce-writer tool),
 * and small checks a user would make (files, process existence).
 */
#ifndef QUIESCE_TESTS_WRITERS_FIXTURE_H
#define QUIESCE_TESTS_WRITERS_FIXTURE_H

#include <glib.h>
#include <sys/types.h>

#include "agent/writers/writers.h"

typedef struct {
    char *dir;        /* temp dir (resolved), removed in teardown */
    char *script_dir; /* dir/writers.d, mode 0755 */
    char *compat_dir; /* dir/hook.d, mode 0755 */
    char *log_path;   /* dir/order.log: scripts append "NAME PHASE" lines */
    char *socket_path;/* dir/writers.sock */
    WritersConfig config;
    Writers *writers; /* made by fixture_start() */
    GArray *children; /* GPid of spawned processes, killed in teardown */
} Fixture;

void fixture_setup(Fixture *fixture, gconstpointer data);
void fixture_teardown(Fixture *fixture, gconstpointer data);

/* Creates fixture->writers from fixture->config (assert success). */
void fixture_start(Fixture *fixture);

/*
 * Writes an executable "#!/bin/sh" script @name in @dir with @body, mode
 * 0755 (then chmod to @mode unless 0). $LOG in the body is the fixture's
 * order log. Returns: (transfer full) its path.
 */
char *fixture_write_script(Fixture *fixture, const char *dir, const char *name,
                           const char *body, mode_t mode);
/* A script that appends "NAME $1" to the order log, then runs @extra. */
char *fixture_write_logger(Fixture *fixture, const char *dir, const char *name,
                           const char *extra);

/* (transfer full) The order log's lines (empty when absent). */
GStrv fixture_read_log(Fixture *fixture);
/* Asserts the order log is exactly @expected (NULL-terminated). */
void fixture_assert_log(Fixture *fixture, const char *const *expected);

/*
 * Starts `quiesce-writer --socket ... --name NAME ARGS...` (NULL-terminated
 * args), remembers it for teardown, and iterates the main context until
 * the agent has registered it (asserts within 5 s). Returns its pid.
 */
GPid fixture_spawn_tool(Fixture *fixture, const char *name, ...) G_GNUC_NULL_TERMINATED;

/* SIGKILLs and reaps a child started by the fixture (now, not at teardown). */
void fixture_kill_child(Fixture *fixture, GPid pid);

/* Iterates the default main context until @done(@data) or @timeout_ms;
 * returns the last @done. */
gboolean fixture_iterate_until(gboolean (*done)(gpointer data), gpointer data,
                               guint timeout_ms);
/* TRUE when @name is among the registered socket writers. */
gboolean fixture_has_socket_writer(Fixture *fixture, const char *name);

/* TRUE when @pid exists and is not a zombie. */
gboolean pid_is_running(pid_t pid);
/* Waits up to @timeout_ms for @pid to be gone (or a zombie). */
gboolean pid_wait_gone(pid_t pid, guint timeout_ms);
/* Reads a pid written to @path by a script (asserts it exists). */
pid_t read_pid_file(const char *path);

/* Waits up to @timeout_ms for @path to exist and contain @needle. */
gboolean file_wait_contains(const char *path, const char *needle, guint timeout_ms);

/* Collects the held log as one string (lines joined with "\n"). */
char *fixture_flush_log(Fixture *fixture);

#endif
