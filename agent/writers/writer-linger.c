/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * writer-linger.c — drain pipes held by scripts' background children; see
 * writer-linger.h.
 */
#include "agent/writers/writer-linger.h"

#include <glib-unix.h>
#include <unistd.h>

#include "agent/writers/writer-output.h"

typedef struct {
    WriterLinger *owner; /* borrowed */
    int fd;
    char *prefix;
    WriterOutput *output;
    GSource *source;     /* the fd watch, or while paused the timer resuming it */
    gint64 slot_start;   /* monotonic start of the current one-second slot */
    gsize slot_bytes;    /* read in that slot */
    gsize logged;        /* bytes handed to the log so far */
} WriterLingerPipe;

struct WriterLinger {
    GMainContext *context;
    MemLog *log;          /* borrowed */
    gsize output_cap;
    GPtrArray *pipes;     /* WriterLingerPipe*, oldest first */
};

static void writer_linger_pipe_free(WriterLingerPipe *pipe)
{
    if (!pipe) {
        return;
    }
    if (pipe->source) {
        g_source_destroy(pipe->source);
        g_source_unref(pipe->source);
    }
    if (pipe->fd >= 0) {
        close(pipe->fd);
    }
    g_free(pipe->prefix);
    writer_output_free(pipe->output);
    g_free(pipe);
}

/* Reads what @pipe has, within this second's budget; returns FALSE when it
 * is finished (all emitted). Past WRITER_LINGER_LOG_MAX the output is no
 * longer logged as it comes: the kept tail and the count of what was
 * dropped are logged once, at the end. */
static gboolean writer_linger_pipe_read(WriterLingerPipe *pipe)
{
    gint64 now = g_get_monotonic_time();
    gsize got = 0;

    if (now - pipe->slot_start >= G_USEC_PER_SEC) {
        pipe->slot_start = now;
        pipe->slot_bytes = 0;
    }
    if (pipe->slot_bytes >= WRITER_LINGER_RATE) {
        return TRUE;
    }
    gboolean more = writer_output_read_fd_max(pipe->output, pipe->fd,
                                              WRITER_LINGER_RATE - pipe->slot_bytes, &got);
    pipe->slot_bytes += got;
    if (!more || pipe->logged < WRITER_LINGER_LOG_MAX) {
        pipe->logged += got;
        writer_output_emit(pipe->output, pipe->owner->log, G_LOG_LEVEL_INFO, pipe->prefix,
                           !more);
    }
    return more;
}

static gboolean writer_linger_on_ready(gint fd, GIOCondition condition, gpointer user_data);

static void writer_linger_pipe_set_source(WriterLingerPipe *pipe, GSource *source)
{
    if (pipe->source) {
        g_source_destroy(pipe->source);
        g_source_unref(pipe->source);
    }
    pipe->source = source;
    g_source_attach(source, pipe->owner->context);
}

static void writer_linger_pipe_watch(WriterLingerPipe *pipe)
{
    GSource *source = g_unix_fd_source_new(pipe->fd, G_IO_IN | G_IO_HUP | G_IO_ERR);

    g_source_set_callback(source, G_SOURCE_FUNC(writer_linger_on_ready), pipe, NULL);
    writer_linger_pipe_set_source(pipe, source);
}

static gboolean writer_linger_on_resume(gpointer user_data)
{
    writer_linger_pipe_watch(user_data); /* destroys this timer's source */
    return G_SOURCE_REMOVE;
}

static gboolean writer_linger_on_ready(gint fd, GIOCondition condition, gpointer user_data)
{
    WriterLingerPipe *pipe = user_data;
    if (!writer_linger_pipe_read(pipe)) {
        /* Freeing destroys this source; GLib allows that from its callback. */
        g_ptr_array_remove(pipe->owner->pipes, pipe);
        return G_SOURCE_REMOVE;
    }
    if (pipe->slot_bytes >= WRITER_LINGER_RATE) {
        /* Over budget: stop watching until the slot ends. The child fills
         * the pipe and blocks in write(); it is not killed. */
        gint64 left_us = pipe->slot_start + G_USEC_PER_SEC - g_get_monotonic_time();
        GSource *timer = g_timeout_source_new((guint)CLAMP((left_us + 999) / 1000, 1, 1000));

        g_source_set_callback(timer, writer_linger_on_resume, pipe, NULL);
        writer_linger_pipe_set_source(pipe, timer); /* destroys this watch */
        return G_SOURCE_REMOVE;
    }
    return G_SOURCE_CONTINUE;
}

WriterLinger *writer_linger_new(GMainContext *context, MemLog *log, gsize output_cap)
{
    WriterLinger *linger = g_new0(WriterLinger, 1);
    linger->context = g_main_context_ref(context);
    linger->log = log;
    linger->output_cap = output_cap;
    linger->pipes = g_ptr_array_new_with_free_func((GDestroyNotify)writer_linger_pipe_free);
    return linger;
}

void writer_linger_free(WriterLinger *linger)
{
    if (!linger) {
        return;
    }
    writer_linger_drain(linger);
    for (guint i = 0; i < linger->pipes->len; i++) {
        WriterLingerPipe *pipe = linger->pipes->pdata[i];
        writer_output_emit(pipe->output, linger->log, G_LOG_LEVEL_INFO, pipe->prefix, TRUE);
    }
    g_ptr_array_unref(linger->pipes);
    g_main_context_unref(linger->context);
    g_free(linger);
}

void writer_linger_add(WriterLinger *linger, int fd, const char *prefix)
{
    if (linger->pipes->len >= WRITER_LINGER_MAX) {
        WriterLingerPipe *oldest = linger->pipes->pdata[0];
        writer_linger_pipe_read(oldest);
        writer_output_emit(oldest->output, linger->log, G_LOG_LEVEL_INFO, oldest->prefix,
                           TRUE);
        g_ptr_array_remove_index(linger->pipes, 0);
    }
    WriterLingerPipe *pipe = g_new0(WriterLingerPipe, 1);
    pipe->owner = linger;
    pipe->fd = fd;
    pipe->prefix = g_strdup(prefix);
    pipe->output = writer_output_new(linger->output_cap);
    pipe->slot_start = g_get_monotonic_time();
    writer_linger_pipe_watch(pipe);
    g_ptr_array_add(linger->pipes, pipe);
}

void writer_linger_drain(WriterLinger *linger)
{
    guint i = 0;
    while (i < linger->pipes->len) {
        if (writer_linger_pipe_read(linger->pipes->pdata[i])) {
            i++;
        } else {
            g_ptr_array_remove_index(linger->pipes, i);
        }
    }
}

guint writer_linger_get_length(const WriterLinger *linger)
{
    return linger->pipes->len;
}
