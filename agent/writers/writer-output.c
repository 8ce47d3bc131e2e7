/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * writer-output.c — capped capture of a writer's output; see
 * writer-output.h.
 */
#include "agent/writers/writer-output.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

struct WriterOutput {
    GByteArray *data; /* the kept tail */
    gsize cap;
    guint64 dropped;  /* bytes dropped from the front, since the last emit */
};

WriterOutput *writer_output_new(gsize cap)
{
    g_return_val_if_fail(cap >= 1, NULL);
    WriterOutput *output = g_new0(WriterOutput, 1);
    output->data = g_byte_array_new();
    output->cap = cap;
    return output;
}

void writer_output_free(WriterOutput *output)
{
    if (!output) {
        return;
    }
    g_byte_array_unref(output->data);
    g_free(output);
}

void writer_output_append(WriterOutput *output, const void *data, gsize len)
{
    const guint8 *bytes = data;
    if (len >= output->cap) {
        output->dropped += output->data->len + (len - output->cap);
        g_byte_array_set_size(output->data, 0);
        g_byte_array_append(output->data, bytes + (len - output->cap), output->cap);
        return;
    }
    if (output->data->len + len > output->cap) {
        gsize excess = output->data->len + len - output->cap;
        g_byte_array_remove_range(output->data, 0, excess);
        output->dropped += excess;
    }
    g_byte_array_append(output->data, bytes, len);
}

gboolean writer_output_read_fd(WriterOutput *output, int fd)
{
    return writer_output_read_fd_max(output, fd, G_MAXSIZE, NULL);
}

gboolean writer_output_read_fd_max(WriterOutput *output, int fd, gsize max_bytes,
                                   gsize *out_read)
{
    guint8 chunk[4096];
    gsize total = 0;

    if (out_read) {
        *out_read = 0;
    }
    while (total < max_bytes) {
        ssize_t n = read(fd, chunk, MIN(sizeof chunk, max_bytes - total));
        if (n > 0) {
            writer_output_append(output, chunk, (gsize)n);
            total += (gsize)n;
            if (out_read) {
                *out_read = total;
            }
            continue;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        return n < 0 && errno == EAGAIN;
    }
    return TRUE; /* stopped at max_bytes: there may be more */
}

guint64 writer_output_get_dropped(const WriterOutput *output)
{
    return output->dropped;
}

gboolean writer_output_is_empty(const WriterOutput *output)
{
    return output->data->len == 0;
}

/* (transfer full) @len bytes at @bytes as valid UTF-8 without control
 * characters other than newline and tab. */
static char *writer_text_sanitize(const guint8 *bytes, gsize len)
{
    if (len == 0) {
        return g_strdup("");
    }
    char *text = g_utf8_make_valid((const char *)bytes, (gssize)len);
    for (char *p = text; *p; p++) {
        if ((guchar)*p < 0x20 && *p != '\n' && *p != '\t') {
            *p = '?';
        } else if (*p == 0x7f) {
            *p = '?';
        }
    }
    return text;
}

char *writer_output_dup_tail(const WriterOutput *output, gsize max_bytes)
{
    gsize len = output->data->len;
    gsize start = (max_bytes > 0 && len > max_bytes) ? len - max_bytes : 0;
    /* Do not start inside a UTF-8 sequence. */
    while (start > 0 && start < len && (output->data->data[start] & 0xc0) == 0x80) {
        start++;
    }
    return writer_text_sanitize(output->data->data + start, len - start);
}

void writer_output_emit(WriterOutput *output, MemLog *log, GLogLevelFlags level,
                        const char *prefix, gboolean flush_partial)
{
    if (output->dropped > 0) {
        memlog_append(log, G_LOG_LEVEL_WARNING, "%s(%" G_GUINT64_FORMAT
                      " earlier bytes of output dropped: over the %" G_GSIZE_FORMAT
                      "-byte cap)", prefix, output->dropped, output->cap);
        output->dropped = 0;
    }
    gsize len = output->data->len;
    if (len == 0) {
        return; /* and data->data may be NULL, which memrchr must not get */
    }
    if (!flush_partial) {
        const guint8 *last_nl = memrchr(output->data->data, '\n', len);
        len = last_nl ? (gsize)(last_nl - output->data->data) + 1 : 0;
    }
    if (len == 0) {
        return;
    }
    g_autofree char *text = writer_text_sanitize(output->data->data, len);
    g_byte_array_remove_range(output->data, 0, (guint)len);
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    guint n = g_strv_length(lines);
    if (n > 0 && lines[n - 1][0] == '\0') {
        n--; /* the text ended with a newline */
    }
    for (guint i = 0; i < n; i++) {
        memlog_append(log, level, "%s%s", prefix, lines[i]);
    }
}
