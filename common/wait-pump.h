/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * wait-pump.h — what the main thread does while one request waits.
 *
 * The daemon's long waits (a script writer's run, a socket writer's
 * answer, the freezer's threads in syncfs() or FIFREEZE) block the thread
 * that made the request. They wait in slices of at most WAIT_PUMP_SLICE_MS
 * and call wait_pump_run() between slices, so the owner of the main loop
 * (agent/agent.c) can answer other hosts meanwhile (docs/internals.md,
 * "One request in flight"). Without a pump set, or on another thread,
 * wait_pump_run() does nothing and the waits behave as plain blocking ones.
 *
 * Set once from the thread that runs the main loop, before it runs.
 */
#ifndef QUIESCE_COMMON_WAIT_PUMP_H
#define QUIESCE_COMMON_WAIT_PUMP_H

#include <glib.h>

#define WAIT_PUMP_SLICE_MS 20

typedef void (*WaitPumpFunc)(gpointer user_data);

/* func runs on the calling thread only; NULL removes it. */
void wait_pump_set(WaitPumpFunc func, gpointer user_data);
/* TRUE when a pump runs for this thread: the caller should wait in slices. */
gboolean wait_pump_active(void);
/* wait_ms cut to one slice when a pump is active (negative: forever). */
int wait_pump_slice_ms(int wait_ms);
void wait_pump_run(void);
/* For a wait whose poll() can keep returning ready (a writer that writes
 * without pause): runs the pump when a slice or more has passed since
 * *last_us, which it sets to now when it does (start it at the wait's
 * start), so other hosts are still answered every slice. */
void wait_pump_run_due(gint64 *last_us);

#endif
