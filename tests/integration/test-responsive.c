/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-responsive.c — issue 18 point 2 on the host: while a prepared
 * session holds the loop images frozen, with a script writer's background
 * child writing into its output pipe (drained by the agent's main loop) and
 * an application blocked writing into a frozen filesystem, a second client
 * gets guest-ping, guest-sync-delimited, guest-fsfreeze-status and
 * guest-snapshot-status answered within 1 s, every one, for 4 s. The
 * negative control runs the same check while the agent is SIGSTOPped for
 * 1.5 s (its main loop cannot run): the check must fail.
 *
 * During the prepare itself: a script writer that takes 20 s in its freeze
 * phase, and the same four commands from another client, answered within
 * 1 s for 12 s while it runs (p50 and max printed), with the state they
 * report (frozen, the prepare in flight); a second prepare from a third
 * client waits for the first and is then refused (the agent is frozen);
 * a writer that writes without a pause in its freeze phase holds up no
 * answer either; a ping sent behind the prepare on the host's own connection, with no
 * "id", is answered after the prepare (docs/protocol.md, "While a freeze
 * operation runs"). Run against an agent whose main loop blocks for a
 * request (QUIESCED=<older quiesced>), the probe check fails.
 *
 * Root only, on the engine fixture's loop images (engine-fixture.h); the
 * agent is confined to them.
 */
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/integration/engine-fixture.h"

#define PROBE_SECONDS 4
#define LIMIT_MS 1000
#define SLOW_WRITER_SECONDS 20
#define PROBE_BUSY_SECONDS 12

static int compare_gint64(gconstpointer a, gconstpointer b)
{
    gint64 x = *(const gint64 *)a;
    gint64 y = *(const gint64 *)b;

    return x < y ? -1 : x > y;
}

/* Every command of the probe in turn on one connection for seconds;
 * returns the slowest answer in ms (G_MAXINT64 when one never came) and
 * prints p50 and max of each. */
static gint64 probe(const char *socket_path, guint seconds)
{
    static const char *const names[] = {"guest-ping", "guest-sync-delimited",
                                        "guest-fsfreeze-status", "guest-snapshot-status"};
    GArray *times[G_N_ELEMENTS(names)];
    int fd = agent_process_connect(socket_path);
    gint64 end = g_get_monotonic_time() + seconds * G_USEC_PER_SEC;
    gint64 worst = 0;
    guint round = 0;

    for (gsize i = 0; i < G_N_ELEMENTS(names); i++) {
        times[i] = g_array_new(FALSE, FALSE, sizeof(gint64));
    }
    while (g_get_monotonic_time() < end) {
        g_usleep(10000); /* a host polling, not a flood */
        for (gsize i = 0; i < G_N_ELEMENTS(names); i++) {
            g_autofree char *request =
                i == 1 ? g_strdup_printf("\xff{\"execute\":\"guest-sync-delimited\","
                                         "\"arguments\":{\"id\":%u}}\n",
                                         ++round)
                       : g_strdup_printf("{\"execute\":\"%s\"}\n", names[i]);
            gint64 t0 = g_get_monotonic_time();
            g_autofree char *reply = NULL;
            gint64 ms;

            agent_process_send(fd, request);
            reply = agent_process_read_line(fd, 10000);
            if (i == 1 && reply && strstr(reply, "stray") && !strstr(reply, "\"return\"")) {
                /* qemu-ga's answer to the 0xFF (a parse error) comes first;
                 * the host skips to the 0xFF before the sync's reply */
                g_free(reply);
                reply = agent_process_read_line(fd, 10000);
            }
            if (!reply || !strstr(reply, "\"return\"")) {
                g_test_message("%s: %s", names[i], reply ? reply : "no answer in 10 s");
                worst = G_MAXINT64;
                end = 0;
                break;
            }
            ms = (g_get_monotonic_time() - t0) / 1000;
            g_array_append_val(times[i], ms);
            worst = MAX(worst, ms);
        }
    }
    close(fd);
    for (gsize i = 0; i < G_N_ELEMENTS(names); i++) {
        g_array_sort(times[i], compare_gint64);
        g_test_message("%s: n=%u p50=%" G_GINT64_FORMAT " ms max=%" G_GINT64_FORMAT " ms", names[i],
                       times[i]->len,
                       times[i]->len ? g_array_index(times[i], gint64, times[i]->len / 2) : -1,
                       times[i]->len ? g_array_index(times[i], gint64, times[i]->len - 1) : -1);
        g_array_unref(times[i]);
    }
    return worst;
}

/* SIGSTOP pid after delay_ms, SIGCONT stop_ms later, from a child process
 * (the test's thread is busy probing). */
static GPid stop_later(GPid pid, guint delay_ms, guint stop_ms)
{
    GPid child = fork();

    g_assert_cmpint(child, >=, 0);
    if (child == 0) {
        g_usleep(delay_ms * 1000);
        kill(pid, SIGSTOP);
        g_usleep(stop_ms * 1000);
        kill(pid, SIGCONT);
        _exit(0);
    }
    return child;
}

/* Prepares on a connection kept open (the session's host), checks the
 * probe, posts. control: the agent is stopped 1.5 s inside the probe. */
static void run(Fixture *f, gboolean control)
{
    /* freeze: a background child that writes a line every 50 ms for 6 s
     * into the script's output, which the agent drains from its loop */
    g_autofree char *config = writers_config(
        f,
        "[ \"$1\" = freeze ] || exit 0\n"
        "( i=0; while [ $i -lt 120 ]; do echo \"noisy $i\"; i=$((i + 1)); sleep 0.05; done ) &\n"
        "exit 0",
        5);
    g_autofree char *prepare = NULL;
    g_autofree char *post_request = NULL;
    g_autofree char *post_line = NULL;
    g_autofree char *post = NULL;
    GPid blocked;
    GPid stopper = 0;
    gint64 worst;
    int host;
    int status;

    f->agent = start_agent(f, NULL, config, NULL);
    host = agent_process_connect(agent_process_socket(f->agent));
    agent_process_send(host, "{\"execute\":\"guest-snapshot-prepare\"}\n");
    prepare = agent_process_read_line(host, 30000);
    g_assert_nonnull(prepare);
    g_assert_nonnull(strstr(prepare, "\"method\": \"child-snapshot\""));
    blocked = loopfs_start_write(f->ext4);
    g_assert_false(loopfs_wait_write(blocked, 300)); /* frozen: it blocks */

    if (control) {
        stopper = stop_later(agent_process_pid(f->agent), 1000, 1500);
    }
    worst = probe(agent_process_socket(f->agent), PROBE_SECONDS);
    if (stopper) {
        g_assert_cmpint(waitpid(stopper, &status, 0), ==, stopper);
    }
    g_test_message("%s: slowest answer %" G_GINT64_FORMAT " ms (limit %d ms)",
                   control ? "agent SIGSTOPped 1.5 s" : "frozen, writer running", worst, LIMIT_MS);
    if (control) {
        g_assert_cmpint(worst, >, LIMIT_MS); /* the check catches a stopped loop */
    } else {
        g_assert_cmpint(worst, <=, LIMIT_MS);
    }

    post_request = post_request_for(prepare);
    post_line = g_strdup_printf("%s\n", post_request);
    agent_process_send(host, post_line);
    post = agent_process_read_line(host, 30000);
    g_assert_nonnull(post);
    g_assert_nonnull(strstr(post, "\"thawed\": 3"));
    close(host);
    g_assert_true(loopfs_wait_write(blocked, 5000));
    assert_all_writable(f);
}

static void test_frozen(Fixture *f, gconstpointer data)
{
    run(f, FALSE);
}

static void test_control_stopped(Fixture *f, gconstpointer data)
{
    run(f, TRUE);
}

/* Waits up to 10 s for path to exist. */
static gboolean wait_for_file(const char *path)
{
    for (int i = 0; i < 1000; i++) {
        if (g_file_test(path, G_FILE_TEST_EXISTS)) {
            return TRUE;
        }
        g_usleep(10000);
    }
    return FALSE;
}

/* A writer that runs in_freeze in its freeze phase and in_thaw in its
 * thaw phase, touching DIR/in-PHASE as it starts; the agent's config. */
static char *phase_writer_config(Fixture *f, const char *in_freeze, const char *in_thaw,
                                 guint timeout_s)
{
    g_autofree char *body = g_strdup_printf("touch '%s/in-'\"$1\"\n"
                                            "case \"$1\" in freeze) %s ;; thaw) %s ;; esac\n"
                                            "exit 0",
                                            f->dir, in_freeze, in_thaw);

    return writers_config(f, body, timeout_s);
}

/* A writer that sleeps freeze_s in its freeze phase and thaw_s in its
 * thaw phase. */
static char *slow_writer_config(Fixture *f, guint freeze_s, guint thaw_s)
{
    g_autofree char *in_freeze = g_strdup_printf("sleep %u", freeze_s);
    g_autofree char *in_thaw = g_strdup_printf("sleep %u", thaw_s);

    return phase_writer_config(f, in_freeze, in_thaw, MAX(freeze_s, thaw_s) + 10);
}

/* Starts the agent with config and sends guest-fsfreeze-freeze on a
 * connection of its own, returned once the writer is in its freeze phase. */
static int freeze_into_writer(Fixture *f, const char *config)
{
    g_autofree char *marker = g_build_filename(f->dir, "in-freeze", NULL);
    int host;

    f->agent = start_agent(f, NULL, config, NULL);
    host = agent_process_connect(agent_process_socket(f->agent));
    agent_process_send(host, "{\"execute\":\"guest-fsfreeze-freeze\"}\n");
    g_assert_true(wait_for_file(marker));
    return host;
}

/* probe() for seconds from another client; its slowest answer (printed,
 * with what) is within LIMIT_MS. */
static void probe_within_limit(Fixture *f, guint seconds, const char *what)
{
    gint64 worst = probe(agent_process_socket(f->agent), seconds);

    g_test_message("%s: slowest answer %" G_GINT64_FORMAT " ms (limit %d ms)", what, worst,
                   LIMIT_MS);
    g_assert_cmpint(worst, <=, LIMIT_MS);
}

/* guest-fsfreeze-freeze whose writer takes 5 s in freeze: the four
 * commands from another client answer meanwhile; a guest-fsfreeze-thaw
 * from a third waits for the freeze, then thaws what it froze. */
static void test_during_freeze(Fixture *f, gconstpointer data)
{
    g_autofree char *config = slow_writer_config(f, 5, 0);
    g_autofree char *freeze = NULL;
    g_autofree char *thaw = NULL;
    int host = freeze_into_writer(f, config);
    int other;

    other = agent_process_connect(agent_process_socket(f->agent));
    agent_process_send(other, "{\"execute\":\"guest-fsfreeze-thaw\"}\n");
    probe_within_limit(f, 3, "guest-fsfreeze-freeze with a writer 5 s in freeze");
    freeze = agent_process_read_line(host, 10000);
    g_test_message("freeze: %s", freeze ? freeze : "no answer");
    g_assert_cmpstr(freeze, ==, "{\"return\": 3}\n");
    thaw = agent_process_read_line(other, 10000);
    g_test_message("the thaw sent while it froze: %s", thaw ? thaw : "no answer");
    g_assert_cmpstr(thaw, ==, "{\"return\": 3}\n");
    close(other);
    close(host);
    assert_all_writable(f);
}

/* guest-fsfreeze-freeze whose writer writes without a pause for 4 s in its
 * freeze phase (its output pipe is always ready to read): the four
 * commands from another client still answer meanwhile. */
static void test_during_noisy_freeze(Fixture *f, gconstpointer data)
{
    g_autofree char *config = phase_writer_config(f, "timeout 4 yes noise", ":", 15);
    g_autofree char *freeze = NULL;
    int host = freeze_into_writer(f, config);

    probe_within_limit(f, 2, "guest-fsfreeze-freeze with a writer writing without pause");
    freeze = agent_process_read_line(host, 15000);
    g_assert_cmpstr(freeze, ==, "{\"return\": 3}\n");
    agent_process_send(host, "{\"execute\":\"guest-fsfreeze-thaw\"}\n");
    g_free(freeze);
    freeze = agent_process_read_line(host, 15000);
    g_assert_cmpstr(freeze, ==, "{\"return\": 3}\n");
    close(host);
    assert_all_writable(f);
}

static void test_during_prepare(Fixture *f, gconstpointer data)
{
    g_autofree char *marker = g_build_filename(f->dir, "in-freeze", NULL);
    g_autofree char *thawing = g_build_filename(f->dir, "in-thaw", NULL);
    g_autofree char *config = slow_writer_config(f, SLOW_WRITER_SECONDS, 5);
    g_autofree char *status = NULL;
    g_autofree char *fsstatus = NULL;
    g_autofree char *early = NULL;
    g_autofree char *replies = NULL;
    g_auto(GStrv) lines = NULL;
    g_autofree char *prepare = NULL;
    g_autofree char *ping = NULL;
    g_autofree char *second = NULL;
    g_autofree char *post_request = NULL;
    g_autofree char *post_line = NULL;
    g_autofree char *post = NULL;
    gint64 sent;
    g_autofree char *what = NULL;
    int host;
    int other;

    f->agent = start_agent(f, NULL, config, NULL);
    host = agent_process_connect(agent_process_socket(f->agent));
    sent = g_get_monotonic_time();
    /* No "id": the host matches the replies by their order. */
    agent_process_send(host, "{\"execute\":\"guest-snapshot-prepare\"}\n"
                             "{\"execute\":\"guest-ping\"}\n");
    g_assert_true(wait_for_file(marker));

    /* What the agent says while the writer is in its freeze phase. */
    fsstatus = agent_process_ask(agent_process_socket(f->agent),
                                 "{\"execute\":\"guest-fsfreeze-status\"}", 2000);
    g_test_message("during the prepare: %s", fsstatus ? fsstatus : "no answer");
    g_assert_nonnull(fsstatus);
    g_assert_nonnull(strstr(fsstatus ? fsstatus : "", "\"frozen\""));
    status = agent_process_ask(agent_process_socket(f->agent),
                               "{\"execute\":\"guest-snapshot-status\"}", 2000);
    g_test_message("during the prepare: %s", status ? status : "no answer");
    g_assert_nonnull(status);
    g_assert_nonnull(strstr(status ? status : "", "\"operation\": \"prepare\""));

    /* A second prepare waits for the first. */
    other = agent_process_connect(agent_process_socket(f->agent));
    agent_process_send(other, "{\"execute\":\"guest-snapshot-prepare\"}\n");

    what = g_strdup_printf("prepare with a writer %d s in freeze", SLOW_WRITER_SECONDS);
    probe_within_limit(f, PROBE_BUSY_SECONDS, what);
    early = agent_process_read_line(other, 100);
    g_assert_null(early); /* still waiting: the writer has not finished */

    replies = agent_process_read_line(host, 30000);
    g_test_message("prepare answered after %" G_GINT64_FORMAT " ms",
                   (g_get_monotonic_time() - sent) / 1000);
    if (replies && !strchr(strchr(replies, '\n') + 1, '\n')) {
        g_autofree char *more = agent_process_read_line(host, 5000);
        char *both = g_strconcat(replies, more ? more : "", NULL);
        g_free(replies);
        replies = both;
    }
    lines = g_strsplit(replies ? replies : "", "\n", 3);
    prepare = g_strdup(lines[0]);
    ping = g_strdup(lines[0] ? lines[1] : NULL);
    g_test_message("host's replies in order: %s | %s", prepare, ping ? ping : "none");
    g_assert_nonnull(strstr(prepare, "\"method\": \"child-snapshot\""));
    g_assert_cmpstr(ping, ==, "{\"return\": {}}");
    second = agent_process_read_line(other, 10000);
    g_test_message("the second prepare: %s", second ? second : "no answer");
    g_assert_nonnull(second);
    /* Then refused, as every command that is not allowed while frozen. */
    g_assert_nonnull(strstr(second ? second : "", "the agent is in frozen state"));
    close(other);

    /* The post, whose writer takes 5 s in thaw. */
    post_request = post_request_for(prepare);
    post_line = g_strdup_printf("%s\n", post_request);
    agent_process_send(host, post_line);
    g_assert_true(wait_for_file(thawing));
    probe_within_limit(f, 3, "post with a writer 5 s in thaw");
    post = agent_process_read_line(host, 30000);
    g_assert_nonnull(post);
    g_assert_nonnull(strstr(post ? post : "", "\"thawed\": 3"));
    close(host);
    assert_all_writable(f);
}

int main(int argc, char **argv)
{
    int skip = engine_fixture_init(&argc, &argv);

    if (skip) {
        return skip;
    }
    ENGINE_FIXTURE_ADD("/responsive/frozen-with-writers", test_frozen);
    ENGINE_FIXTURE_ADD("/responsive/control-agent-stopped", test_control_stopped);
    ENGINE_FIXTURE_ADD("/responsive/during-prepare", test_during_prepare);
    ENGINE_FIXTURE_ADD("/responsive/during-freeze", test_during_freeze);
    ENGINE_FIXTURE_ADD("/responsive/during-noisy-freeze", test_during_noisy_freeze);
    return g_test_run();
}
