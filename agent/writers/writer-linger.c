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
    GSource *source;
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

/* Reads what @pipe has; returns FALSE when it is finished (all emitted). */
static gboolean writer_linger_pipe_read(WriterLingerPipe *pipe)
{
    gboolean more = writer_output_read_fd(pipe->output, pipe->fd);
    writer_output_emit(pipe->output, pipe->owner->log, G_LOG_LEVEL_INFO, pipe->prefix,
                       !more);
    return more;
}

static gboolean writer_linger_on_ready(gint fd, GIOCondition condition, gpointer user_data)
{
    WriterLingerPipe *pipe = user_data;
    if (writer_linger_pipe_read(pipe)) {
        return G_SOURCE_CONTINUE;
    }
    /* Freeing destroys this source; GLib allows that from its callback. */
    g_ptr_array_remove(pipe->owner->pipes, pipe);
    return G_SOURCE_REMOVE;
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
    pipe->source = g_unix_fd_source_new(fd, G_IO_IN | G_IO_HUP | G_IO_ERR);
    g_source_set_callback(pipe->source, G_SOURCE_FUNC(writer_linger_on_ready), pipe, NULL);
    g_source_attach(pipe->source, linger->context);
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
