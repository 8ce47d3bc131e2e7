/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * thread-nice.h — the calling thread's nice value raised for a span of
 * work and put back after it (docs/internals.md, "Freeze speed").
 *
 * On Linux the nice value belongs to a thread, not to its process:
 * setpriority(PRIO_PROCESS, 0, ...) changes the calling thread only, and
 * a thread or process it creates starts with the creator's value. Raising
 * it (a lower number) needs CAP_SYS_NICE (or RLIMIT_NICE); lowering it
 * back needs nothing. Without the right, nothing changes and the work runs
 * at the thread's own nice: priority buys speed, never correctness.
 *
 * Two shapes:
 *   - thread_nice_raise(): a worker thread around one call that creates
 *     nothing (a syncfs(), a FIFREEZE).
 *   - thread_nice_raise_span(): a thread that may start processes (the
 *     writers, the running-state command) or threads within the span. The
 *     thread also sets SCHED_RESET_ON_FORK, with which the kernel starts
 *     every child of a thread whose nice is negative at nice 0, so what it
 *     starts runs as it would have without the span. The children's old
 *     value is 0 only when the thread's own is: a span is raised only from
 *     nice 0 under SCHED_OTHER, and left alone otherwise (an operator who
 *     set the agent's nice or policy keeps it). Clearing the flag needs
 *     CAP_SYS_NICE (RLIMIT_NICE is not enough): without it, no span.
 */
#ifndef QUIESCE_FSFREEZE_THREAD_NICE_H
#define QUIESCE_FSFREEZE_THREAD_NICE_H

#include <glib.h>

typedef struct {
    int old;             /* the value to put back */
    gboolean raised;     /* the nice is ours to put back */
    gboolean reset_fork; /* SCHED_RESET_ON_FORK is ours to clear */
} ThreadNice;

/* Sets the calling thread's nice to @nice when it is above it and the
 * thread may; TRUE when it did. */
gboolean thread_nice_raise(ThreadNice *self, int nice);
/* The same for a span that may create threads or processes: only from
 * nice 0 under SCHED_OTHER, and with SCHED_RESET_ON_FORK so that they
 * start at nice 0. TRUE when it did; FALSE leaves the thread as it was. */
gboolean thread_nice_raise_span(ThreadNice *self, int nice);
/* Puts back what a raise did (a no-op when it did nothing, or twice). */
void thread_nice_restore(ThreadNice *self);

#endif
