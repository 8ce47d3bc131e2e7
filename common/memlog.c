/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * memlog.c — bounded in-memory log for the freeze window; see memlog.h for
 * why it exists. Lines live in a GQueue, each in one allocation; the byte
 * count covers the message, the line header and the queue link, so the cap
 * bounds real memory use, not just text.
 */
#include "common/memlog.h"

#include <string.h>

typedef struct {
    gint64 real_time_us;
    GLogLevelFlags level;
    gsize cost;     /* bytes charged against the cap */
    gsize tag_at;   /* offset of the tag in text[], or 0: no tag */
    char text[];    /* the message, NUL, then the tag and its NUL if any */
} MemLogLine;

struct MemLog {
    GMutex lock;
    gsize cap;
    gsize used;
    guint64 dropped;
    GQueue lines; /* MemLogLine*, oldest at the head */
    MemLogNotify notify; /* after each append, or NULL */
    gpointer notify_data;
};

#define MEMLOG_TRUNCATED " [truncated]"

static gsize memlog_line_overhead(void)
{
    /* The line header, its NUL, and the GList link GQueue allocates. */
    return sizeof(MemLogLine) + 1 + sizeof(GList);
}

MemLog *memlog_new(gsize cap_bytes)
{
    g_return_val_if_fail(cap_bytes >= MEMLOG_MIN_CAP, NULL);

    MemLog *log = g_new0(MemLog, 1);
    g_mutex_init(&log->lock);
    log->cap = cap_bytes;
    g_queue_init(&log->lines);
    return log;
}

void memlog_free(MemLog *log)
{
    if (!log) {
        return;
    }
    g_queue_clear_full(&log->lines, g_free);
    g_mutex_clear(&log->lock);
    g_free(log);
}

/*
 * Cuts @text to at most @max bytes plus a marker, at a UTF-8 character
 * boundary so the flushed line stays valid for the journal.
 */
static void memlog_truncate(GString *text, gsize max)
{
    gsize keep = max - strlen(MEMLOG_TRUNCATED);
    while (keep > 0 && ((guchar)text->str[keep] & 0xC0) == 0x80) {
        keep--;
    }
    g_string_truncate(text, keep);
    g_string_append(text, MEMLOG_TRUNCATED);
}

static MemLogLine *memlog_line_new(gsize cap, GLogLevelFlags level, const char *tag,
                                   GString *text)
{
    /* A tag is short by contract (a session id); cut, never trusted to be. */
    gsize tag_len = tag ? strnlen(tag, MEMLOG_TAG_MAX) : 0;
    gsize tag_size = tag ? tag_len + 1 : 0;
    gsize max_text = cap - memlog_line_overhead() - tag_size;
    if (text->len > max_text) {
        memlog_truncate(text, max_text);
    }
    MemLogLine *line = g_malloc(sizeof(MemLogLine) + text->len + 1 + tag_size);
    line->real_time_us = g_get_real_time();
    line->level = level;
    line->cost = memlog_line_overhead() + text->len + tag_size;
    memcpy(line->text, text->str, text->len + 1);
    line->tag_at = 0;
    if (tag) {
        line->tag_at = text->len + 1;
        memcpy(line->text + line->tag_at, tag, tag_len);
        line->text[line->tag_at + tag_len] = '\0';
    }
    return line;
}

static const char *memlog_line_tag(const MemLogLine *line)
{
    return line->tag_at ? line->text + line->tag_at : NULL;
}

static void memlog_push(MemLog *log, GLogLevelFlags level, const char *tag, const char *format,
                        va_list args) G_GNUC_PRINTF(4, 0);

static void memlog_push(MemLog *log, GLogLevelFlags level, const char *tag, const char *format,
                        va_list args)
{
    g_autoptr(GString) text = g_string_new(NULL);
    g_string_append_vprintf(text, format, args);
    MemLogLine *line = memlog_line_new(log->cap, level, tag, text);

    g_mutex_lock(&log->lock);
    while (log->used + line->cost > log->cap) {
        MemLogLine *oldest = g_queue_pop_head(&log->lines);
        log->used -= oldest->cost;
        log->dropped++;
        g_free(oldest);
    }
    g_queue_push_tail(&log->lines, line);
    log->used += line->cost;
    MemLogNotify notify = log->notify;
    gpointer notify_data = log->notify_data;
    g_mutex_unlock(&log->lock);
    if (notify) {
        notify(notify_data);
    }
}

void memlog_appendv(MemLog *log, GLogLevelFlags level, const char *format, va_list args)
{
    memlog_push(log, level, NULL, format, args);
}

void memlog_append_tagged(MemLog *log, GLogLevelFlags level, const char *tag,
                          const char *format, ...)
{
    va_list args;
    va_start(args, format);
    memlog_push(log, level, tag, format, args);
    va_end(args);
}

void memlog_set_notify(MemLog *log, MemLogNotify notify, gpointer user_data)
{
    g_mutex_lock(&log->lock);
    log->notify = notify;
    log->notify_data = user_data;
    g_mutex_unlock(&log->lock);
}

void memlog_append(MemLog *log, GLogLevelFlags level, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    memlog_appendv(log, level, format, args);
    va_end(args);
}

guint memlog_get_length(MemLog *log)
{
    g_mutex_lock(&log->lock);
    guint length = log->lines.length;
    g_mutex_unlock(&log->lock);
    return length;
}

guint64 memlog_get_dropped(MemLog *log)
{
    g_mutex_lock(&log->lock);
    guint64 dropped = log->dropped;
    g_mutex_unlock(&log->lock);
    return dropped;
}

void memlog_flush_tagged(MemLog *log, MemLogTaggedFunc func, gpointer user_data)
{
    /* Take the lines out under the lock, deliver them without it: @func may
     * be slow (it writes to disk now) and may append. */
    g_mutex_lock(&log->lock);
    GQueue lines = log->lines;
    guint64 dropped = log->dropped;
    g_queue_init(&log->lines);
    log->used = 0;
    log->dropped = 0;
    g_mutex_unlock(&log->lock);

    if (dropped > 0) {
        g_autofree char *note = g_strdup_printf(
            "%" G_GUINT64_FORMAT " earlier log lines were dropped while frozen "
            "(in-memory log full)", dropped);
        MemLogLine *first = g_queue_peek_head(&lines);
        func(G_LOG_LEVEL_WARNING, note, first ? memlog_line_tag(first) : NULL,
             first ? first->real_time_us : g_get_real_time(), user_data);
    }
    MemLogLine *line;
    while ((line = g_queue_pop_head(&lines))) {
        func(line->level, line->text, memlog_line_tag(line), line->real_time_us, user_data);
        g_free(line);
    }
}

typedef struct {
    MemLogFunc func;
    gpointer user_data;
} MemLogUntagged;

static void memlog_flush_untagged(GLogLevelFlags level, const char *message, const char *tag,
                                  gint64 real_time_us, gpointer user_data)
{
    const MemLogUntagged *untagged = user_data;

    untagged->func(level, message, real_time_us, untagged->user_data);
}

void memlog_flush(MemLog *log, MemLogFunc func, gpointer user_data)
{
    MemLogUntagged untagged = { func, user_data };

    memlog_flush_tagged(log, memlog_flush_untagged, &untagged);
}

void memlog_func_glib(GLogLevelFlags level, const char *message, gint64 real_time_us,
                      gpointer user_data)
{
    g_autoptr(GDateTime) when = g_date_time_new_from_unix_local(real_time_us / G_USEC_PER_SEC);
    g_autofree char *stamp = when ? g_date_time_format(when, "%H:%M:%S") : NULL;
    /* One level, the most severe given (lowest bit); never ERROR, which aborts. */
    guint levels = level & G_LOG_LEVEL_MASK;
    GLogLevelFlags single = levels ? (GLogLevelFlags)(levels & -levels) : G_LOG_LEVEL_MESSAGE;
    if (single == G_LOG_LEVEL_ERROR) {
        single = G_LOG_LEVEL_CRITICAL;
    }
    g_log_structured(G_LOG_DOMAIN, single, "MESSAGE", "[logged while frozen at %s.%06d] %s",
                     stamp ? stamp : "?", (int)(real_time_us % G_USEC_PER_SEC), message);
}
