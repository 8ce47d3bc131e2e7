/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * qga-bench.c — measures a QGA agent on a unix socket, the way hosts use it:
 *   sequential   N guest-sync round trips on one connection (libvirt style)
 *   per-command  N connections, each guest-sync-delimited + guest-ping in one
 *                write, read to the second reply, close (Proxmox style)
 *   pipelined    N guest-sync requests in one write, read all N replies
 * Prints one line per measure: name, count, p50/p99 µs (or total ms and
 * requests per second for pipelined). bench/run.sh runs it against quiesced
 * and Debian's qemu-ga in rounds, interleaved.
 *
 * freeze mode (bench/freeze-vm.sh, agents inside a QEMU guest, never on this
 * machine): N rounds of guest-fsfreeze-freeze then guest-fsfreeze-thaw on
 * each agent in turn, interleaved so both see the same guest load (who goes
 * first alternates); prints
 * per agent p50/p99/max of the freeze and of the thaw round trip and how
 * many filesystems each froze.
 *
 * per-command mode (bench/freeze-vm.sh): the Proxmox-style connection per
 * command of the first mode, N times on each agent in turn (who goes first
 * alternates), for agents on virtio-serial chardev sockets, where an agent
 * meets the host's disconnects and reconnects (docs/qga-reference.md);
 * prints per agent min/p50/p99/max.
 *
 * Environment for the stall figures (bench/freeze-vm-dirty.sh):
 *   QGA_BENCH_WINDOWS=FILE  one line per frozen window: AGENT ROUND KIND
 *                           START_NS END_NS FREEZE_US THAW_US, START/END on
 *                           the guest's CLOCK_REALTIME (offset measured once
 *                           with guest-get-time), from sending the freeze to
 *                           the thaw's reply; KIND fsfreeze or session
 *   QGA_BENCH_SESSION=AGENT this agent also runs guest-snapshot-prepare +
 *                           guest-snapshot-post each round (FREEZE_US and
 *                           THAW_US are then prepare's and post's)
 *   QGA_BENCH_PAUSE_MS=MS   pause after every window (writers re-dirty)
 * usage: qga-bench SOCKET [N]
 *        qga-bench --freeze N NAME=SOCKET [NAME=SOCKET...]
 *        qga-bench --per-command N NAME=SOCKET [NAME=SOCKET...]
 */
#include <errno.h>
#include <glib.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int bench_connect(const char *path)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    g_strlcpy(addr.sun_path, path, sizeof(addr.sun_path));
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        perror("connect");
        exit(1);
    }
    return fd;
}

static void bench_send(int fd, const char *text, gsize len)
{
    while (len > 0) {
        ssize_t n = write(fd, text, len);
        if (n <= 0) {
            perror("write");
            exit(1);
        }
        text += n;
        len -= (gsize)n;
    }
}

/* Reads until `lines` newlines arrived. */
static void bench_read_lines(int fd, guint lines)
{
    char buf[65536];

    while (lines > 0) {
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n <= 0) {
            fprintf(stderr, "read: connection closed with %u replies missing\n", lines);
            exit(1);
        }
        for (ssize_t i = 0; i < n; i++) {
            lines -= buf[i] == '\n';
        }
    }
}

/* Replies to guest-sync-delimited that carried another connection's id:
 * a stale reply, handed to a host that did not ask (per-command mode). */
static guint bench_stale;

/* Reads to the `lines`-th newline after the 0xFF that starts the reply to
 * guest-sync-delimited; what came before it is stale, as for Proxmox, which
 * parses what follows the last 0xFF. A delimited reply whose id is not
 * expect_id (when >= 0) is stale too: counted in bench_stale and skipped.
 * FALSE when nothing came for timeout_ms (then the reply is counted as
 * missing, not waited for forever). */
static gboolean bench_read_delimited(int fd, guint lines, int timeout_ms, gint64 expect_id)
{
    char buf[4096];
    gboolean synced = FALSE;
    g_autoptr(GString) first = g_string_new(NULL); /* the sync reply's line */
    guint want = lines;

    while (lines > 0) {
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        ssize_t n;

        if (poll(&pfd, 1, timeout_ms) == 0) {
            return FALSE;
        }
        n = read(fd, buf, sizeof(buf));
        if (n <= 0) {
            fprintf(stderr, "read: connection closed with %u replies missing\n", lines);
            exit(1);
        }
        for (ssize_t i = 0; i < n && lines > 0; i++) {
            if ((unsigned char)buf[i] == 0xff) {
                synced = TRUE;
                lines = want;
                g_string_truncate(first, 0);
            } else if (synced && buf[i] == '\n') {
                if (lines == want && expect_id >= 0) {
                    const char *ret = strstr(first->str, "\"return\": ");
                    if (!ret || g_ascii_strtoll(ret + 10, NULL, 10) != expect_id) {
                        fprintf(stderr, "stale reply (wanted id %" G_GINT64_FORMAT "): %s\n",
                                expect_id, first->str);
                        bench_stale++;
                        synced = FALSE;
                        continue;
                    }
                }
                lines--;
            } else if (synced && lines == want) {
                g_string_append_c(first, buf[i]);
            }
        }
    }
    return TRUE;
}

static int compare_i64(const void *a, const void *b)
{
    gint64 x = *(const gint64 *)a;
    gint64 y = *(const gint64 *)b;
    return (x > y) - (x < y);
}

static void report(const char *name, gint64 *samples, guint n)
{
    qsort(samples, n, sizeof(*samples), compare_i64);
    printf("%-12s n=%-6u p50=%6" G_GINT64_FORMAT " us  p99=%6" G_GINT64_FORMAT " us\n", name, n,
           samples[n / 2], samples[(n * 99 + 99) / 100 - 1]);
}

/* Reads one reply line into `line` (without the newline). */
static void bench_read_reply(int fd, GString *line)
{
    char c;

    g_string_truncate(line, 0);
    for (;;) {
        ssize_t n = read(fd, &c, 1);
        if (n <= 0) {
            fprintf(stderr, "read: connection closed before the reply\n");
            exit(1);
        }
        if (c == '\n') {
            return;
        }
        g_string_append_c(line, c);
    }
}

/* min/p50/max, and p99 only when there are enough samples for it to differ
 * from the max. */
static void report_ms(const char *agent, const char *name, gint64 *samples, guint n)
{
    char p99[32] = "";

    qsort(samples, n, sizeof(*samples), compare_i64);
    if (n >= 100) {
        g_snprintf(p99, sizeof(p99), "  p99=%8.1f ms", samples[(n * 99 + 99) / 100 - 1] / 1000.0);
    }
    printf("%-10s %-7s n=%-4u min=%8.1f ms  p50=%8.1f ms%s  max=%8.1f ms\n", agent, name, n,
           samples[0] / 1000.0, samples[n / 2] / 1000.0, p99, samples[n - 1] / 1000.0);
}

struct freeze_agent {
    const char *name;
    int fd;
    gint64 *freeze_us;
    gint64 *thaw_us;
    gint64 *prepare_us;
    gint64 *post_us;
    long frozen;
};

/* Guest CLOCK_REALTIME minus host CLOCK_REALTIME, ns, from guest-get-time. */
static gint64 bench_guest_offset(int fd)
{
    const char *req = "{\"execute\":\"guest-get-time\"}\n";
    g_autoptr(GString) line = g_string_new(NULL);
    gint64 before = g_get_real_time();
    const char *ret;

    bench_send(fd, req, strlen(req));
    bench_read_reply(fd, line);
    gint64 after = g_get_real_time();
    ret = strstr(line->str, "{\"return\": ");
    if (!ret) {
        fprintf(stderr, "guest-get-time: %s\n", line->str);
        exit(1);
    }
    return g_ascii_strtoll(ret + strlen("{\"return\": "), NULL, 10) - (before + after) / 2 * 1000;
}

/* One QGA_BENCH_WINDOWS line (no-op without the file); the window ends now. */
static void write_window(FILE *windows, const char *agent, guint round, const char *kind,
                         gint64 start_real_us, gint64 offset_ns, gint64 first_us, gint64 second_us)
{
    if (windows) {
        fprintf(windows, "%s %u %s %" G_GINT64_FORMAT " %" G_GINT64_FORMAT " %" G_GINT64_FORMAT
                " %" G_GINT64_FORMAT "\n", agent, round, kind, start_real_us * 1000 + offset_ns,
                g_get_real_time() * 1000 + offset_ns, first_us, second_us);
    }
}

/* prepare + post; FALSE when prepare answered saved-state. */
static gboolean session_round(struct freeze_agent *agent, gint64 *prepare_us, gint64 *post_us)
{
    g_autoptr(GString) line = g_string_new(NULL);
    const char *prepare = "{\"execute\":\"guest-snapshot-prepare\"}\n";
    gint64 start = g_get_monotonic_time();
    const char *at;

    bench_send(agent->fd, prepare, strlen(prepare));
    bench_read_reply(agent->fd, line);
    *prepare_us = g_get_monotonic_time() - start;
    at = strstr(line->str, "\"session\": \"");
    if (!at || strstr(line->str, "saved-state")) {
        fprintf(stderr, "%s: prepare -> %s\n", agent->name, line->str);
        return FALSE;
    }
    at += strlen("\"session\": \"");
    g_autofree char *id = g_strndup(at, strcspn(at, "\""));
    g_autofree char *post =
        g_strdup_printf("{\"execute\":\"guest-snapshot-post\",\"arguments\":{\"session\":\"%s\"}}\n", id);
    start = g_get_monotonic_time();
    bench_send(agent->fd, post, strlen(post));
    bench_read_reply(agent->fd, line);
    *post_us = g_get_monotonic_time() - start;
    if (!strstr(line->str, "{\"return\"")) {
        fprintf(stderr, "%s: post -> %s\n", agent->name, line->str);
        return FALSE;
    }
    return TRUE;
}

/* One request, one reply; a reply that is not {"return": COUNT} ends the run. */
static gint64 freeze_call(struct freeze_agent *agent, const char *req, long *count)
{
    g_autoptr(GString) line = g_string_new(NULL);
    gint64 start = g_get_monotonic_time();
    const char *ret;
    gint64 took;

    bench_send(agent->fd, req, strlen(req));
    bench_read_reply(agent->fd, line);
    took = g_get_monotonic_time() - start;
    ret = strstr(line->str, "{\"return\": ");
    if (ret != line->str) {
        fprintf(stderr, "%s: %s -> %s\n", agent->name, req, line->str);
        exit(1);
    }
    *count = strtol(ret + strlen("{\"return\": "), NULL, 10);
    return took;
}

/* Splits NAME=SOCKET in place; FALSE (and a message) when there is no '='. */
static gboolean agent_arg_split(char *arg, const char **name, const char **path)
{
    char *eq = strchr(arg, '=');

    if (eq == NULL) {
        fprintf(stderr, "qga-bench: %s is not NAME=SOCKET\n", arg);
        return FALSE;
    }
    *eq = '\0';
    *name = arg;
    *path = eq + 1;
    return TRUE;
}

static int bench_freeze(int argc, char **argv)
{
    guint n = (guint)atoi(argv[2]);
    guint count = (guint)(argc - 3);
    g_autofree struct freeze_agent *agents = g_new0(struct freeze_agent, count);
    const char *windows_path = g_getenv("QGA_BENCH_WINDOWS");
    const char *session_agent = g_getenv("QGA_BENCH_SESSION");
    gulong pause_ms = g_getenv("QGA_BENCH_PAUSE_MS") ? strtoul(g_getenv("QGA_BENCH_PAUSE_MS"), NULL, 10) : 0;
    FILE *windows = windows_path ? fopen(windows_path, "w") : NULL;
    gint64 offset_ns = 0;

    if (n == 0 || count == 0) {
        fprintf(stderr, "usage: qga-bench --freeze N NAME=SOCKET [NAME=SOCKET...]\n");
        return 2;
    }
    for (guint a = 0; a < count; a++) {
        g_autoptr(GString) line = g_string_new(NULL);
        const char *sync = "{\"execute\":\"guest-sync\",\"arguments\":{\"id\":7}}\n";
        const char *path;

        if (!agent_arg_split(argv[3 + a], &agents[a].name, &path)) {
            return 2;
        }
        agents[a].fd = bench_connect(path);
        agents[a].freeze_us = g_new(gint64, n);
        agents[a].thaw_us = g_new(gint64, n);
        agents[a].prepare_us = g_new0(gint64, n);
        agents[a].post_us = g_new0(gint64, n);
        /* A host opening a virtio-serial chardev may find stale bytes: sync first. */
        bench_send(agents[a].fd, sync, strlen(sync));
        do {
            bench_read_reply(agents[a].fd, line);
        } while (strstr(line->str, "{\"return\": 7}") == NULL);
        if (a == 0 && windows) {
            offset_ns = bench_guest_offset(agents[a].fd);
        }
    }
    for (guint i = 0; i < n; i++) {
        /* Who goes first alternates: the first of a round meets the dirty
         * data of the whole gap since the last thaw. */
        for (guint k = 0; k < count; k++) {
            guint a = i % 2 ? count - 1 - k : k;
            long thawed;
            gint64 window_start = g_get_real_time();

            agents[a].freeze_us[i] =
                freeze_call(&agents[a], "{\"execute\":\"guest-fsfreeze-freeze\"}\n", &agents[a].frozen);
            agents[a].thaw_us[i] =
                freeze_call(&agents[a], "{\"execute\":\"guest-fsfreeze-thaw\"}\n", &thawed);
            if (agents[a].frozen == 0 || thawed != agents[a].frozen) {
                fprintf(stderr, "%s: froze %ld, thawed %ld filesystems\n", agents[a].name,
                        agents[a].frozen, thawed);
                return 1;
            }
            write_window(windows, agents[a].name, i, "fsfreeze", window_start, offset_ns,
                         agents[a].freeze_us[i], agents[a].thaw_us[i]);
            g_usleep(pause_ms * 1000);
            if (session_agent && g_str_equal(session_agent, agents[a].name)) {
                window_start = g_get_real_time();
                if (!session_round(&agents[a], &agents[a].prepare_us[i], &agents[a].post_us[i])) {
                    return 1;
                }
                write_window(windows, agents[a].name, i, "session", window_start, offset_ns,
                             agents[a].prepare_us[i], agents[a].post_us[i]);
                g_usleep(pause_ms * 1000);
            }
        }
    }
    if (windows) {
        fclose(windows);
    }
    for (guint a = 1; a < count; a++) {
        if (agents[a].frozen != agents[0].frozen) {
            fprintf(stderr, "qga-bench: %s froze %ld filesystems, %s %ld: not comparable\n",
                    agents[0].name, agents[0].frozen, agents[a].name, agents[a].frozen);
            return 1;
        }
    }
    for (guint a = 0; a < count; a++) {
        printf("%-10s froze %ld filesystems per round\n", agents[a].name, agents[a].frozen);
        report_ms(agents[a].name, "freeze", agents[a].freeze_us, n);
        report_ms(agents[a].name, "thaw", agents[a].thaw_us, n);
        if (session_agent && g_str_equal(session_agent, agents[a].name)) {
            report_ms(agents[a].name, "prepare", agents[a].prepare_us, n);
            report_ms(agents[a].name, "post", agents[a].post_us, n);
        }
        close(agents[a].fd);
        g_free(agents[a].freeze_us);
        g_free(agents[a].thaw_us);
        g_free(agents[a].prepare_us);
        g_free(agents[a].post_us);
    }
    return 0;
}

static void bench_sequential(const char *path, guint n)
{
    g_autofree gint64 *samples = g_new(gint64, n);
    int fd = bench_connect(path);

    for (guint i = 0; i < n; i++) {
        g_autofree char *req =
            g_strdup_printf("{\"execute\":\"guest-sync\",\"arguments\":{\"id\":%u}}\n", i);
        gint64 start = g_get_monotonic_time();
        bench_send(fd, req, strlen(req));
        bench_read_lines(fd, 1);
        samples[i] = g_get_monotonic_time() - start;
    }
    close(fd);
    report("sequential", samples, n);
}

/* One command the way Proxmox sends it: connect, guest-sync-delimited and the
 * command in one write, read both replies, close. Returns the µs it took, or
 * -1 when the replies did not come within 5 s. */
static gint64 per_command_once(const char *path, guint id)
{
    g_autofree char *req = g_strdup_printf(
        "{\"execute\":\"guest-sync-delimited\",\"arguments\":{\"id\":%u}}\n"
        "{\"execute\":\"guest-ping\",\"arguments\":{}}\n", id);
    gint64 start = g_get_monotonic_time();
    int fd = bench_connect(path);

    gboolean answered;

    bench_send(fd, req, strlen(req));
    answered = bench_read_delimited(fd, 2, 5000, id);
    close(fd);
    return answered ? g_get_monotonic_time() - start : -1;
}

static void bench_per_command(const char *path, guint n)
{
    g_autofree gint64 *samples = g_new(gint64, n);

    for (guint i = 0; i < n; i++) {
        samples[i] = per_command_once(path, i);
        if (samples[i] < 0) {
            fprintf(stderr, "per-command: no reply to command %u within 5 s\n", i);
            exit(1);
        }
    }
    report("per-command", samples, n);
}

static int bench_per_command_agents(int argc, char **argv)
{
    guint n = (guint)atoi(argv[2]);
    guint count = (guint)(argc - 3);
    g_autofree const char **names = g_new0(const char *, count + 1);
    g_autofree const char **paths = g_new0(const char *, count + 1);
    g_autofree gint64 *samples = g_new(gint64, (gsize)n * (count ? count : 1));
    g_autofree guint *answered = g_new0(guint, count ? count : 1);
    g_autofree guint *stale = g_new0(guint, count ? count : 1);

    if (n == 0 || count == 0) {
        fprintf(stderr, "usage: qga-bench --per-command N NAME=SOCKET [NAME=SOCKET...]\n");
        return 2;
    }
    for (guint a = 0; a < count; a++) {
        if (!agent_arg_split(argv[3 + a], &names[a], &paths[a])) {
            return 2;
        }
    }
    for (guint i = 0; i < n; i++) {
        for (guint k = 0; k < count; k++) {
            guint a = i % 2 ? count - 1 - k : k;
            guint stale_before = bench_stale;
            gint64 took = per_command_once(paths[a], i);

            stale[a] += bench_stale - stale_before;
            if (took < 0) {
                fprintf(stderr, "%s: no reply to command %u within 5 s\n", names[a], i);
            } else {
                samples[(gsize)a * n + answered[a]++] = took;
            }
        }
    }
    for (guint a = 0; a < count; a++) {
        printf("%-10s per-cmd %u of %u commands unanswered within 5 s, %u stale replies\n",
               names[a], n - answered[a], n, stale[a]);
        if (answered[a] > 0) {
            report_ms(names[a], "per-cmd", samples + (gsize)a * n, answered[a]);
        }
    }
    return 0;
}

/*
 * Writes the whole burst while reading replies as they come: an agent that
 * blocks on a full reply pipe stops reading, and a client that only writes
 * would deadlock against it.
 */
static void bench_pipelined(const char *path, guint n)
{
    g_autoptr(GString) burst = g_string_new(NULL);
    char buf[65536];
    gsize sent = 0;
    guint missing = n;
    gint64 start;
    gint64 took;
    int fd = bench_connect(path);

    for (guint i = 0; i < n; i++) {
        g_string_append_printf(burst, "{\"execute\":\"guest-sync\",\"arguments\":{\"id\":%u}}", i);
    }
    start = g_get_monotonic_time();
    while (missing > 0) {
        struct pollfd pfd = { .fd = fd, .events = POLLIN | (sent < burst->len ? POLLOUT : 0) };

        if (poll(&pfd, 1, 10000) <= 0) {
            fprintf(stderr, "pipelined: no progress for 10 s, %u replies missing\n", missing);
            exit(1);
        }
        if (pfd.revents & POLLOUT) {
            ssize_t w = send(fd, burst->str + sent, burst->len - sent, MSG_DONTWAIT);
            if (w < 0 && errno != EAGAIN) {
                perror("send");
                exit(1);
            }
            sent += w > 0 ? (gsize)w : 0;
        }
        if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t r = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
            if (r == 0 || (r < 0 && errno != EAGAIN)) {
                fprintf(stderr, "pipelined: connection closed with %u replies missing\n", missing);
                exit(1);
            }
            for (ssize_t i = 0; i < r; i++) {
                missing -= buf[i] == '\n';
            }
        }
    }
    took = g_get_monotonic_time() - start;
    close(fd);
    printf("%-12s n=%-6u total=%5" G_GINT64_FORMAT " ms  %8.0f req/s\n", "pipelined", n,
           took / 1000, n / (took / 1e6));
}

int main(int argc, char **argv)
{
    guint n = argc > 2 ? (guint)atoi(argv[2]) : 1000;

    if (argc >= 3 && strcmp(argv[1], "--freeze") == 0) {
        return bench_freeze(argc, argv);
    }
    if (argc >= 3 && strcmp(argv[1], "--per-command") == 0) {
        return bench_per_command_agents(argc, argv);
    }
    if (argc < 2 || n == 0) {
        fprintf(stderr, "usage: qga-bench SOCKET [N]\n");
        return 2;
    }
    bench_sequential(argv[1], n);
    bench_per_command(argv[1], n / 4 ? n / 4 : 1);
    bench_pipelined(argv[1], n * 10);
    return 0;
}
