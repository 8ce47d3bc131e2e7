/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-thread-nice.c — fsfreeze/thread-nice.c on this process's own
 * threads, each case in a thread of its own so the test's main thread is
 * never changed: a raise sets only the calling thread's nice and its
 * restore puts it back; a span is raised only from nice 0 under
 * SCHED_OTHER, and while it is, a process or thread the thread starts
 * begins at nice 0; after it, neither the nice nor SCHED_RESET_ON_FORK
 * is left; a thread without CAP_SYS_NICE (raising by RLIMIT_NICE) gets
 * no span, as it could not clear the flag. Raising needs CAP_SYS_NICE: without it, the cases that
 * need it skip (a failure under QUIESCE_TEST_REQUIRE_ROOT=1), and the one without checks that
 * nothing changes.
 */
#include <errno.h>
#include <linux/capability.h>
#include <sched.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fsfreeze/thread-nice.h"
#include "tests/support/test-run.h"

#define RAISED (-20)

static int nice_now(void)
{
    errno = 0;
    int nice = getpriority(PRIO_PROCESS, 0);
    g_assert_cmpint(errno, ==, 0);
    return nice;
}

/* Runs @body in a new thread (which starts at this thread's nice) and
 * returns what it returned. */
static gpointer in_thread(GThreadFunc body, gpointer data)
{
    return g_thread_join(g_thread_new("nice", body, data));
}

static gpointer can_raise_body(gpointer data)
{
    (void)data;
    return GINT_TO_POINTER(setpriority(PRIO_PROCESS, 0, RAISED) == 0);
}

/* Whether this process may raise a thread's nice; skips the test when not. */
static gboolean can_raise_or_skip(void)
{
    if (nice_now() != 0) {
        quiesce_test_skip("the test runs at a nice other than 0: a span is raised only from 0");
        return FALSE;
    }
    if (!GPOINTER_TO_INT(in_thread(can_raise_body, NULL))) {
        quiesce_test_skip_missing("CAP_SYS_NICE (to raise a thread's nice)");
        return FALSE;
    }
    return TRUE;
}

/* The calling thread's capability sets (capget/capset, pid 0: this
 * thread only). */
static void caps_get(struct __user_cap_data_struct *data)
{
    struct __user_cap_header_struct header = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};

    memset(data, 0, sizeof(*data) * _LINUX_CAPABILITY_U32S_3);
    g_assert_cmpint(syscall(SYS_capget, &header, data), ==, 0);
}

static gboolean has_cap_sys_nice(void)
{
    struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

    caps_get(data);
    return (data[CAP_TO_INDEX(CAP_SYS_NICE)].effective & CAP_TO_MASK(CAP_SYS_NICE)) != 0;
}

/* The nice a child process of this thread starts at. */
static int child_nice(void)
{
    int status = 0;
    pid_t pid = fork();

    g_assert_cmpint(pid, >=, 0);
    if (pid == 0) {
        errno = 0;
        int nice = getpriority(PRIO_PROCESS, 0);
        _exit(errno == 0 ? nice + 64 : 255); /* an exit status is unsigned */
    }
    g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
    g_assert_true(WIFEXITED(status));
    return WEXITSTATUS(status) - 64;
}

static gpointer nice_body(gpointer data)
{
    (void)data;
    return GINT_TO_POINTER(nice_now() + 64);
}

/* The nice a thread this thread creates starts at. */
static int thread_child_nice(void)
{
    return GPOINTER_TO_INT(in_thread(nice_body, NULL)) - 64;
}

static gpointer raise_body(gpointer data)
{
    ThreadNice nice;

    (void)data;
    g_assert_true(thread_nice_raise(&nice, RAISED));
    g_assert_cmpint(nice_now(), ==, RAISED);
    /* a thread raised without a span hands its value on */
    g_assert_cmpint(child_nice(), ==, RAISED);
    thread_nice_restore(&nice);
    g_assert_cmpint(nice_now(), ==, 0);
    thread_nice_restore(&nice); /* twice: a no-op */
    g_assert_cmpint(nice_now(), ==, 0);
    /* already at or below the value: nothing to do */
    g_assert_cmpint(setpriority(PRIO_PROCESS, 0, RAISED), ==, 0);
    g_assert_false(thread_nice_raise(&nice, RAISED + 5));
    thread_nice_restore(&nice);
    g_assert_cmpint(nice_now(), ==, RAISED);
    return NULL;
}

static void test_raise(void)
{
    if (can_raise_or_skip()) {
        in_thread(raise_body, NULL);
        g_assert_cmpint(nice_now(), ==, 0); /* the test's thread untouched */
    }
}

static gpointer span_body(gpointer data)
{
    ThreadNice nice;

    (void)data;
    g_assert_true(thread_nice_raise_span(&nice, RAISED));
    g_assert_cmpint(nice_now(), ==, RAISED);
    g_assert_cmpint(sched_getscheduler(0), ==, SCHED_OTHER | SCHED_RESET_ON_FORK);
    g_assert_cmpint(child_nice(), ==, 0);
    g_assert_cmpint(thread_child_nice(), ==, 0);
    thread_nice_restore(&nice);
    g_assert_cmpint(nice_now(), ==, 0);
    g_assert_cmpint(sched_getscheduler(0), ==, SCHED_OTHER);
    return NULL;
}

static void test_span(void)
{
    if (!can_raise_or_skip()) {
        return;
    }
    if (!has_cap_sys_nice()) {
        quiesce_test_skip_missing("CAP_SYS_NICE (a span must clear SCHED_RESET_ON_FORK)");
        return;
    }
    in_thread(span_body, NULL);
}

/* Without CAP_SYS_NICE but with an RLIMIT_NICE that lets the thread raise
 * its nice: a plain raise works, a span is refused (it could set
 * SCHED_RESET_ON_FORK but not clear it), the thread left as it was. */
static gpointer span_without_cap_body(gpointer data)
{
    struct __user_cap_header_struct header = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct caps[_LINUX_CAPABILITY_U32S_3];
    ThreadNice nice;

    (void)data;
    caps_get(caps);
    caps[CAP_TO_INDEX(CAP_SYS_NICE)].effective &= ~CAP_TO_MASK(CAP_SYS_NICE);
    g_assert_cmpint(syscall(SYS_capset, &header, caps), ==, 0);
    g_assert_false(has_cap_sys_nice());
    g_assert_true(thread_nice_raise(&nice, RAISED));
    thread_nice_restore(&nice);
    g_assert_false(thread_nice_raise_span(&nice, RAISED));
    thread_nice_restore(&nice);
    g_assert_cmpint(nice_now(), ==, 0);
    g_assert_cmpint(sched_getscheduler(0), ==, SCHED_OTHER);
    return NULL;
}

static void test_span_without_cap(void)
{
    struct rlimit old;
    struct rlimit lifted = {.rlim_cur = 20 - RAISED, .rlim_max = 20 - RAISED};

    if (!can_raise_or_skip()) {
        return;
    }
    if (!has_cap_sys_nice()) {
        quiesce_test_skip_missing("CAP_SYS_NICE (to drop it from one thread)");
        return;
    }
    /* RLIMIT_NICE is the process's: lifted for the case, then put back */
    g_assert_cmpint(getrlimit(RLIMIT_NICE, &old), ==, 0);
    if (old.rlim_max < lifted.rlim_max && setrlimit(RLIMIT_NICE, &lifted) != 0) {
        /* a hard limit goes up only with CAP_SYS_RESOURCE, which some
         * containers' root lacks (this project's CI machine among them) */
        quiesce_test_skip("RLIMIT_NICE cannot be lifted here (no CAP_SYS_RESOURCE)");
        return;
    }
    g_assert_cmpint(setrlimit(RLIMIT_NICE, &lifted), ==, 0);
    in_thread(span_without_cap_body, NULL);
    g_assert_cmpint(setrlimit(RLIMIT_NICE, &old), ==, 0);
}

/* A span refused leaves the thread exactly as it was. */
static void assert_span_refused(int nice_before, int policy_before)
{
    ThreadNice nice;

    g_assert_false(thread_nice_raise_span(&nice, RAISED));
    thread_nice_restore(&nice);
    g_assert_cmpint(nice_now(), ==, nice_before);
    g_assert_cmpint(sched_getscheduler(0), ==, policy_before);
}

/* from another nice than 0: an operator's choice, kept */
static gpointer refused_other_nice(gpointer data)
{
    (void)data;
    g_assert_cmpint(setpriority(PRIO_PROCESS, 0, 3), ==, 0);
    assert_span_refused(3, SCHED_OTHER);
    return NULL;
}

/* another policy */
static gpointer refused_batch(gpointer data)
{
    struct sched_param param = {.sched_priority = 0};

    (void)data;
    g_assert_cmpint(sched_setscheduler(0, SCHED_BATCH, &param), ==, 0);
    assert_span_refused(0, SCHED_BATCH);
    return NULL;
}

/* SCHED_RESET_ON_FORK already set: not ours to clear */
static gpointer refused_reset_set(gpointer data)
{
    struct sched_param param = {.sched_priority = 0};

    (void)data;
    g_assert_cmpint(sched_setscheduler(0, SCHED_OTHER | SCHED_RESET_ON_FORK, &param), ==, 0);
    assert_span_refused(0, SCHED_OTHER | SCHED_RESET_ON_FORK);
    return NULL;
}

/* not a raise */
static gpointer refused_not_raise(gpointer data)
{
    ThreadNice nice;

    (void)data;
    g_assert_false(thread_nice_raise_span(&nice, 0));
    g_assert_false(thread_nice_raise_span(&nice, 5));
    g_assert_cmpint(nice_now(), ==, 0);
    return NULL;
}

/* Each in a thread of its own (lowering a nice, SCHED_BATCH and setting
 * the flag need no right; undoing them would). */
static void test_span_refused(void)
{
    if (nice_now() != 0) {
        quiesce_test_skip("the test runs at a nice other than 0");
        return;
    }
    in_thread(refused_other_nice, NULL);
    in_thread(refused_batch, NULL);
    in_thread(refused_reset_set, NULL);
    in_thread(refused_not_raise, NULL);
}

static const QuiesceTestFunc tests[] = {
    {"/thread-nice/raise", test_raise},
    {"/thread-nice/span", test_span},
    {"/thread-nice/span-refused", test_span_refused},
    {"/thread-nice/span-without-cap", test_span_without_cap},
};

QUIESCE_TEST_MAIN(tests)
