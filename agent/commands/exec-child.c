/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * exec-child.c — spawning a guest-exec child and feeding and draining its
 * pipes from the main loop.
 */
#include "agent/commands/exec-child.h"

#include <errno.h>
#include <glib-unix.h>
#include <signal.h>
#include <unistd.h>

#include "common/quiesce-error.h"

#define EXEC_CHILD_READ_CHUNK 65536

/* In the child, between fork and exec: only async-signal-safe calls. */
static void exec_child_setup(gpointer data)
{
    sigset_t none;

    setpgid(0, 0);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL);
}

static void exec_stream_close(ExecChildStream *stream)
{
    if (stream->watch) {
        g_source_remove(stream->watch);
        stream->watch = 0;
    }
    if (stream->fd >= 0) {
        close(stream->fd);
        stream->fd = -1;
    }
    stream->closed = TRUE;
}

static gboolean exec_stream_readable(int fd, GIOCondition condition, gpointer data)
{
    ExecChildStream *stream = data;
    guint8 chunk[EXEC_CHILD_READ_CHUNK];
    ssize_t got = read(fd, chunk, sizeof(chunk));
    gsize room, keep;

    if (got < 0 && (errno == EAGAIN || errno == EINTR)) {
        return G_SOURCE_CONTINUE;
    }
    if (got <= 0) {
        stream->watch = 0; /* removed by returning G_SOURCE_REMOVE */
        exec_stream_close(stream);
        return G_SOURCE_REMOVE;
    }
    room = EXEC_CHILD_OUTPUT_MAX - stream->data->len;
    room = MIN(room, stream->budget_max - MIN(*stream->budget_used, stream->budget_max));
    keep = MIN((gsize)got, room);
    if (keep < (gsize)got) {
        stream->truncated = TRUE;
    }
    g_byte_array_append(stream->data, chunk, (guint)keep);
    *stream->budget_used += keep;
    return G_SOURCE_CONTINUE;
}

static void exec_stream_start(ExecChildStream *stream, int fd, gsize *budget_used,
                              gsize budget_max)
{
    stream->data = g_byte_array_new();
    stream->budget_used = budget_used;
    stream->budget_max = budget_max;
    stream->fd = fd;
    if (fd < 0) {
        stream->closed = TRUE;
        return;
    }
    g_unix_set_fd_nonblocking(fd, TRUE, NULL);
    stream->watch = g_unix_fd_add(fd, G_IO_IN | G_IO_HUP | G_IO_ERR, exec_stream_readable, stream);
}

static void exec_input_close(ExecChild *child)
{
    if (child->in_watch) {
        g_source_remove(child->in_watch);
        child->in_watch = 0;
    }
    if (child->in_fd >= 0) {
        close(child->in_fd);
        child->in_fd = -1;
    }
    g_clear_pointer(&child->input, g_free);
}

/* Writes what the pipe takes; closes stdin when all is written or the
 * child closed its end (EPIPE: SIGPIPE is ignored in the agent). */
static gboolean exec_input_writable(int fd, GIOCondition condition, gpointer data)
{
    ExecChild *child = data;

    while (child->input_done < child->input_len) {
        ssize_t put = write(fd, child->input + child->input_done,
                            child->input_len - child->input_done);
        if (put < 0 && errno == EINTR) {
            continue;
        }
        if (put < 0 && errno == EAGAIN) {
            return G_SOURCE_CONTINUE;
        }
        if (put <= 0) {
            break;
        }
        child->input_done += (gsize)put;
    }
    child->in_watch = 0; /* removed by returning G_SOURCE_REMOVE */
    exec_input_close(child);
    return G_SOURCE_REMOVE;
}

static void exec_child_exited(GPid pid, gint status, gpointer data)
{
    ExecChild *child = data;

    child->exited = TRUE;
    child->wait_status = status;
    child->child_watch = 0;
    g_spawn_close_pid(pid);
}

ExecChild *exec_child_spawn(const ExecChildRequest *request, GError **error)
{
    GSpawnFlags flags =
        G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_SEARCH_PATH_FROM_ENVP;
    g_autoptr(GError) spawn_error = NULL;
    g_autoptr(ExecChild) child = g_new0(ExecChild, 1);
    int in_fd = -1, out_fd = -1, err_fd = -1;

    child->in_fd = -1;
    child->out.fd = child->err.fd = -1;
    if (!request->capture) {
        flags |= G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL;
    }
    if (!g_spawn_async_with_pipes(NULL, (char **)request->argv, (char **)request->envp, flags,
                                  exec_child_setup, NULL, &child->pid,
                                  request->has_input ? &in_fd : NULL,
                                  request->capture ? &out_fd : NULL,
                                  request->capture ? &err_fd : NULL, &spawn_error)) {
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED,
                    "Guest agent command failed, error was '%s'", spawn_error->message);
        return NULL;
    }
    child->capture = request->capture;
    child->child_watch = g_child_watch_add(child->pid, exec_child_exited, child);
    exec_stream_start(&child->out, out_fd, request->budget_used, request->budget_max);
    exec_stream_start(&child->err, err_fd, request->budget_used, request->budget_max);
    if (request->has_input) {
        child->input = g_memdup2(request->input, request->input_len);
        child->input_len = request->input_len;
        child->in_fd = in_fd;
        g_unix_set_fd_nonblocking(in_fd, TRUE, NULL);
        child->in_watch =
            g_unix_fd_add(in_fd, G_IO_OUT | G_IO_ERR | G_IO_HUP, exec_input_writable, child);
    }
    return g_steal_pointer(&child);
}

gboolean exec_child_is_done(const ExecChild *child)
{
    return child->exited && (!child->capture || (child->out.closed && child->err.closed));
}

static void exec_stream_free(ExecChildStream *stream)
{
    exec_stream_close(stream);
    if (stream->data) {
        *stream->budget_used -= MIN(*stream->budget_used, (gsize)stream->data->len);
        g_byte_array_unref(stream->data);
        stream->data = NULL;
    }
}

void exec_child_free(ExecChild *child)
{
    if (!child) {
        return;
    }
    if (child->child_watch) {
        g_source_remove(child->child_watch);
    }
    exec_input_close(child);
    exec_stream_free(&child->out);
    exec_stream_free(&child->err);
    g_free(child);
}
