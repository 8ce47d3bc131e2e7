/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * set-time.h — guest-set-time's work behind a seam: the clock call and the
 * hwclock program come from a SetTimeOps table, so the unit test drives
 * qemu-ga's exact sequence and messages with a fake clock and a fake
 * program, and nothing on the test machine ever changes its clock. The
 * daemon only ever uses set_time_ops_system; there is no switch to reach
 * another table from outside.
 */
#ifndef QUIESCE_AGENT_COMMANDS_SET_TIME_H
#define QUIESCE_AGENT_COMMANDS_SET_TIME_H

#include <glib.h>
#include <sys/time.h>

typedef struct {
    /* settimeofday(2): 0, or -1 with errno set. */
    int (*set_clock)(const struct timeval *tv);
    /* The program run with -w (after setting the clock) or -s (without a
     * time); qemu-ga's is /sbin/hwclock, and without it the command is
     * unsupported. */
    const char *hwclock;
} SetTimeOps;

/* settimeofday() and /sbin/hwclock. */
extern const SetTimeOps set_time_ops_system;

/*
 * qemu-ga's guest-set-time (qga/commands-posix.c): with a time (ns since
 * the epoch) it is checked (a local date in 1970..2069), the clock set and
 * `hwclock -w` run; without one, `hwclock -s`. FALSE with qemu-ga's message
 * in *error; a time that fails the check changes nothing.
 */
gboolean set_time_apply(const SetTimeOps *ops, gboolean has_time, gint64 time_ns,
                        GError **error);

#endif
