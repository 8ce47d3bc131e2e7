/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * quiesce-writer-tool.c — `quiesce-writer`, a socket writer for shell
 * scripts: it connects to quiesced, registers a name, stays connected, and
 * runs a shell command for each phase it receives.
 *
 *   quiesce-writer --name db --on-freeze 'db-ctl lock' --on-thaw 'db-ctl unlock'
 *
 * Each command runs as `/bin/sh -c CMD` with stdin from /dev/null, the
 * tool's stdout and stderr, and QUIESCE_PHASE, QUIESCE_SESSION_ID (empty
 * when none) and QUIESCE_WRITER_NAME in its environment. Exit status 0
 * answers "ok"; anything else answers "fail" with the status. A phase
 * without a command answers "ok". --on-freeze-fail defaults to the
 * --on-thaw command, because both mean "release what freeze took".
 *
 * Releasing is guaranteed: when the agent hangs up while this writer is
 * frozen, or SIGTERM/SIGINT/SIGHUP arrives while frozen, the freeze-fail
 * command runs before the tool goes on (or exits). With --reconnect the tool
 * waits for the agent and reconnects after a hang-up, which suits a systemd
 * unit; without it the tool exits 0 on a hang-up and 1 on errors.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "client/quiesce-writer.h"

extern char **environ;

typedef struct {
    const char *name;
    const char *socket_path;
    const char *on_prepare;
    const char *on_freeze;
    const char *on_thaw;
    const char *on_freeze_fail;
    const char *on_post_snapshot;
    int reconnect;
    int sigfd;
} ToolOptions;

static void tool_usage(FILE *out)
{
    fprintf(out,
            "Usage: quiesce-writer --name NAME [OPTION...]\n"
            "Register with quiesced as a socket writer and run a command per phase.\n\n"
            "  -n, --name NAME             writer name (A-Z a-z 0-9 . _ -, up to %d)\n"
            "  -s, --socket PATH           agent socket (default %s)\n"
            "      --on-prepare CMD        before the freeze window (slow work)\n"
            "      --on-freeze CMD         make data consistent and hold it\n"
            "      --on-thaw CMD           release after the snapshot\n"
            "      --on-freeze-fail CMD    release after an abandoned freeze\n"
            "                              (default: the --on-thaw command)\n"
            "      --on-post-snapshot CMD  after a good snapshot\n"
            "  -r, --reconnect             wait for the agent and reconnect after hang-ups\n"
            "  -h, --help                  show this help\n"
            "  -V, --version               print the version and exit\n\n"
            "Commands run with /bin/sh -c and get QUIESCE_PHASE, QUIESCE_SESSION_ID and\n"
            "QUIESCE_WRITER_NAME; exit status 0 answers ok, anything else fails the phase.\n",
            QUIESCE_WRITER_NAME_MAX, QUIESCE_WRITER_DEFAULT_SOCKET);
}

static const char *tool_command_for(const ToolOptions *options, const char *phase)
{
    if (strcmp(phase, "prepare") == 0) {
        return options->on_prepare;
    }
    if (strcmp(phase, "freeze") == 0) {
        return options->on_freeze;
    }
    if (strcmp(phase, "thaw") == 0) {
        return options->on_thaw;
    }
    if (strcmp(phase, "freeze-fail") == 0) {
        return options->on_freeze_fail ? options->on_freeze_fail : options->on_thaw;
    }
    if (strcmp(phase, "post-snapshot") == 0) {
        return options->on_post_snapshot;
    }
    return NULL; /* unknown phases are answered ok (protocol rule) */
}

/* Builds environ plus the three QUIESCE_* variables. (transfer full) */
static char **tool_build_env(const ToolOptions *options, const QuiesceWriterEvent *event)
{
    size_t n = 0;
    while (environ[n]) {
        n++;
    }
    char **env = calloc(n + 4, sizeof *env);
    if (!env) {
        return NULL;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (strncmp(environ[i], "QUIESCE_", 8) != 0) {
            env[k++] = strdup(environ[i]);
        }
    }
    if (asprintf(&env[k++], "QUIESCE_PHASE=%s", event->phase) < 0 ||
        asprintf(&env[k++], "QUIESCE_SESSION_ID=%s", event->session_id) < 0 ||
        asprintf(&env[k++], "QUIESCE_WRITER_NAME=%s", options->name) < 0) {
        env[k - 1] = NULL;
    }
    return env;
}

static void tool_free_env(char **env)
{
    for (size_t i = 0; env && env[i]; i++) {
        free(env[i]);
    }
    free(env);
}

/* Runs @command for @event and waits. Returns 0 when it exited 0, else -1
 * with the reason in @reason. */
static int tool_run_command(const ToolOptions *options, const char *command,
                            const QuiesceWriterEvent *event, char *reason, size_t size)
{
    char **env = tool_build_env(options, event);
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attr;
    sigset_t none;
    sigemptyset(&none);
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
    posix_spawnattr_setsigmask(&attr, &none);
    char *argv[] = { "/bin/sh", "-c", (char *)command, NULL };
    pid_t pid;
    int rc = env ? posix_spawn(&pid, "/bin/sh", &actions, &attr, argv, env) : ENOMEM;
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    tool_free_env(env);
    if (rc != 0) {
        snprintf(reason, size, "cannot run /bin/sh: %s", strerror(rc));
        return -1;
    }
    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            snprintf(reason, size, "waitpid: %s", strerror(errno));
            return -1;
        }
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        return 0;
    }
    if (WIFEXITED(status)) {
        snprintf(reason, size, "%s command exited with status %d", event->phase,
                 WEXITSTATUS(status));
    } else {
        snprintf(reason, size, "%s command killed by signal %d", event->phase,
                 WTERMSIG(status));
    }
    return -1;
}

static int tool_handle(const QuiesceWriterEvent *event, char *reason, size_t size,
                       void *user_data)
{
    const ToolOptions *options = user_data;
    const char *command = tool_command_for(options, event->phase);
    fprintf(stderr, "quiesce-writer %s: %s%s%s\n", options->name, event->phase,
            event->local ? " (the agent hung up while frozen)" : "",
            command ? "" : " (no command)");
    if (!command) {
        return 0;
    }
    return tool_run_command(options, command, event, reason, size);
}

/* Returns the pending signal number, or 0. */
static int tool_take_signal(int sigfd)
{
    struct signalfd_siginfo info;
    if (read(sigfd, &info, sizeof info) == (ssize_t)sizeof info) {
        return (int)info.ssi_signo;
    }
    return 0;
}

/* One connection: handles events until the agent hangs up (0), an error
 * (-1), or a signal (its number, after releasing if frozen). */
static int tool_serve(const ToolOptions *options, QuiesceWriter *writer)
{
    for (;;) {
        if (!quiesce_writer_has_pending(writer)) {
            struct pollfd pfds[2] = {
                { .fd = quiesce_writer_get_fd(writer), .events = POLLIN },
                { .fd = options->sigfd, .events = POLLIN },
            };
            if (poll(pfds, 2, -1) < 0 && errno != EINTR) {
                return -1;
            }
            int sig = pfds[1].revents ? tool_take_signal(options->sigfd) : 0;
            if (sig) {
                if (quiesce_writer_is_frozen(writer)) {
                    QuiesceWriterEvent release = { .phase = "freeze-fail", .local = 1 };
                    char reason[QUIESCE_WRITER_LINE_MAX] = "";
                    tool_handle(&release, reason, sizeof reason, (void *)options);
                }
                return sig;
            }
        }
        QuiesceWriterEvent event;
        int got = quiesce_writer_next_event(writer, &event, 0);
        if (got < 0) {
            return errno == EPIPE ? 0 : -1;
        }
        if (got == 0) {
            continue;
        }
        char reason[QUIESCE_WRITER_LINE_MAX] = "";
        int status = tool_handle(&event, reason, sizeof reason, (void *)options);
        if (quiesce_writer_reply(writer, &event, status == 0 ? NULL : reason) < 0 &&
            errno != EPIPE) {
            return -1;
        }
    }
}

static int tool_parse(int argc, char **argv, ToolOptions *options)
{
    enum { OPT_PREPARE = 256, OPT_FREEZE, OPT_THAW, OPT_FREEZE_FAIL, OPT_POST };
    static const struct option longopts[] = {
        { "name", required_argument, NULL, 'n' },
        { "socket", required_argument, NULL, 's' },
        { "on-prepare", required_argument, NULL, OPT_PREPARE },
        { "on-freeze", required_argument, NULL, OPT_FREEZE },
        { "on-thaw", required_argument, NULL, OPT_THAW },
        { "on-freeze-fail", required_argument, NULL, OPT_FREEZE_FAIL },
        { "on-post-snapshot", required_argument, NULL, OPT_POST },
        { "reconnect", no_argument, NULL, 'r' },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };
    int c;
    while ((c = getopt_long(argc, argv, "n:s:rhV", longopts, NULL)) != -1) {
        switch (c) {
        case 'n': options->name = optarg; break;
        case 's': options->socket_path = optarg; break;
        case OPT_PREPARE: options->on_prepare = optarg; break;
        case OPT_FREEZE: options->on_freeze = optarg; break;
        case OPT_THAW: options->on_thaw = optarg; break;
        case OPT_FREEZE_FAIL: options->on_freeze_fail = optarg; break;
        case OPT_POST: options->on_post_snapshot = optarg; break;
        case 'r': options->reconnect = 1; break;
        case 'h': tool_usage(stdout); exit(0);
        case 'V': printf("quiesce-writer %s\n", QUIESCE_VERSION); exit(0);
        default: tool_usage(stderr); return -1;
        }
    }
    if (optind != argc || !options->name) {
        tool_usage(stderr);
        return -1;
    }
    if (!quiesce_writer_name_is_valid(options->name)) {
        fprintf(stderr, "quiesce-writer: invalid name '%s'\n", options->name);
        return -1;
    }
    return 0;
}

/* Sleeps @ms unless a signal comes first; returns the signal or 0. */
static int tool_wait(int sigfd, int ms)
{
    struct pollfd pfd = { .fd = sigfd, .events = POLLIN };
    return poll(&pfd, 1, ms) > 0 ? tool_take_signal(sigfd) : 0;
}

int main(int argc, char **argv)
{
    ToolOptions options = { 0 };
    if (tool_parse(argc, argv, &options) < 0) {
        return 2;
    }
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGHUP);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    options.sigfd = signalfd(-1, &mask, SFD_CLOEXEC);
    if (options.sigfd < 0) {
        perror("quiesce-writer: signalfd");
        return 1;
    }
    for (;;) {
        char err[256];
        QuiesceWriter *writer = quiesce_writer_connect(options.socket_path, options.name,
                                                       err, sizeof err);
        if (!writer) {
            fprintf(stderr, "quiesce-writer %s: %s\n", options.name, err);
            if (!options.reconnect || errno == EACCES || errno == EINVAL) {
                return 1;
            }
            if (tool_wait(options.sigfd, 1000)) {
                return 0;
            }
            continue;
        }
        fprintf(stderr, "quiesce-writer %s: registered\n", options.name);
        int result = tool_serve(&options, writer);
        if (result < 0) {
            fprintf(stderr, "quiesce-writer %s: %s\n", options.name,
                    quiesce_writer_get_error(writer));
        }
        quiesce_writer_close(writer);
        if (result > 0) {
            return 0; /* a signal: released if frozen, now exit */
        }
        if (!options.reconnect) {
            return result < 0 ? 1 : 0;
        }
        fprintf(stderr, "quiesce-writer %s: disconnected, reconnecting\n", options.name);
        if (tool_wait(options.sigfd, 1000)) {
            return 0;
        }
    }
}
