/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * writer-conn.c — one socket writer's connection; see writer-conn.h and the
 * wire protocol in client/quiesce-writer.h.
 */
#include "agent/writers/writer-conn.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client/quiesce-writer.h"
#include "common/wait-pump.h"

struct WriterConn {
    gint ref;
    int fd;
    pid_t pid;
    uid_t uid;
    gint64 created_us; /* g_get_monotonic_time() at accept */
    char *name;
    GSource *source;
    char buf[QUIESCE_WRITER_LINE_MAX]; /* received, not yet consumed */
    gsize len;
    gboolean in_session;
    gboolean exchanging; /* waiting for an answer (and pumping): its watch
                          * and the registration check leave it alone */
    gboolean lost;      /* closed while in session */
    char *close_reason; /* why it closed, once closed */
    WriterConnClosedFunc closed_func;
    gpointer closed_data;
};

WriterConn *writer_conn_new(int fd, pid_t pid, uid_t uid)
{
    WriterConn *conn = g_new0(WriterConn, 1);
    conn->ref = 1;
    conn->fd = fd;
    conn->pid = pid;
    conn->uid = uid;
    conn->created_us = g_get_monotonic_time();
    return conn;
}

WriterConn *writer_conn_ref(WriterConn *conn)
{
    g_atomic_int_inc(&conn->ref);
    return conn;
}

void writer_conn_unref(WriterConn *conn)
{
    if (!conn || !g_atomic_int_dec_and_test(&conn->ref)) {
        return;
    }
    if (conn->fd >= 0) {
        close(conn->fd);
    }
    writer_conn_set_source(conn, NULL);
    g_free(conn->name);
    g_free(conn->close_reason);
    g_free(conn);
}

void writer_conn_set_closed_func(WriterConn *conn, WriterConnClosedFunc func,
                                 gpointer user_data)
{
    conn->closed_func = func;
    conn->closed_data = user_data;
}

int writer_conn_get_fd(const WriterConn *conn)
{
    return conn->fd;
}

gboolean writer_conn_is_open(const WriterConn *conn)
{
    return conn->fd >= 0;
}

pid_t writer_conn_get_pid(const WriterConn *conn)
{
    return conn->pid;
}

uid_t writer_conn_get_uid(const WriterConn *conn)
{
    return conn->uid;
}

gint64 writer_conn_get_created(const WriterConn *conn)
{
    return conn->created_us;
}

const char *writer_conn_get_name(const WriterConn *conn)
{
    return conn->name;
}

void writer_conn_set_name(WriterConn *conn, const char *name)
{
    g_free(conn->name);
    conn->name = g_strdup(name);
}

void writer_conn_set_source(WriterConn *conn, GSource *source)
{
    if (conn->source) {
        g_source_destroy(conn->source);
        g_source_unref(conn->source);
    }
    conn->source = source;
}

void writer_conn_set_in_session(WriterConn *conn, gboolean in_session)
{
    conn->in_session = in_session;
}

gboolean writer_conn_get_in_session(const WriterConn *conn)
{
    return conn->in_session;
}

const char *writer_conn_get_lost_reason(const WriterConn *conn)
{
    return conn->lost ? conn->close_reason : NULL;
}

void writer_conn_close(WriterConn *conn, const char *reason)
{
    if (conn->fd < 0) {
        return;
    }
    /* The closed func may drop the last other reference. */
    writer_conn_ref(conn);
    close(conn->fd);
    conn->fd = -1;
    conn->len = 0;
    writer_conn_set_source(conn, NULL);
    conn->lost = conn->in_session;
    conn->close_reason = g_strdup(reason);
    if (conn->closed_func) {
        conn->closed_func(conn, reason, conn->closed_data);
    }
    writer_conn_unref(conn);
}

/* Reads what is available. FALSE after closing on end of file or error. */
static gboolean writer_conn_fill(WriterConn *conn)
{
    if (conn->len == sizeof conn->buf) {
        return TRUE; /* full: the framing check reports it */
    }
    ssize_t n = recv(conn->fd, conn->buf + conn->len, sizeof conn->buf - conn->len,
                     MSG_DONTWAIT);
    if (n > 0) {
        conn->len += (gsize)n;
        return TRUE;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        return TRUE;
    }
    if (n == 0 || errno == ECONNRESET) {
        writer_conn_close(conn, "hung up");
        return FALSE;
    }
    g_autofree char *reason = g_strdup_printf("read error: %s", g_strerror(errno));
    writer_conn_close(conn, reason);
    return FALSE;
}

gboolean writer_conn_poll_line(WriterConn *conn, char **out_line)
{
    *out_line = NULL;
    if (conn->fd < 0) {
        return FALSE;
    }
    if (!memchr(conn->buf, '\n', conn->len) && !writer_conn_fill(conn)) {
        return FALSE;
    }
    char *nl = memchr(conn->buf, '\n', conn->len);
    if (!nl) {
        if (conn->len == sizeof conn->buf) {
            writer_conn_close(conn, "protocol violation: line longer than "
                              G_STRINGIFY(QUIESCE_WRITER_LINE_MAX) " bytes");
            return FALSE;
        }
        return TRUE;
    }
    gsize n = (gsize)(nl - conn->buf);
    for (gsize i = 0; i < n; i++) {
        if (conn->buf[i] < 0x20 || conn->buf[i] > 0x7e) {
            writer_conn_close(conn, "protocol violation: a byte that is not printable ASCII");
            return FALSE;
        }
    }
    *out_line = g_strndup(conn->buf, n);
    conn->len -= n + 1;
    memmove(conn->buf, nl + 1, conn->len);
    return TRUE;
}

gboolean writer_conn_send_now(WriterConn *conn, const char *line)
{
    if (conn->fd < 0) {
        return FALSE;
    }
    gsize len = strlen(line);
    ssize_t n;
    do {
        n = send(conn->fd, line, len, MSG_NOSIGNAL | MSG_DONTWAIT);
    } while (n < 0 && errno == EINTR);
    if (n == (ssize_t)len) {
        return TRUE;
    }
    if (n < 0 && (errno == EPIPE || errno == ECONNRESET)) {
        writer_conn_close(conn, "hung up");
    } else {
        writer_conn_close(conn, n < 0 ? g_strerror(errno) : "send buffer full");
    }
    return FALSE;
}

gboolean writer_conn_check_alive(WriterConn *conn)
{
    if (conn->fd < 0) {
        return FALSE;
    }
    if (conn->exchanging) {
        return TRUE; /* its answer is the exchange's to read */
    }
    char byte;
    ssize_t n = conn->len > 0 ? 1 : recv(conn->fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        return TRUE;
    }
    if (n > 0) {
        writer_conn_close(conn, "protocol violation: sent data without an event");
    } else if (n == 0 || errno == ECONNRESET) {
        writer_conn_close(conn, "hung up");
    } else {
        writer_conn_close(conn, g_strerror(errno));
    }
    return FALSE;
}

/* A run for a connection that is closed now. */
static WriterRun *writer_conn_run_disconnected(WriterConn *conn)
{
    WriterRun *run = writer_run_new(WRITER_OUTCOME_DISCONNECTED);
    run->detail = g_strdup_printf("disconnected: %s",
                                  conn->close_reason ? conn->close_reason : "not connected");
    return run;
}

/* Parses the answer @line to @phase into @run. FALSE (and the connection
 * closed) when it is not a valid answer. */
static gboolean writer_conn_parse_answer(WriterConn *conn, const char *line,
                                         const char *phase, WriterRun *run)
{
    g_auto(GStrv) words = g_strsplit(line, " ", 3);
    guint n = g_strv_length(words);
    if (n == 2 && strcmp(words[0], "ok") == 0 && strcmp(words[1], phase) == 0) {
        run->outcome = WRITER_OUTCOME_OK;
        return TRUE;
    }
    if (n >= 2 && strcmp(words[0], "fail") == 0 && strcmp(words[1], phase) == 0) {
        run->outcome = WRITER_OUTCOME_ANSWERED_FAIL;
        run->detail = g_strdup(n == 3 && words[2][0] ? words[2] : "failed");
        return TRUE;
    }
    g_autofree char *shown = g_strndup(line, 80);
    g_autofree char *reason = g_strdup_printf("protocol violation: answered '%s' to %s",
                                              shown, phase);
    writer_conn_close(conn, reason);
    return FALSE;
}

WriterRun *writer_conn_exchange(WriterConn *conn, WriterPhase phase,
                                const char *session_id, gint64 deadline)
{
    gint64 start = g_get_monotonic_time();
    gint64 pumped = start;
    const char *phase_name = writer_phase_to_string(phase);
    if (!writer_conn_check_alive(conn)) {
        return writer_conn_run_disconnected(conn);
    }
    g_autofree char *event = g_strdup_printf("event %s %s\n", phase_name,
                                             session_id ? session_id : "-");
    g_autofree char *reply = NULL;
    while (!reply) {
        if (event && !writer_conn_send_now(conn, event)) {
            return writer_conn_run_disconnected(conn);
        }
        g_clear_pointer(&event, g_free);
        if (!writer_conn_poll_line(conn, &reply)) {
            return writer_conn_run_disconnected(conn);
        }
        if (reply) {
            break;
        }
        gint64 left_us = deadline - g_get_monotonic_time();
        if (left_us <= 0) {
            WriterRun *run = writer_run_new(WRITER_OUTCOME_TIMED_OUT);
            run->detail = g_strdup_printf("no answer to %s within %" G_GINT64_FORMAT
                                          " ms; connection closed", phase_name,
                                          (g_get_monotonic_time() - start) / 1000);
            writer_conn_close(conn, "timed out");
            run->elapsed_us = g_get_monotonic_time() - start;
            return run;
        }
        struct pollfd pfd = { .fd = conn->fd, .events = POLLIN };
        conn->exchanging = TRUE;
        poll(&pfd, 1, wait_pump_slice_ms((int)MIN((left_us + 999) / 1000, G_MAXINT)));
        /* Other hosts are answered meanwhile, even while it sends bytes
         * that make no line yet. */
        wait_pump_run_due(&pumped);
        conn->exchanging = FALSE;
    }
    g_autoptr(WriterRun) run = writer_run_new(WRITER_OUTCOME_OK);
    if (!writer_conn_parse_answer(conn, reply, phase_name, run)) {
        return writer_conn_run_disconnected(conn);
    }
    run->elapsed_us = g_get_monotonic_time() - start;
    return g_steal_pointer(&run);
}
