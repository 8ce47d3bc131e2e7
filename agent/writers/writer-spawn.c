/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * writer-spawn.c — spawn a script writer, capture its output, enforce its
 * deadline; see writer-spawn.h for the child's setup and why.
 */
#include "agent/writers/writer-spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/pidfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/writers/writer-output.h"
#include "common/wait-pump.h"

/* How long a SIGKILLed process group may take to be reaped. */
#define WRITER_KILL_GRACE_US (2 * G_USEC_PER_SEC)
/* Poll step when no pidfd is available (kernel < 5.3). */
#define WRITER_NAP_MS 10

typedef struct {
    pid_t pid;
    int pidfd;   /* -1 when unavailable */
    int out_fd;  /* capture pipe read end; -1 once at end of file */
} WriterChild;

/* Starts the child. Returns 0 or an errno value. */
static int writer_child_start(const WriterSpawnRequest *request, WriterChild *child)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0) {
        return errno;
    }
    /* The write end must not sit on 0-2, or the dup2()s below would
     * clobber it before the last one ran. */
    if (fds[1] <= 2) {
        int moved = fcntl(fds[1], F_DUPFD_CLOEXEC, 3);
        int saved = errno;
        close(fds[1]);
        if (moved < 0) {
            close(fds[0]);
            return saved;
        }
        fds[1] = moved;
    }
    fcntl(fds[0], F_SETFL, O_NONBLOCK);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
    if (request->discard_stderr) {
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    } else {
        posix_spawn_file_actions_adddup2(&actions, fds[1], 2);
    }
    posix_spawn_file_actions_addclosefrom_np(&actions, 3);
    posix_spawn_file_actions_addchdir_np(&actions, "/");

    posix_spawnattr_t attr;
    sigset_t none;
    sigset_t all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK |
                                        POSIX_SPAWN_SETSIGDEF);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);

    char *path_arg[] = { (char *)request->path, (char *)request->arg, NULL };
    char *const *argv = request->argv ? (char *const *)request->argv : path_arg;
    int rc = posix_spawn(&child->pid, request->path, &actions, &attr, argv, request->envp);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    close(fds[1]);
    if (rc != 0) {
        close(fds[0]);
        return rc;
    }
    child->out_fd = fds[0];
    child->pidfd = pidfd_open(child->pid, 0);
    return 0;
}

/* Reaps the child if it has exited. Returns TRUE with *status when reaped. */
static gboolean writer_child_try_reap(WriterChild *child, int *status)
{
    pid_t got;
    do {
        got = waitpid(child->pid, status, WNOHANG);
    } while (got < 0 && errno == EINTR);
    return got == child->pid;
}

/* Waits for the child to exit or @deadline, reading its output meanwhile.
 * Returns TRUE with *status when it exited. */
static gboolean writer_child_wait(WriterChild *child, gint64 deadline, WriterOutput *output,
                                  int *status)
{
    gint64 pumped = g_get_monotonic_time();

    for (;;) {
        if (writer_child_try_reap(child, status)) {
            return TRUE;
        }
        gint64 left_us = deadline - g_get_monotonic_time();
        if (left_us <= 0) {
            return FALSE;
        }
        struct pollfd pfds[2];
        nfds_t n = 0;
        if (child->out_fd >= 0) {
            pfds[n++] = (struct pollfd){ .fd = child->out_fd, .events = POLLIN };
        }
        if (child->pidfd >= 0) {
            pfds[n++] = (struct pollfd){ .fd = child->pidfd, .events = POLLIN };
        }
        int wait_ms = (int)MIN((left_us + 999) / 1000, G_MAXINT);
        if (child->pidfd < 0) {
            wait_ms = MIN(wait_ms, WRITER_NAP_MS);
        }
        int ready = poll(pfds, n, wait_pump_slice_ms(wait_ms));
        if (ready < 0 && errno != EINTR) {
            g_usleep(WRITER_NAP_MS * 1000);
        }
        /* Other hosts are answered meanwhile, however much it writes. */
        wait_pump_run_due(&pumped);
        if (child->out_fd >= 0 &&
            !writer_output_read_fd_max(output, child->out_fd, WRITER_OUTPUT_READ_MAX, NULL)) {
            close(child->out_fd);
            child->out_fd = -1;
        }
    }
}

/* SIGKILLs the child's process group and reaps the child, waiting at most
 * WRITER_KILL_GRACE_US. Returns TRUE when reaped. */
static gboolean writer_child_kill(WriterChild *child)
{
    kill(-child->pid, SIGKILL);
    kill(child->pid, SIGKILL); /* in case setsid() had not run yet */
    gint64 deadline = g_get_monotonic_time() + WRITER_KILL_GRACE_US;
    int status;
    while (!writer_child_try_reap(child, &status)) {
        if (g_get_monotonic_time() >= deadline) {
            return FALSE;
        }
        struct pollfd pfd = { .fd = child->pidfd, .events = POLLIN };
        if (child->pidfd < 0 || poll(&pfd, 1, WRITER_NAP_MS) < 0) {
            g_usleep(WRITER_NAP_MS * 1000);
        }
    }
    /* Group members that outlived the leader by a moment get it too. */
    kill(-child->pid, SIGKILL);
    return TRUE;
}

static void writer_run_set_status(WriterRun *run, int status)
{
    if (WIFEXITED(status)) {
        run->exit_status = WEXITSTATUS(status);
        run->outcome = run->exit_status == 0 ? WRITER_OUTCOME_OK : WRITER_OUTCOME_EXITED;
    } else {
        run->signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
        run->outcome = WRITER_OUTCOME_SIGNALED;
    }
}

WriterRun *writer_spawn_run(const WriterSpawnRequest *request, int *out_linger_fd,
                            pid_t *out_unreaped)
{
    *out_linger_fd = -1;
    *out_unreaped = 0;
    gint64 start = g_get_monotonic_time();
    WriterChild child = { .pid = 0, .pidfd = -1, .out_fd = -1 };
    int rc = writer_child_start(request, &child);
    if (rc != 0) {
        WriterRun *run = writer_run_new(WRITER_OUTCOME_REFUSED);
        run->detail = g_strdup_printf("cannot execute: %s", g_strerror(rc));
        return run;
    }
    WriterRun *run = writer_run_new(WRITER_OUTCOME_OK);
    run->output = writer_output_new(request->output_cap);
    int status = 0;
    if (writer_child_wait(&child, request->deadline, run->output, &status)) {
        writer_run_set_status(run, status);
    } else {
        run->outcome = WRITER_OUTCOME_TIMED_OUT;
        run->detail = g_strdup_printf("timed out after %" G_GINT64_FORMAT
                                      " ms; its process group was killed",
                                      (g_get_monotonic_time() - start) / 1000);
        if (!writer_child_kill(&child)) {
            *out_unreaped = child.pid;
        }
    }
    run->elapsed_us = g_get_monotonic_time() - start;
    if (child.out_fd >= 0 && !writer_output_read_fd_max(run->output, child.out_fd,
                                                         WRITER_OUTPUT_READ_MAX, NULL)) {
        close(child.out_fd);
        child.out_fd = -1;
    }
    if (child.out_fd >= 0 && run->outcome == WRITER_OUTCOME_TIMED_OUT) {
        close(child.out_fd); /* what still holds it escaped the group: not ours */
        child.out_fd = -1;
    }
    *out_linger_fd = child.out_fd;
    if (child.pidfd >= 0) {
        close(child.pidfd);
    }
    return run;
}
