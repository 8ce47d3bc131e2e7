/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * main.c — `quiesce-writer-mariadb`, the socket writer (client/quiesce-writer.h)
 * that makes a MariaDB server's files consistent for quiesced's snapshots
 * with the server's BACKUP STAGE sequence (mariadb-stage.h), held by one
 * connection from prepare to thaw. Options, the agent connection and the
 * event loop live here; quiesce-writer-mariadb(8) documents them.
 *
 * Release on every path: thaw and freeze-fail end the stage; so does a
 * hang-up of the agent (the library's local freeze-fail, or a plain
 * hang-up after prepare), a prepare that no freeze follows within the
 * prepare hold, and this process's death (the server ends the stage of a
 * closed connection).
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "client/quiesce-writer.h"
#include "db-writers/mariadb/mariadb-stage.h"

typedef struct {
    const char *name;
    const char *agent_socket;
    unsigned prepare_hold_s;
    int once;
    MariadbOptions db;
    MariadbStage *stage;
    long long hold_until_ms; /* while prepare's stage is held */
} Writer;

static void note(const Writer *writer, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

static void note(const Writer *writer, const char *format, ...)
{
    va_list args;
    fprintf(stderr, "quiesce-writer-mariadb %s: ", writer->name);
    va_start(args, format);
    vfprintf(stderr, format, args);
    va_end(args);
    fputc('\n', stderr);
}

static long long monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void writer_release(Writer *writer, const char *why)
{
    MariadbHeld held = mariadb_stage_held(writer->stage);
    if (held == MARIADB_HELD_NOTHING) {
        return;
    }
    char reason[512] = "";
    if (mariadb_stage_release(writer->stage, reason, sizeof reason) == 0) {
        note(writer, "%s: BACKUP STAGE END", why);
    } else {
        note(writer, "%s: %s; connection closed instead, which ends the stage", why, reason);
    }
}

static int writer_result(Writer *writer, const char *phase, MariadbStageResult rc,
                         char *reason)
{
    switch (rc) {
    case MARIADB_STAGE_OK:
        return 0;
    case MARIADB_STAGE_NOT_RUNNING:
        note(writer, "%s: server not running, nothing to protect (%s)", phase, reason);
        reason[0] = '\0';
        return 0;
    case MARIADB_STAGE_FAILED:
        note(writer, "%s failed: %s", phase, reason);
        return -1;
    }
    return -1;
}

static int writer_handle(Writer *writer, const QuiesceWriterEvent *event, char *reason,
                         size_t size)
{
    const char *phase = event->phase;
    writer->hold_until_ms = 0;
    if (strcmp(phase, "prepare") == 0) {
        MariadbStageResult rc = mariadb_stage_prepare(writer->stage, reason, size);
        if (rc == MARIADB_STAGE_OK) {
            writer->hold_until_ms = monotonic_ms() + (long long)writer->prepare_hold_s * 1000;
            note(writer, "prepare: BACKUP STAGE START, FLUSH");
        }
        return writer_result(writer, phase, rc, reason);
    }
    if (strcmp(phase, "freeze") == 0) {
        MariadbStageResult rc = mariadb_stage_freeze(writer->stage, reason, size);
        if (rc == MARIADB_STAGE_OK) {
            note(writer, "freeze: BACKUP STAGE BLOCK_COMMIT held, redo log on disk");
        }
        return writer_result(writer, phase, rc, reason);
    }
    if (strcmp(phase, "thaw") == 0 || strcmp(phase, "freeze-fail") == 0) {
        writer_release(writer, event->local ? "agent hung up" : phase);
        return 0;
    }
    return 0; /* post-snapshot, and phases added later */
}

/* Serves one agent connection until it ends. */
static void writer_serve(Writer *writer, QuiesceWriter *client)
{
    for (;;) {
        int timeout_ms = -1;
        if (writer->hold_until_ms) {
            long long left = writer->hold_until_ms - monotonic_ms();
            timeout_ms = left > 0 ? (int)left : 0;
        }
        QuiesceWriterEvent event;
        int rc = quiesce_writer_next_event(client, &event, timeout_ms);
        if (rc == 0) {
            writer->hold_until_ms = 0;
            writer_release(writer, "no freeze followed prepare in time");
            continue;
        }
        if (rc < 0) {
            if (errno != EPIPE) {
                note(writer, "agent connection: %s", quiesce_writer_get_error(client));
            }
            return;
        }
        char reason[QUIESCE_WRITER_LINE_MAX] = "";
        int failed = writer_handle(writer, &event, reason, sizeof reason) != 0;
        if (quiesce_writer_reply(client, &event, failed ? reason : NULL) < 0) {
            note(writer, "reply: %s", quiesce_writer_get_error(client));
            return;
        }
    }
}

static int parse_seconds(const char *text, const char *option, unsigned *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long value = strtoul(text, &end, 10);
    if (errno || end == text || *end || value < 1 || value > 3600 || text[0] == '-') {
        fprintf(stderr, "quiesce-writer-mariadb: %s wants whole seconds from 1 to 3600, "
                        "not '%s'\n", option, text);
        return -1;
    }
    *out = (unsigned)value;
    return 0;
}

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: quiesce-writer-mariadb [OPTION]...\n"
            "Holds MariaDB's BACKUP STAGE across quiesced's snapshots.\n"
            "  --name NAME              writer name (default mariadb)\n"
            "  --socket PATH            quiesced's writer socket (default %s)\n"
            "  --mariadb-socket PATH    MariaDB's socket (default: the option files')\n"
            "  --defaults-file PATH     read this option file instead of the usual ones\n"
            "  --defaults-group GROUP   option-file group besides [client]\n"
            "                           (default quiesce-writer-mariadb)\n"
            "  --user NAME              MariaDB user (default: option files, else login)\n"
            "  --connect-timeout S      (default 5)\n"
            "  --prepare-timeout S      START and FLUSH (default 10)\n"
            "  --freeze-timeout S       BLOCK_DDL, BLOCK_COMMIT, the redo wait (default 10)\n"
            "  --release-timeout S      END (default 5)\n"
            "  --prepare-hold S         end prepare's stage when no freeze follows (default 30)\n"
            "  --once                   exit when the agent hangs up\n"
            "  --version                print the version\n",
            QUIESCE_WRITER_DEFAULT_SOCKET);
}

static int writer_parse(int argc, char **argv, Writer *writer)
{
    static const struct option longopts[] = {
        { "name", required_argument, NULL, 'n' },
        { "socket", required_argument, NULL, 's' },
        { "mariadb-socket", required_argument, NULL, 'S' },
        { "defaults-file", required_argument, NULL, 'f' },
        { "defaults-group", required_argument, NULL, 'g' },
        { "user", required_argument, NULL, 'u' },
        { "connect-timeout", required_argument, NULL, 'c' },
        { "prepare-timeout", required_argument, NULL, 'p' },
        { "freeze-timeout", required_argument, NULL, 'F' },
        { "release-timeout", required_argument, NULL, 'r' },
        { "prepare-hold", required_argument, NULL, 'H' },
        { "once", no_argument, NULL, 'o' },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };
    int c;
    int bad = 0;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 'n': writer->name = optarg; break;
        case 's': writer->agent_socket = optarg; break;
        case 'S': writer->db.socket = optarg; break;
        case 'f': writer->db.defaults_file = optarg; break;
        case 'g': writer->db.group = optarg; break;
        case 'u': writer->db.user = optarg; break;
        case 'c': bad |= parse_seconds(optarg, "--connect-timeout", &writer->db.connect_timeout_s); break;
        case 'p': bad |= parse_seconds(optarg, "--prepare-timeout", &writer->db.prepare_timeout_s); break;
        case 'F': bad |= parse_seconds(optarg, "--freeze-timeout", &writer->db.freeze_timeout_s); break;
        case 'r': bad |= parse_seconds(optarg, "--release-timeout", &writer->db.release_timeout_s); break;
        case 'H': bad |= parse_seconds(optarg, "--prepare-hold", &writer->prepare_hold_s); break;
        case 'o': writer->once = 1; break;
        case 'h': usage(stdout); exit(0);
        case 'V': printf("quiesce-writer-mariadb %s\n", QUIESCE_VERSION); exit(0);
        default: usage(stderr); return -1;
        }
    }
    if (bad) {
        return -1;
    }
    if (optind != argc) {
        fprintf(stderr, "quiesce-writer-mariadb: unexpected argument '%s'\n", argv[optind]);
        return -1;
    }
    if (!quiesce_writer_name_is_valid(writer->name)) {
        fprintf(stderr, "quiesce-writer-mariadb: invalid name '%s' (1 to %d of A-Z a-z 0-9 . _ -)\n",
                writer->name, QUIESCE_WRITER_NAME_MAX);
        return -1;
    }
    if (writer->db.defaults_file && access(writer->db.defaults_file, R_OK) != 0) {
        fprintf(stderr, "quiesce-writer-mariadb: --defaults-file %s: %s\n",
                writer->db.defaults_file, strerror(errno));
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    Writer writer = {
        .name = "mariadb",
        .prepare_hold_s = 30,
        .db = {
            .group = "quiesce-writer-mariadb",
            .connect_timeout_s = 5,
            .prepare_timeout_s = 10,
            .freeze_timeout_s = 10,
            .release_timeout_s = 5,
        },
    };
    if (writer_parse(argc, argv, &writer) < 0) {
        return 2;
    }
    writer.stage = mariadb_stage_new(&writer.db);
    char last_err[256] = "";
    int status = 0;
    for (;;) {
        char err[256];
        QuiesceWriter *client = quiesce_writer_connect(writer.agent_socket, writer.name, err,
                                                       sizeof err);
        if (client) {
            status = 0;
            last_err[0] = '\0';
            note(&writer, "registered with the agent");
            writer_serve(&writer, client);
            quiesce_writer_close(client);
            writer_release(&writer, "agent connection ended");
            note(&writer, "agent connection ended");
        } else {
            status = 1;
            if (strcmp(err, last_err) != 0) { /* once per cause, not every second */
                note(&writer, "%s", err);
                snprintf(last_err, sizeof last_err, "%s", err);
            }
            if (errno == EACCES || errno == EINVAL) {
                break; /* refused: retrying will not help */
            }
        }
        if (writer.once) {
            break;
        }
        sleep(1);
    }
    mariadb_stage_free(writer.stage);
    return status;
}
