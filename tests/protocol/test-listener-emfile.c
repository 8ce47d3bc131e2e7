/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-listener-emfile.c — the real quiesced out of file descriptors.
 *
 * accept() failing with EMFILE leaves the host's connection queued and the
 * listening socket readable; a listener that keeps watching it spins the
 * main loop at full CPU for as long as the shortage lasts. The test lowers
 * the running agent's RLIMIT_NOFILE (prlimit(2)) to its lowest free fd
 * number, so its next accept() must fail with EMFILE, connects, and checks
 * that the agent burns next to no CPU over a second, answers nothing yet,
 * and answers the waiting request once the limit is back.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* prlimit */
#endif
#include <errno.h>
#include <gio/gio.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "tests/support/agent-process.h"

static const char *quiesced_binary;

/* The lowest fd number the agent does not hold: its next accept() gets it. */
static int lowest_free_fd(GPid pid)
{
    g_autofree char *dir_path = g_strdup_printf("/proc/%d/fd", (int)pid);
    g_autoptr(GDir) dir = g_dir_open(dir_path, 0, NULL);
    g_autoptr(GHashTable) open_fds = g_hash_table_new(g_direct_hash, g_direct_equal);
    const char *name;
    int fd = 0;

    g_assert_nonnull(dir);
    while ((name = g_dir_read_name(dir))) {
        g_hash_table_add(open_fds, GINT_TO_POINTER(atoi(name) + 1));
    }
    while (g_hash_table_contains(open_fds, GINT_TO_POINTER(fd + 1))) {
        fd++;
    }
    return fd;
}

/* The same once the agent is idle: agent_process_start()'s probe connection
 * may still hold an fd for a moment. */
static int settled_lowest_free_fd(GPid pid)
{
    int last = lowest_free_fd(pid);

    for (int i = 0; i < 50; i++) {
        int now;
        g_usleep(100 * 1000);
        now = lowest_free_fd(pid);
        if (now == last) {
            return now;
        }
        last = now;
    }
    g_assert_not_reached();
}

/* User plus system CPU time of the whole process, in clock ticks. */
static guint64 cpu_ticks(GPid pid)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/stat", (int)pid);
    g_autofree char *text = NULL;
    g_auto(GStrv) fields = NULL;
    const char *after_comm;

    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    after_comm = strrchr(text, ')'); /* comm may hold spaces */
    g_assert_nonnull(after_comm);
    fields = g_strsplit(after_comm + 2, " ", 0);
    /* After comm: state is field 3 of proc(5), utime 14, stime 15. */
    g_assert_cmpuint(g_strv_length(fields), >, 12);
    return g_ascii_strtoull(fields[11], NULL, 10) + g_ascii_strtoull(fields[12], NULL, 10);
}

static int connect_agent(const AgentProcess *agent)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    g_assert_cmpint(fd, >=, 0);
    g_strlcpy(addr.sun_path, agent_process_socket(agent), sizeof(addr.sun_path));
    g_assert_cmpint(connect(fd, (struct sockaddr *)&addr, sizeof(addr)), ==, 0);
    return fd;
}

/* What arrives on fd within timeout_ms, up to the first newline. */
static char *read_line(int fd, int timeout_ms)
{
    g_autoptr(GString) got = g_string_new(NULL);
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;

    while (!strchr(got->str, '\n')) {
        int left_ms = (int)MAX(0, (deadline - g_get_monotonic_time()) / 1000);
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        char buf[256];
        ssize_t n;

        if (poll(&pfd, 1, left_ms) <= 0) {
            break;
        }
        n = read(fd, buf, sizeof(buf));
        if (n <= 0) {
            break;
        }
        g_string_append_len(got, buf, n);
    }
    return g_string_free(g_steal_pointer(&got), FALSE);
}

static void test_emfile_does_not_spin(void)
{
    static const char request[] = "{\"execute\":\"guest-sync\",\"arguments\":{\"id\":7}}";
    g_autoptr(GError) error = NULL;
    g_autoptr(AgentProcess) agent = agent_process_start("quiesced", quiesced_binary, NULL, &error);
    g_autofree char *early = NULL;
    g_autofree char *reply = NULL;
    struct rlimit saved;
    struct rlimit tight;
    guint64 before;
    guint64 spent;
    GPid pid;
    int fd;

    g_assert_no_error(error);
    pid = agent_process_pid(agent);
    g_assert_cmpint(prlimit(pid, RLIMIT_NOFILE, NULL, &saved), ==, 0);
    tight = (struct rlimit){.rlim_cur = (rlim_t)settled_lowest_free_fd(pid),
                            .rlim_max = saved.rlim_max};
    g_assert_cmpint(prlimit(pid, RLIMIT_NOFILE, &tight, NULL), ==, 0);

    fd = connect_agent(agent);
    g_assert_cmpint(write(fd, request, strlen(request)), ==, (ssize_t)strlen(request));
    g_usleep(100 * 1000); /* the first accept() has failed by now */
    before = cpu_ticks(pid);
    early = read_line(fd, 1000);
    spent = cpu_ticks(pid) - before;
    g_assert_cmpstr(early, ==, "");
    /* A spinning loop burns the whole second; a paused one almost nothing. */
    g_assert_cmpuint(spent, <, (guint64)sysconf(_SC_CLK_TCK) / 5);

    g_assert_cmpint(prlimit(pid, RLIMIT_NOFILE, &saved, NULL), ==, 0);
    reply = read_line(fd, 3000);
    g_assert_cmpstr(reply, ==, "{\"return\": 7}\n");
    close(fd);
    g_assert_true(agent_process_stop(agent, &error));
    g_assert_no_error(error);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    quiesced_binary = g_getenv("QUIESCED");
    g_assert_nonnull(quiesced_binary);
    g_test_add_func("/listener/emfile-does-not-spin", test_emfile_does_not_spin);
    return g_test_run();
}
