/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * thread-nice.c — the calling thread's nice raised for a span
 * (thread-nice.h).
 */
#include "fsfreeze/thread-nice.h"

#include <errno.h>
#include <linux/capability.h>
#include <sched.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The calling thread's nice; FALSE when it cannot be read. */
static gboolean nice_of_thread(int *nice)
{
    errno = 0;
    *nice = getpriority(PRIO_PROCESS, 0);
    return errno == 0;
}

gboolean thread_nice_raise(ThreadNice *self, int nice)
{
    memset(self, 0, sizeof(*self));
    self->raised =
        nice_of_thread(&self->old) && self->old > nice && setpriority(PRIO_PROCESS, 0, nice) == 0;
    return self->raised;
}

/* SCHED_OTHER with or without SCHED_RESET_ON_FORK (pid 0: this thread);
 * the nice value is kept. */
static gboolean set_reset_on_fork(gboolean on)
{
    struct sched_param param = {.sched_priority = 0};

    return sched_setscheduler(0, SCHED_OTHER | (on ? SCHED_RESET_ON_FORK : 0), &param) == 0;
}

/* Whether the calling thread holds CAP_SYS_NICE in its effective set
 * (capget() with pid 0: this thread), which clearing SCHED_RESET_ON_FORK
 * needs. RLIMIT_NICE alone lets a thread raise its nice, not clear the
 * flag. */
static gboolean may_clear_reset_on_fork(void)
{
    struct __user_cap_header_struct header = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

    memset(data, 0, sizeof(data));
    if (syscall(SYS_capget, &header, data) != 0) {
        return FALSE;
    }
    return (data[CAP_TO_INDEX(CAP_SYS_NICE)].effective & CAP_TO_MASK(CAP_SYS_NICE)) != 0;
}

gboolean thread_nice_raise_span(ThreadNice *self, int nice)
{
    memset(self, 0, sizeof(*self));
    /* sched_getscheduler() ORs in a SCHED_RESET_ON_FORK already set: a
     * thread that has it is left alone (the flag is not ours to clear);
     * so is one that could set the flag but not clear it after */
    if (nice >= 0 || sched_getscheduler(0) != SCHED_OTHER || !nice_of_thread(&self->old) ||
        self->old != 0 || !may_clear_reset_on_fork()) {
        return FALSE;
    }
    /* Only this thread's own children inherit its values, and it starts
     * none between the two calls: the order does not matter. The nice
     * first, as it is the one that needs the right. */
    if (setpriority(PRIO_PROCESS, 0, nice) != 0) {
        return FALSE;
    }
    self->raised = TRUE;
    if (!set_reset_on_fork(TRUE)) {
        thread_nice_restore(self);
        return FALSE;
    }
    self->reset_fork = TRUE;
    return TRUE;
}

void thread_nice_restore(ThreadNice *self)
{
    if (self->raised) {
        setpriority(PRIO_PROCESS, 0, self->old); /* lowering needs no right */
        self->raised = FALSE;
    }
    if (self->reset_fork) {
        /* needs CAP_SYS_NICE, which the raise checked for; were it
         * refused all the same, the children of a thread at nice 0 start
         * at 0 as they would without the flag */
        set_reset_on_fork(FALSE);
        self->reset_fork = FALSE;
    }
}
