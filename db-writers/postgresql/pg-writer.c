/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pg-writer.c — `quiesce-writer-postgresql`, the socket writer that makes a
 * PostgreSQL cluster's files ready for an atomic snapshot of the guest.
 *
 *   quiesce-writer-postgresql [--conninfo STR] [--name NAME] [--socket PATH]
 *       [--prepare-timeout MS] [--freeze-timeout MS] [--once]
 *
 * Phases (client/quiesce-writer.h), why this and nothing more in
 * docs/postgresql.md:
 *   prepare      CHECKPOINT, outside the window: writes every dirty buffer
 *                and flushes the WAL, the slow part, while nothing waits.
 *   freeze       CHECKPOINT again, now small: the snapshot's redo starts
 *                a few moments before the freeze, and every transaction
 *                acknowledged before it is in the flushed WAL even under
 *                synchronous_commit = off. Crash recovery of the atomic
 *                snapshot then replays only what came after.
 *   thaw, freeze-fail, the agent hanging up
 *                nothing to release: no lock, no backup mode, no
 *                connection is kept past a phase.
 * No client is blocked at any point; CHECKPOINT takes no lock that a
 * client's statement waits for. A server that does not answer at the
 * address (not running) is reported ok with a note: a stopped cluster's
 * files are already consistent. Each phase has its own limit: the server's
 * statement_timeout is set a little under it so the error that comes back
 * is PostgreSQL's own, and the client gives up at the limit regardless
 * (pg-bounded.h). Every failure reason names the server.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/quiesce-writer.h"
#include "db-writers/postgresql/pg-bounded.h"

#define PG_WRITER_PROGRAM "quiesce-writer-postgresql"
#define PG_WRITER_TIMEOUT_MIN_MS 100
#define PG_WRITER_TIMEOUT_MAX_MS 3600000
/* What the server's statement_timeout leaves the client to receive the
 * error in before its own limit. */
#define PG_WRITER_MARGIN_MS 500

typedef struct {
    const char *conninfo;
    const char *name;
    const char *socket_path;
    long prepare_timeout_ms;
    long freeze_timeout_ms;
    int once;
} PgWriter;

static void note(const PgWriter *writer, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

static void note(const PgWriter *writer, const char *format, ...)
{
    va_list args;
    fprintf(stderr, PG_WRITER_PROGRAM " %s: ", writer->name);
    va_start(args, format);
    vfprintf(stderr, format, args);
    va_end(args);
    fputc('\n', stderr);
}

/* The server's statement_timeout for a phase ending at @deadline_ms. */
static long pg_writer_statement_timeout(int64_t deadline_ms, long timeout_ms)
{
    long margin = timeout_ms / 4 < PG_WRITER_MARGIN_MS ? timeout_ms / 4 : PG_WRITER_MARGIN_MS;
    long left = (long)(deadline_ms - pg_bounded_now_ms()) - margin;
    return left < 1 ? 1 : left;
}

/* One CHECKPOINT within @timeout_ms, on a connection of its own. 0 done
 * (or no server), -1 failed with @reason. */
static int pg_writer_checkpoint(const PgWriter *writer, const char *phase, long timeout_ms,
                                char *reason, size_t size)
{
    int64_t start = pg_bounded_now_ms();
    int64_t deadline = start + timeout_ms;
    char err[400];
    char where[128];
    PGconn *conn = NULL;
    PgBoundedStatus status = pg_bounded_connect(writer->conninfo, PG_WRITER_PROGRAM, deadline,
                                                &conn, where, sizeof where, err, sizeof err);
    char server[160];
    snprintf(server, sizeof server, "PostgreSQL at %s", where);
    if (status == PG_BOUNDED_NOT_RUNNING) {
        note(writer, "%s: PostgreSQL is not running (%s): nothing to protect", phase, err);
        return 0;
    }
    if (status != PG_BOUNDED_OK) {
        snprintf(reason, size, "%s: %s", server, err);
        return -1;
    }
    /* The server ends the statement itself: at statement_timeout, with
     * its own error, or within a second of our hanging up at the deadline. */
    char set[160];
    snprintf(set, sizeof set,
             "SELECT set_config('statement_timeout', '%ld', false), "
             "set_config('client_connection_check_interval', '1000', false)",
             pg_writer_statement_timeout(deadline, timeout_ms));
    status = pg_bounded_exec(conn, set, deadline, NULL, 0, err, sizeof err);
    if (status == PG_BOUNDED_OK) {
        status = pg_bounded_exec(conn, "CHECKPOINT", deadline, NULL, 0, err, sizeof err);
    }
    PQfinish(conn);
    if (status != PG_BOUNDED_OK) {
        snprintf(reason, size, "%s: %s", server, err);
        return -1;
    }
    note(writer, "%s: %s: CHECKPOINT done in %lld ms", phase, server,
         (long long)(pg_bounded_now_ms() - start));
    return 0;
}

static int pg_writer_handle(const QuiesceWriterEvent *event, char *reason, size_t size,
                            void *user_data)
{
    const PgWriter *writer = user_data;
    int rc = 0;
    if (strcmp(event->phase, "prepare") == 0) {
        rc = pg_writer_checkpoint(writer, "prepare", writer->prepare_timeout_ms, reason, size);
    } else if (strcmp(event->phase, "freeze") == 0) {
        rc = pg_writer_checkpoint(writer, "freeze", writer->freeze_timeout_ms, reason, size);
    } else if (strcmp(event->phase, "thaw") == 0 || strcmp(event->phase, "freeze-fail") == 0) {
        note(writer, "%s: nothing held", event->local ? "agent hung up" : event->phase);
    }
    if (rc < 0) {
        note(writer, "%s failed: %s", event->phase, reason);
    }
    return rc; /* post-snapshot, and phases added later: ok */
}

static void pg_writer_usage(FILE *out)
{
    fprintf(out,
            "Usage: " PG_WRITER_PROGRAM " [--conninfo STR] [--name NAME] [--socket PATH]\n"
            "         [--prepare-timeout MS] [--freeze-timeout MS] [--once] | --version\n"
            "Checkpoints a PostgreSQL cluster before quiesced freezes the guest\n"
            "(man quiesce-writers). Defaults come from the environment:\n"
            "QUIESCE_PG_CONNINFO (libpq's defaults and PG* variables when empty),\n"
            "QUIESCE_PG_NAME (postgresql), QUIESCE_WRITER_SOCKET (" QUIESCE_WRITER_DEFAULT_SOCKET
            "),\nQUIESCE_PG_PREPARE_TIMEOUT_MS (20000), QUIESCE_PG_FREEZE_TIMEOUT_MS (10000).\n"
            "--once: exit when the agent hangs up instead of reconnecting.\n");
}

/* A timeout in ms from @text, or -1. */
static long pg_writer_parse_timeout(const char *what, const char *text)
{
    char *end = NULL;
    errno = 0;
    long value = strtol(text, &end, 10);
    if (errno || !end || end == text || *end || value < PG_WRITER_TIMEOUT_MIN_MS ||
        value > PG_WRITER_TIMEOUT_MAX_MS) {
        fprintf(stderr, PG_WRITER_PROGRAM ": %s must be %d to %d milliseconds, not '%s'\n", what,
                PG_WRITER_TIMEOUT_MIN_MS, PG_WRITER_TIMEOUT_MAX_MS, text);
        return -1;
    }
    return value;
}

static const char *env_or(const char *name, const char *fallback)
{
    const char *value = getenv(name);
    return value && *value ? value : fallback;
}

static int pg_writer_parse(int argc, char **argv, PgWriter *writer)
{
    static const struct option longopts[] = {
        { "conninfo", required_argument, NULL, 'c' },
        { "name", required_argument, NULL, 'n' },
        { "socket", required_argument, NULL, 's' },
        { "prepare-timeout", required_argument, NULL, 'p' },
        { "freeze-timeout", required_argument, NULL, 'f' },
        { "once", no_argument, NULL, 'o' },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };
    writer->conninfo = env_or("QUIESCE_PG_CONNINFO", "");
    writer->name = env_or("QUIESCE_PG_NAME", "postgresql");
    writer->socket_path = env_or("QUIESCE_WRITER_SOCKET", NULL);
    const char *prepare = env_or("QUIESCE_PG_PREPARE_TIMEOUT_MS", "20000");
    const char *freeze = env_or("QUIESCE_PG_FREEZE_TIMEOUT_MS", "10000");
    int c;
    while ((c = getopt_long(argc, argv, "c:n:s:p:f:oh", longopts, NULL)) != -1) {
        switch (c) {
        case 'c': writer->conninfo = optarg; break;
        case 'n': writer->name = optarg; break;
        case 's': writer->socket_path = optarg; break;
        case 'p': prepare = optarg; break;
        case 'f': freeze = optarg; break;
        case 'o': writer->once = 1; break;
        case 'h': pg_writer_usage(stdout); exit(0);
        case 'V': printf(PG_WRITER_PROGRAM " %s\n", QUIESCE_VERSION); exit(0);
        default: pg_writer_usage(stderr); return -1;
        }
    }
    if (optind != argc) {
        fprintf(stderr, PG_WRITER_PROGRAM ": unexpected argument '%s'\n", argv[optind]);
        return -1;
    }
    if (!quiesce_writer_name_is_valid(writer->name)) {
        fprintf(stderr, PG_WRITER_PROGRAM ": invalid name '%s' (1 to %d of A-Za-z0-9._-)\n",
                writer->name, QUIESCE_WRITER_NAME_MAX);
        return -1;
    }
    writer->prepare_timeout_ms = pg_writer_parse_timeout("--prepare-timeout", prepare);
    writer->freeze_timeout_ms = pg_writer_parse_timeout("--freeze-timeout", freeze);
    if (writer->prepare_timeout_ms < 0 || writer->freeze_timeout_ms < 0) {
        return -1;
    }
    char *parse_error = NULL;
    PQconninfoOption *options = PQconninfoParse(writer->conninfo, &parse_error);
    if (!options) {
        fprintf(stderr, PG_WRITER_PROGRAM ": invalid connection string: %s",
                parse_error ? parse_error : "out of memory\n");
        PQfreemem(parse_error);
        return -1;
    }
    PQconninfoFree(options);
    return 0;
}

int main(int argc, char **argv)
{
    PgWriter writer = { 0 };
    if (pg_writer_parse(argc, argv, &writer) < 0) {
        return 2;
    }
    int status = 0;
    char last_err[256] = "";
    for (;;) {
        char err[256];
        QuiesceWriter *client = quiesce_writer_connect(writer.socket_path, writer.name, err,
                                                       sizeof err);
        if (client) {
            status = 0;
            last_err[0] = '\0';
            note(&writer, "registered");
            if (quiesce_writer_run(client, pg_writer_handle, &writer) < 0) {
                note(&writer, "%s", quiesce_writer_get_error(client));
            }
            quiesce_writer_close(client);
        } else {
            /* Said once, not every second while there is no agent. */
            if (strcmp(err, last_err) != 0) {
                note(&writer, "%s%s", err, writer.once ? "" : " (retrying every second)");
                snprintf(last_err, sizeof last_err, "%s", err);
            }
            status = 1;
            if (errno == EACCES || errno == EINVAL) {
                break; /* refused: retrying will not help */
            }
        }
        if (writer.once) {
            break;
        }
        sleep(1);
    }
    return status;
}
