/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-exec-file-leaks.c — the real quiesced on a unix socket, put through
 * 10,000 guest-file-open/close cycles and 10,000 guest-exec/exec-status
 * cycles: its fd count (/proc/PID/fd) must be what it was before, its RSS
 * must stay flat, and no child may be left a zombie. Prints the numbers.
 */
#include <gio/gio.h>
#include <gio/gunixsocketaddress.h>
#include <stdio.h>
#include <stdlib.h>

#include "tests/support/agent-process.h"

#define CYCLES 10000
#define BATCH 100
#define RSS_GROWTH_MAX_KIB (8 * 1024)

static const char *quiesced_binary;

static guint count_fds(GPid pid)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/fd", (int)pid);
    g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
    guint n = 0;

    g_assert_nonnull(dir);
    while (g_dir_read_name(dir)) {
        n++;
    }
    return n;
}

static guint64 rss_kib(GPid pid)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/status", (int)pid);
    g_autofree char *text = NULL;
    const char *line;

    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    line = strstr(text, "VmRSS:");
    g_assert_nonnull(line);
    return g_ascii_strtoull(line + 6, NULL, 10);
}

/* Children of pid that are zombies (state Z in /proc/N/stat). */
static guint count_zombies(GPid pid)
{
    g_autoptr(GDir) proc = g_dir_open("/proc", 0, NULL);
    const char *name;
    guint n = 0;

    while ((name = g_dir_read_name(proc))) {
        g_autofree char *path = g_strdup_printf("/proc/%s/stat", name);
        g_autofree char *text = NULL;
        char state;
        int ppid;
        const char *close;

        if (!g_ascii_isdigit(name[0]) || !g_file_get_contents(path, &text, NULL, NULL)) {
            continue;
        }
        close = strrchr(text, ')');
        if (close && sscanf(close + 1, " %c %d", &state, &ppid) == 2 && ppid == (int)pid &&
            state == 'Z') {
            n++;
        }
    }
    return n;
}

/* One connection for the whole test (agent_process_exchange() lingers
 * after each reply, which 20,000 round trips cannot afford). */
typedef struct {
    GSocketConnection *connection;
    GDataInputStream *in;
} Conversation;

static Conversation *conversation_open(AgentProcess *agent)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GSocketClient) client = g_socket_client_new();
    g_autoptr(GSocketAddress) address = g_unix_socket_address_new(agent_process_socket(agent));
    Conversation *c = g_new0(Conversation, 1);

    c->connection =
        g_socket_client_connect(client, G_SOCKET_CONNECTABLE(address), NULL, &error);
    g_assert_no_error(error);
    c->in = g_data_input_stream_new(g_io_stream_get_input_stream(G_IO_STREAM(c->connection)));
    return c;
}

static void conversation_close(Conversation *c)
{
    g_object_unref(c->in);
    g_object_unref(c->connection);
    g_free(c);
}

/* Sends request and returns the next `lines` replies, '\n'-joined. */
static char *ask(Conversation *c, const char *request, guint lines)
{
    g_autoptr(GError) error = NULL;
    GOutputStream *out = g_io_stream_get_output_stream(G_IO_STREAM(c->connection));
    GString *replies = g_string_new(NULL);

    g_output_stream_write_all(out, request, strlen(request), NULL, NULL, &error);
    g_assert_no_error(error);
    for (guint i = 0; i < lines; i++) {
        g_autofree char *line = g_data_input_stream_read_line(c->in, NULL, NULL, &error);
        g_assert_no_error(error);
        g_assert_nonnull(line);
        g_string_append(replies, line);
        g_string_append_c(replies, '\n');
    }
    return g_string_free(replies, FALSE);
}

/* Handles are numbered from 1000 in a fresh state dir, so a batch of
 * open/close pairs can go in one write. */
static void file_cycles(Conversation *c, const char *path, guint first, guint n)
{

    for (guint done = 0; done < n; done += BATCH) {
        g_autoptr(GString) batch = g_string_new(NULL);
        g_autofree char *replies = NULL;

        for (guint i = 0; i < BATCH; i++) {
            g_string_append_printf(batch,
                                   "{\"execute\":\"guest-file-open\",\"arguments\":{\"path\":\"%s\","
                                   "\"mode\":\"a+\"}}{\"execute\":\"guest-file-close\","
                                   "\"arguments\":{\"handle\":%u}}",
                                   path, 1000 + first + done + i);
        }
        replies = ask(c, batch->str, 2 * BATCH);
        g_assert_null(strstr(replies, "error"));
    }
}

/* EXEC_BATCH children at a time: their guest-exec requests in one write,
 * then their statuses polled in one write until all have exited. */
#define EXEC_BATCH 10

static void exec_cycles(Conversation *c, guint n)
{
    static const char exec_request[] =
        "{\"execute\":\"guest-exec\",\"arguments\":{\"path\":\"/bin/true\","
        "\"capture-output\":true,\"input-data\":\"eA==\"}}";

    for (guint done = 0; done < n; done += EXEC_BATCH) {
        g_autoptr(GString) batch = g_string_new(NULL);
        g_autofree char *started = NULL;
        long pids[EXEC_BATCH];
        guint pending = EXEC_BATCH;
        const char *at;

        for (guint i = 0; i < EXEC_BATCH; i++) {
            g_string_append(batch, exec_request);
        }
        started = ask(c, batch->str, EXEC_BATCH);
        at = started;
        for (guint i = 0; i < EXEC_BATCH; i++) {
            at = strstr(at, "\"pid\": ");
            g_assert_nonnull(at);
            at += 7;
            pids[i] = atol(at);
        }
        while (pending > 0) {
            g_autoptr(GString) polls = g_string_new(NULL);
            g_autofree char *statuses = NULL;
            g_auto(GStrv) lines = NULL;
            guint k = 0;

            for (guint i = 0; i < EXEC_BATCH; i++) {
                if (pids[i] > 0) {
                    g_string_append_printf(
                        polls, "{\"execute\":\"guest-exec-status\",\"arguments\":{\"pid\":%ld}}",
                        pids[i]);
                }
            }
            statuses = ask(c, polls->str, pending);
            lines = g_strsplit(statuses, "\n", 0);
            for (guint i = 0; i < EXEC_BATCH; i++) {
                if (pids[i] <= 0) {
                    continue;
                }
                g_assert_nonnull(lines[k]);
                if (strstr(lines[k], "\"exited\": true")) {
                    g_assert_nonnull(strstr(lines[k], "\"exitcode\": 0"));
                    pids[i] = 0;
                    pending--;
                } else {
                    g_assert_nonnull(strstr(lines[k], "\"exited\": false"));
                }
                k++;
            }
            if (pending > 0) {
                g_usleep(1000);
            }
        }
    }
}

static void test_no_leaks(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(AgentProcess) agent = agent_process_start("quiesced", quiesced_binary, NULL, &error);
    GPid pid;
    guint fds_before, fds_after;
    guint64 rss_before, rss_after;

    g_autofree char *path = NULL;
    Conversation *c;

    g_assert_no_error(error);
    pid = agent_process_pid(agent);
    path = g_build_filename(agent_process_dir(agent), "leak-test", NULL);
    c = conversation_open(agent);
    /* Warm up: the allocator's and GLib's first allocations are not leaks. */
    file_cycles(c, path, 0, BATCH);
    exec_cycles(c, 100);
    fds_before = count_fds(pid);
    rss_before = rss_kib(pid);

    file_cycles(c, path, BATCH, CYCLES);
    exec_cycles(c, CYCLES);

    fds_after = count_fds(pid);
    rss_after = rss_kib(pid);
    g_print("# %u open/close and %u exec/status cycles: fds %u -> %u, RSS %" G_GUINT64_FORMAT
            " -> %" G_GUINT64_FORMAT " KiB, zombies %u\n",
            CYCLES, CYCLES, fds_before, fds_after, rss_before, rss_after, count_zombies(pid));
    g_assert_cmpuint(fds_after, ==, fds_before);
#ifndef __SANITIZE_ADDRESS__
    /* Under ASan freed memory stays resident in its quarantine by design;
     * LeakSanitizer checks the agent for leaks when it exits instead. */
    g_assert_cmpuint(rss_after, <=, rss_before + RSS_GROWTH_MAX_KIB);
#endif
    g_assert_cmpuint(count_zombies(pid), ==, 0);
    conversation_close(c);
    g_assert_true(agent_process_stop(agent, &error));
    g_assert_no_error(error);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    quiesced_binary = g_getenv("QUIESCED");
    g_assert_nonnull(quiesced_binary);
    g_test_add_func("/exec-file/no-leaks", test_no_leaks);
    return g_test_run();
}
