/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * writer-agent.c — see writer-agent.h.
 */
#include "tests/integration/writer-agent.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <sys/stat.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/support/test-run.h"
#include "tests/support/test-tmpdir.h"

const char *const writer_agent_path_names[WRITER_AGENT_N_PATHS] = {
    "window-expired", "host-gone", "agent-killed", "writer-timeout",
};

char *writer_agent_missing(void)
{
    const char *fstypes[] = { "ext4", NULL };

    if (!g_getenv("QUIESCED")) {
        return g_strdup("the agent (QUIESCED not set: run through ctest)");
    }
    return loopfs_missing_requirement(fstypes);
}

#define WRITER_AGENT_TMP "/var/tmp"
#define WRITER_AGENT_PREFIX "quiesce-writer-agent-"

/* A failed assertion aborts the database tests, skipping every cleanup:
 * what a run whose process is gone left (its dir is named after its pid)
 * is thawed, unmounted, detached and removed by the next one. */
static void writer_agent_remove_stale(void)
{
    g_autoptr(GDir) dir = g_dir_open(WRITER_AGENT_TMP, 0, NULL);
    const char *name;

    while (dir && (name = g_dir_read_name(dir))) {
        int pid = 0;
        if (sscanf(name, WRITER_AGENT_PREFIX "%d-", &pid) != 1 || pid <= 0 ||
            kill(pid, 0) == 0 || errno != ESRCH) {
            continue;
        }
        g_autofree char *path = g_build_filename(WRITER_AGENT_TMP, name, NULL);
        g_autofree char *mountpoint = g_build_filename(path, "fs", NULL);
        g_autofree char *image = g_build_filename(path, "fs.img", NULL);
        g_autofree char *loops = NULL;
        const char *losetup[] = { "losetup", "-j", image, NULL };
        struct stat fs_st, dir_st;
        /* Only a filesystem mounted there is ours to thaw: on a plain
         * directory fsfreeze would reach the machine's own filesystem. */
        if (stat(mountpoint, &fs_st) == 0 && stat(path, &dir_st) == 0 &&
            fs_st.st_dev != dir_st.st_dev) {
            loopfs_run((const char *[]){ "fsfreeze", "-u", mountpoint, NULL }, NULL);
            loopfs_run((const char *[]){ "umount", mountpoint, NULL }, NULL);
        }
        if (g_spawn_sync(NULL, (char **)losetup, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL,
                         NULL, NULL, &loops, NULL, NULL, NULL) && loops) {
            g_auto(GStrv) lines = g_strsplit(loops, "\n", -1);
            for (char **line = lines; *line; line++) {
                char *colon = strchr(*line, ':');
                if (colon) {
                    *colon = '\0';
                    loopfs_run((const char *[]){ "losetup", "-d", *line, NULL }, NULL);
                }
            }
        }
        g_test_message("removed %s, left by process %d", path, pid);
        quiesce_test_remove_tree(path);
    }
}

WriterAgent *writer_agent_new(void)
{
    g_autoptr(GError) error = NULL;
    WriterAgent *agent = g_new0(WriterAgent, 1);

    writer_agent_remove_stale();
    /* /tmp may be tmpfs: loop images go under /var/tmp (engine-fixture.c). */
    agent->dir = g_strdup_printf(WRITER_AGENT_TMP "/" WRITER_AGENT_PREFIX "%d-XXXXXX", (int)getpid());
    g_assert_nonnull(g_mkdtemp(agent->dir));
    agent->guard = loopfs_guard_new();
    agent->fs = loopfs_create(agent->dir, agent->dir, "fs", "ext4", 64, &error);
    g_assert_no_error(error);
    loopfs_guard_add(agent->guard, agent->fs);
    agent->writer_socket = g_build_filename(agent->dir, "writers.sock", NULL);
    agent->log_path = g_build_filename(agent->dir, "quiesced.log", NULL);
    return agent;
}

void writer_agent_start(WriterAgent *agent, guint window_s, guint grace_s,
                        guint writer_timeout_s)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *scripts = g_build_filename(agent->dir, "writers.d", NULL);
    g_autofree char *config = NULL;

    g_assert_null(agent->agent);
    g_assert_cmpint(g_mkdir(scripts, 0755), ==, 0);
    config = g_strdup_printf("[freeze]\nrunning-state-command=\nwindow=%u\nhost-lost-grace=%u\n"
                             "[writers]\ndirectories=%s\ncompat-directories=\nsocket=%s\n"
                             "timeout=%u\n",
                             window_s, grace_s, scripts, agent->writer_socket, writer_timeout_s);
    AgentProcessOptions options = {
        .confine = agent->dir, .config = config, .stderr_path = agent->log_path,
    };
    agent->agent = agent_process_start_full("quiesced", g_getenv("QUIESCED"), &options, &error);
    g_assert_no_error(error);
}

/* guest-snapshot-post for the session a prepare reply names. */
static char *writer_agent_post_request(const char *prepare_reply)
{
    const char *key = "\"session\": \"";
    const char *start = strstr(prepare_reply, key);

    g_assert_nonnull(start);
    start += strlen(key);
    const char *end = strchr(start, '"');
    g_assert_nonnull(end);
    g_autofree char *session = g_strndup(start, (gsize)(end - start));
    return g_strdup_printf(
        "{\"execute\":\"guest-snapshot-post\",\"arguments\":{\"session\":\"%s\"}}", session);
}

WriterAgent *writer_agent_new_for(WriterAgentPath path)
{
    g_autofree char *missing = writer_agent_missing();

    if (missing) {
        quiesce_test_skip_missing(missing);
        return NULL;
    }
    WriterAgent *agent = writer_agent_new();

    writer_agent_start(agent, path == WRITER_AGENT_WINDOW_EXPIRED ? WRITER_AGENT_END_S : 30,
                       path == WRITER_AGENT_HOST_GONE ? WRITER_AGENT_END_S : 0, 2);
    return agent;
}

char *writer_agent_prepare(WriterAgent *agent, WriterAgentPath path, const char *writer_name)
{
    char *reply = writer_agent_ask(agent, "{\"execute\":\"guest-snapshot-prepare\"}");

    g_test_message("prepare: %s", reply);
    if (path == WRITER_AGENT_WRITER_TIMEOUT) {
        g_assert_nonnull(strstr(reply, "\"method\": \"saved-state\""));
        g_assert_nonnull(strstr(reply, writer_name));
        g_assert_cmpint(writer_agent_fs_frozen(agent), ==, 0);
    } else {
        g_assert_nonnull(strstr(reply, "\"method\": \"child-snapshot\""));
        g_assert_cmpint(writer_agent_fs_frozen(agent), ==, 1);
    }
    return reply;
}

gint64 writer_agent_release_bound(WriterAgentPath path, gint64 start_us, gint64 writer_limit_s)
{
    gint64 due = path == WRITER_AGENT_KILLED          ? g_get_monotonic_time()
                 : path == WRITER_AGENT_WRITER_TIMEOUT ? start_us + writer_limit_s * G_USEC_PER_SEC
                                                       : start_us + WRITER_AGENT_END_S * G_USEC_PER_SEC;

    return due + WRITER_AGENT_SLACK_S * G_USEC_PER_SEC;
}

void writer_agent_assert_ended(WriterAgent *agent, WriterAgentPath path, const char *prepare)
{
    if (path != WRITER_AGENT_WINDOW_EXPIRED && path != WRITER_AGENT_HOST_GONE) {
        return;
    }
    g_autofree char *post_request = writer_agent_post_request(prepare);
    g_autofree char *post = writer_agent_ask(agent, post_request);
    g_test_message("late post: %s", post);
    g_autofree char *why = path == WRITER_AGENT_WINDOW_EXPIRED
        ? g_strdup_printf("the freeze window of %d s expired", WRITER_AGENT_END_S)
        : g_strdup_printf("disconnected and did not come back within %d s", WRITER_AGENT_END_S);
    g_assert_nonnull(strstr(post, why));
    g_assert_cmpint(writer_agent_fs_frozen(agent), ==, 0);
}

char *writer_agent_ask(WriterAgent *agent, const char *request)
{
    char *reply = agent_process_ask(agent_process_socket(agent->agent), request, 30000);

    g_assert_nonnull(reply);
    return reply;
}

int writer_agent_fs_frozen(WriterAgent *agent)
{
    return loopfs_guard_probe_frozen(agent->guard, agent->fs);
}

void writer_agent_kill(WriterAgent *agent)
{
    g_assert_nonnull(agent->agent);
    g_clear_pointer(&agent->agent, agent_process_free); /* SIGKILL, reaped */
}

void writer_agent_free(WriterAgent *agent)
{
    if (!agent) {
        return;
    }
    g_clear_pointer(&agent->agent, agent_process_free);
    loopfs_guard_thaw_all(agent->guard);
    loopfs_guard_free(agent->guard);
    quiesce_test_remove_tree(agent->dir);
    g_free(agent->writer_socket);
    g_free(agent->log_path);
    g_free(agent->dir);
    g_free(agent);
}
