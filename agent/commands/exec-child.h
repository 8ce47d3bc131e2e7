/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * exec-child.h — one process started by guest-exec, as qemu-ga starts it
 * (qga/commands.c qmp_guest_exec(), docs/qga-reference.md §8): found on
 * PATH (the given environment's PATH when there is one), stdin from
 * input-data or /dev/null, stdout and stderr captured or sent to
 * /dev/null, SIGPIPE at its default action.
 *
 * Unlike qemu-ga's children it also runs in a process group of its own
 * and with no signal blocked (the agent blocks SIGIO), and it never
 * inherits an fd of the agent's (GLib closes every fd above 2 in the child;
 * ours are close-on-exec anyway). Everything happens in the main loop
 * without blocking: a child watch reaps it, non-blocking pipes feed stdin
 * and drain stdout/stderr. Each captured stream keeps its first
 * EXEC_CHILD_OUTPUT_MAX bytes (GUEST_EXEC_MAX_OUTPUT) and reads and drops
 * the rest, marking it truncated, so the child never blocks on a full pipe;
 * the bytes kept by all children together are capped too (the budget).
 */
#ifndef QUIESCE_AGENT_COMMANDS_EXEC_CHILD_H
#define QUIESCE_AGENT_COMMANDS_EXEC_CHILD_H

#include <glib.h>

#define EXEC_CHILD_OUTPUT_MAX (16u * 1024 * 1024)

typedef struct {
    GByteArray *data; /* what was kept */
    gboolean truncated; /* something was dropped */
    gboolean closed;    /* end of file: all the output is in */
    int fd;             /* owned; -1 once closed */
    guint watch;
    gsize *budget_used; /* the family's count of bytes kept; borrowed */
    gsize budget_max;
} ExecChildStream;

typedef struct {
    GPid pid;
    gboolean capture;   /* capture-output */
    gboolean exited;
    int wait_status;    /* waitpid()'s, once exited */
    guint child_watch;
    guint8 *input;      /* owned input-data, freed once written */
    gsize input_len, input_done;
    int in_fd;          /* owned; -1 when none or closed */
    guint in_watch;
    ExecChildStream out, err;
} ExecChild;

typedef struct {
    const char *const *argv; /* argv[0] is the path */
    const char *const *envp; /* NULL: the agent's environment */
    const guint8 *input;     /* input-data, decoded; copied */
    gsize input_len;
    gboolean has_input;
    gboolean capture;
    gsize *budget_used; /* shared by the family's children, borrowed */
    gsize budget_max;
} ExecChildRequest;

/* Starts the child; on failure sets qemu-ga's "Guest agent command failed,
 * error was '...'" (with GLib's reason). (transfer full) */
ExecChild *exec_child_spawn(const ExecChildRequest *request, GError **error);
/* Exited, and when captured, both streams read to their end (qemu-ga waits
 * for that too, so a background grandchild holding stdout keeps it open). */
gboolean exec_child_is_done(const ExecChild *child);
/* Stops watching and frees; a child still running is left running. */
void exec_child_free(ExecChild *child);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ExecChild, exec_child_free)

#endif
