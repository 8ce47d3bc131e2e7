/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * quiesce-writer.c — the socket-writer client library (protocol and API in
 * quiesce-writer.h). Plain C and libc only: the library is meant to be
 * linked into applications that do not use GLib.
 *
 * The agent sends one event at a time and waits for the answer, so the
 * receive buffer holds at most one line plus what follows it; a line that
 * does not fit QUIESCE_WRITER_LINE_MAX is a protocol violation.
 */
#include "client/quiesce-writer.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

struct QuiesceWriter {
    int fd;
    char buf[QUIESCE_WRITER_LINE_MAX]; /* received, not yet consumed */
    size_t len;
    int frozen;      /* answered "ok freeze", no thaw/freeze-fail since */
    int hung_up;     /* EOF or a reset seen: nothing more will arrive */
    char outstanding[QUIESCE_WRITER_PHASE_MAX + 1]; /* phase awaiting our answer */
    char error[256];
};

static void writer_set_error(QuiesceWriter *writer, int errnum, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

static void writer_set_error(QuiesceWriter *writer, int errnum, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    vsnprintf(writer->error, sizeof writer->error, format, args);
    va_end(args);
    errno = errnum;
}

static long long monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int char_is_name(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '_' || c == '-';
}

static int token_is_valid(const char *s, size_t max, int allow_colon)
{
    size_t n = strlen(s);
    if (n == 0 || n > max) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        if (!char_is_name(s[i]) && !(allow_colon && s[i] == ':')) {
            return 0;
        }
    }
    return 1;
}

int quiesce_writer_name_is_valid(const char *name)
{
    return name && token_is_valid(name, QUIESCE_WRITER_NAME_MAX, 0);
}

/* Sends all of @line (short) or fails; never raises SIGPIPE. */
static int writer_send(QuiesceWriter *writer, const char *line)
{
    size_t len = strlen(line);
    size_t done = 0;
    while (done < len) {
        ssize_t n = send(writer->fd, line + done, len - done, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            int saved = errno;
            if (saved == EPIPE || saved == ECONNRESET) {
                writer->hung_up = 1;
                saved = EPIPE;
            }
            writer_set_error(writer, saved, "send: %s", strerror(saved));
            return -1;
        }
        done += (size_t)n;
    }
    return 0;
}

/* Moves one complete line out of the buffer into @line (without the
 * newline). Returns 1, 0 when no complete line is buffered, -1 (EPROTO) for
 * a line that is too long or not printable ASCII. */
static int writer_take_line(QuiesceWriter *writer, char *line)
{
    char *nl = memchr(writer->buf, '\n', writer->len);
    if (!nl) {
        if (writer->len == sizeof writer->buf) {
            writer_set_error(writer, EPROTO, "protocol: line longer than %d bytes",
                             QUIESCE_WRITER_LINE_MAX);
            return -1;
        }
        return 0;
    }
    size_t n = (size_t)(nl - writer->buf);
    for (size_t i = 0; i < n; i++) {
        if (writer->buf[i] < 0x20 || writer->buf[i] > 0x7e) {
            writer_set_error(writer, EPROTO, "protocol: non-printable byte 0x%02x",
                             (unsigned char)writer->buf[i]);
            return -1;
        }
    }
    memcpy(line, writer->buf, n);
    line[n] = '\0';
    writer->len -= n + 1;
    memmove(writer->buf, nl + 1, writer->len);
    return 1;
}

/* Reads one line, waiting up to @timeout_ms (-1: forever). Returns 1, 0 on
 * timeout, -1 with errno (EPIPE on hang-up; writer->hung_up set). */
static int writer_read_line(QuiesceWriter *writer, char *line, int timeout_ms)
{
    long long deadline = timeout_ms < 0 ? -1 : monotonic_ms() + timeout_ms;
    for (;;) {
        int got = writer_take_line(writer, line);
        if (got != 0) {
            return got;
        }
        if (writer->hung_up) {
            writer_set_error(writer, EPIPE, "the agent closed the connection");
            return -1;
        }
        int wait = -1;
        if (deadline >= 0) {
            long long left = deadline - monotonic_ms();
            wait = left > 0 ? (int)left : 0;
        }
        struct pollfd pfd = { .fd = writer->fd, .events = POLLIN };
        int ready = poll(&pfd, 1, wait);
        if (ready < 0 && errno == EINTR) {
            continue;
        }
        if (ready < 0) {
            writer_set_error(writer, errno, "poll: %s", strerror(errno));
            return -1;
        }
        if (ready == 0) {
            return 0;
        }
        ssize_t n = recv(writer->fd, writer->buf + writer->len,
                         sizeof writer->buf - writer->len, MSG_DONTWAIT);
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
            continue;
        }
        if (n < 0 && errno != ECONNRESET) {
            writer_set_error(writer, errno, "recv: %s", strerror(errno));
            return -1;
        }
        if (n <= 0) {
            writer->hung_up = 1;
            continue;
        }
        writer->len += (size_t)n;
    }
}

static int writer_open_socket(const char *path, char *err, size_t err_size)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof addr.sun_path) {
        snprintf(err, err_size, "socket path too long: %s", path);
        errno = ENAMETOOLONG;
        return -1;
    }
    strcpy(addr.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, err_size, "socket: %s", strerror(errno));
        return -1;
    }
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
        int saved = errno;
        snprintf(err, err_size, "cannot connect to %s: %s", path, strerror(saved));
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

/* Sends the hello and reads the welcome. Returns 0 or -1 (error set). */
static int writer_handshake(QuiesceWriter *writer, const char *name)
{
    char line[QUIESCE_WRITER_LINE_MAX];
    snprintf(line, sizeof line, "hello %d %s\n", QUIESCE_WRITER_PROTOCOL_VERSION, name);
    if (writer_send(writer, line) < 0) {
        return -1;
    }
    int got = writer_read_line(writer, line, QUIESCE_WRITER_HELLO_TIMEOUT_MS);
    if (got == 0) {
        writer_set_error(writer, ETIMEDOUT, "no welcome from the agent within %d ms",
                         QUIESCE_WRITER_HELLO_TIMEOUT_MS);
        return -1;
    }
    if (got < 0) {
        if (errno == EPIPE) {
            writer_set_error(writer, EPIPE, "the agent closed the connection before welcome");
        }
        return -1;
    }
    if (strncmp(line, "refused", 7) == 0 && (line[7] == ' ' || line[7] == '\0')) {
        writer_set_error(writer, EACCES, "refused by the agent:%s", line + 7);
        return -1;
    }
    char expected[32];
    snprintf(expected, sizeof expected, "welcome %d", QUIESCE_WRITER_PROTOCOL_VERSION);
    if (strcmp(line, expected) != 0) {
        writer_set_error(writer, EPROTO, "protocol: unexpected greeting '%s'", line);
        return -1;
    }
    return 0;
}

QuiesceWriter *quiesce_writer_connect(const char *socket_path, const char *name,
                                      char *err, size_t err_size)
{
    char scratch[256];
    if (!err || err_size == 0) {
        err = scratch;
        err_size = sizeof scratch;
    }
    err[0] = '\0';
    if (!quiesce_writer_name_is_valid(name)) {
        snprintf(err, err_size, "invalid writer name (1-%d of A-Z a-z 0-9 . _ -)",
                 QUIESCE_WRITER_NAME_MAX);
        errno = EINVAL;
        return NULL;
    }
    int fd = writer_open_socket(socket_path ? socket_path : QUIESCE_WRITER_DEFAULT_SOCKET,
                                err, err_size);
    if (fd < 0) {
        return NULL;
    }
    QuiesceWriter *writer = calloc(1, sizeof *writer);
    if (!writer) {
        close(fd);
        snprintf(err, err_size, "out of memory");
        errno = ENOMEM;
        return NULL;
    }
    writer->fd = fd;
    if (writer_handshake(writer, name) < 0) {
        int saved = errno;
        snprintf(err, err_size, "%s", writer->error);
        quiesce_writer_close(writer);
        errno = saved;
        return NULL;
    }
    return writer;
}

void quiesce_writer_close(QuiesceWriter *writer)
{
    if (!writer) {
        return;
    }
    close(writer->fd);
    free(writer);
}

int quiesce_writer_get_fd(const QuiesceWriter *writer)
{
    return writer->fd;
}

int quiesce_writer_has_pending(const QuiesceWriter *writer)
{
    return (writer->hung_up && writer->frozen) ||
           memchr(writer->buf, '\n', writer->len) != NULL;
}

int quiesce_writer_is_frozen(const QuiesceWriter *writer)
{
    return writer->frozen;
}

const char *quiesce_writer_get_error(const QuiesceWriter *writer)
{
    return writer->error;
}

/* Parses "event PHASE SESSION" into @event. Returns 0 or -1 (EPROTO). */
static int writer_parse_event(QuiesceWriter *writer, char *line, QuiesceWriterEvent *event)
{
    char *save = NULL;
    char *word = strtok_r(line, " ", &save);
    char *phase = strtok_r(NULL, " ", &save);
    char *session = strtok_r(NULL, " ", &save);
    if (!word || strcmp(word, "event") != 0 || !phase || !session ||
        strtok_r(NULL, " ", &save) != NULL ||
        !token_is_valid(phase, QUIESCE_WRITER_PHASE_MAX, 0) ||
        !(strcmp(session, "-") == 0 ||
          token_is_valid(session, QUIESCE_WRITER_SESSION_MAX, 1))) {
        writer_set_error(writer, EPROTO, "protocol: malformed event line");
        return -1;
    }
    memset(event, 0, sizeof *event);
    strcpy(event->phase, phase);
    if (strcmp(session, "-") != 0) {
        strcpy(event->session_id, session);
    }
    return 0;
}

static void writer_make_local_freeze_fail(QuiesceWriter *writer, QuiesceWriterEvent *event)
{
    memset(event, 0, sizeof *event);
    strcpy(event->phase, "freeze-fail");
    event->local = 1;
    writer->frozen = 0;
    writer->outstanding[0] = '\0';
}

int quiesce_writer_next_event(QuiesceWriter *writer, QuiesceWriterEvent *event,
                              int timeout_ms)
{
    char line[QUIESCE_WRITER_LINE_MAX];
    int got = writer_read_line(writer, line, timeout_ms);
    if (got < 0 && errno == EPIPE && writer->frozen) {
        writer_make_local_freeze_fail(writer, event);
        return 1;
    }
    if (got <= 0) {
        return got;
    }
    if (writer_parse_event(writer, line, event) < 0) {
        return -1;
    }
    if (strcmp(event->phase, "thaw") == 0 || strcmp(event->phase, "freeze-fail") == 0) {
        writer->frozen = 0;
    }
    strcpy(writer->outstanding, event->phase);
    return 1;
}

/* Copies @reason into @out as printable ASCII, cut to @size - 1 bytes. */
static void reason_sanitize(const char *reason, char *out, size_t size)
{
    size_t n = 0;
    for (; reason[n] && n + 1 < size; n++) {
        char c = reason[n];
        out[n] = (c >= 0x20 && c <= 0x7e) ? c : '?';
    }
    out[n] = '\0';
    if (n == 0 && size > 1) {
        snprintf(out, size, "failed");
    }
}

int quiesce_writer_reply(QuiesceWriter *writer, const QuiesceWriterEvent *event,
                         const char *fail_reason)
{
    if (event->local) {
        return 0;
    }
    if (strcmp(writer->outstanding, event->phase) != 0) {
        writer_set_error(writer, EINVAL, "no outstanding '%s' event to answer", event->phase);
        return -1;
    }
    writer->outstanding[0] = '\0';
    char line[QUIESCE_WRITER_LINE_MAX];
    if (!fail_reason) {
        snprintf(line, sizeof line, "ok %s\n", event->phase);
        if (strcmp(event->phase, "freeze") == 0) {
            /* Frozen from now on even if the send fails: a hang-up must
             * still produce the local freeze-fail that releases. */
            writer->frozen = 1;
        }
    } else {
        int head = snprintf(line, sizeof line, "fail %s ", event->phase);
        reason_sanitize(fail_reason, line + head, sizeof line - (size_t)head - 1);
        strcat(line, "\n");
    }
    return writer_send(writer, line);
}

int quiesce_writer_run(QuiesceWriter *writer, QuiesceWriterHandler handler,
                       void *user_data)
{
    for (;;) {
        QuiesceWriterEvent event;
        int got = quiesce_writer_next_event(writer, &event, -1);
        if (got < 0) {
            return errno == EPIPE ? 0 : -1;
        }
        char reason[QUIESCE_WRITER_LINE_MAX] = "";
        int status = handler(&event, reason, sizeof reason, user_data);
        reason[sizeof reason - 1] = '\0';
        if (quiesce_writer_reply(writer, &event, status == 0 ? NULL : reason) < 0 &&
            errno != EPIPE) {
            return -1;
        }
        /* On EPIPE the loop goes on: next_event reports the hang-up, as a
         * local freeze-fail first if this reply froze the writer. */
    }
}
