/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hv-vss-agent.c — see the header.
 */
#include "tests/integration/hv-vss-agent.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/support/agent-process.h"

struct HvVssAgent {
    char *log_path;
    char *qga_socket;
    GPid pid;
    gboolean reaped;
};

static void child_die_with_parent(gpointer user_data)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
}

static GPtrArray *build_argv(const HvVssAgentOptions *options, const char *qga_socket)
{
    GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);
    g_autofree char *config = g_build_filename(options->dir, "quiesced.conf", NULL);
    g_autofree char *state = g_build_filename(options->dir, "state", NULL);

    /* Never this machine's hook scripts, no socket in /run. */
    g_autofree char *text = g_strdup_printf(
        "%s\n[writers]\ndirectories=%s\ncompat-directories=\nsocket=\n",
        options->config ? options->config : "[freeze]\nrunning-state-command=\n",
        options->writers_dir ? options->writers_dir : "");

    g_file_set_contents(config, text, -1, NULL);
    g_ptr_array_add(argv, g_strdup(options->binary));
    g_ptr_array_add(argv, g_strdup_printf("--channel=hv-vss:%s", options->device));
    g_ptr_array_add(argv, g_strdup_printf("--channel=unix-listen:%s", qga_socket));
    g_ptr_array_add(argv, g_strdup_printf("--confine=%s", options->dir));
    g_ptr_array_add(argv, g_strdup_printf("--state-dir=%s", state));
    g_ptr_array_add(argv, g_strdup_printf("--config=%s", config));
    g_ptr_array_add(argv, g_strdup("--verbose"));
    g_ptr_array_add(argv, NULL);
    return argv;
}

HvVssAgent *hv_vss_agent_start(const HvVssAgentOptions *options, GError **error)
{
    g_autoptr(HvVssAgent) agent = g_new0(HvVssAgent, 1);
    g_autoptr(GPtrArray) argv = NULL;
    int log_fd;
    gboolean spawned;

    g_assert_nonnull(options->binary);
    agent->log_path = g_build_filename(options->dir, "agent.log", NULL);
    agent->qga_socket = g_build_filename(options->dir, "qga.sock", NULL);
    argv = build_argv(options, agent->qga_socket);
    log_fd = open(agent->log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (log_fd < 0) {
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "%s: %s", agent->log_path,
                    g_strerror(errno));
        return NULL;
    }
    spawned = g_spawn_async_with_fds(options->dir, (char **)argv->pdata, (char **)options->envp,
                                     G_SPAWN_DO_NOT_REAP_CHILD, child_die_with_parent, NULL,
                                     &agent->pid, -1, log_fd, log_fd, error);
    close(log_fd);
    return spawned ? g_steal_pointer(&agent) : NULL;
}

GPid hv_vss_agent_pid(const HvVssAgent *agent)
{
    return agent->pid;
}

const char *hv_vss_agent_qga_socket(const HvVssAgent *agent)
{
    return agent->qga_socket;
}

char *hv_vss_agent_ask(HvVssAgent *agent, const char *request, GError **error)
{
    g_autoptr(GByteArray) got = NULL;

    /* The QGA socket listens once the agent has opened its channels. */
    for (int i = 0; !got; i++) {
        g_autoptr(GError) local = NULL;
        got = agent_process_exchange_lines(agent->qga_socket, (const guint8 *)request,
                                           strlen(request), 1, 20000, &local);
        if (!got && i >= 200) {
            g_propagate_error(error, g_steal_pointer(&local));
            return NULL;
        }
        if (!got) {
            g_usleep(25000);
        }
    }
    g_byte_array_append(got, (const guint8 *)"", 1);
    return g_strdup((const char *)got->data);
}

char *hv_vss_agent_log(const HvVssAgent *agent)
{
    char *text = NULL;

    g_file_get_contents(agent->log_path, &text, NULL, NULL);
    return text ? text : g_strdup("");
}

gboolean hv_vss_agent_wait_log(const HvVssAgent *agent, const char *needle, int timeout_ms)
{
    for (int waited = 0;; waited += 20) {
        g_autofree char *log = hv_vss_agent_log(agent);
        if (strstr(log, needle)) {
            return TRUE;
        }
        if (waited >= timeout_ms) {
            return FALSE;
        }
        g_usleep(20000);
    }
}

gboolean hv_vss_agent_wait_exit(HvVssAgent *agent, int timeout_ms, int *status)
{
    for (int waited = 0; waited <= timeout_ms; waited += 20) {
        if (waitpid(agent->pid, status, WNOHANG) == agent->pid) {
            agent->reaped = TRUE;
            return TRUE;
        }
        g_usleep(20000);
    }
    return FALSE;
}

gboolean hv_vss_agent_stop(HvVssAgent *agent, GError **error)
{
    int status = 0;

    kill(agent->pid, SIGTERM);
    if (!hv_vss_agent_wait_exit(agent, 5000, &status)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "agent did not exit on SIGTERM");
        return FALSE;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "agent exited with status 0x%x",
                    status);
        return FALSE;
    }
    return TRUE;
}

void hv_vss_agent_free(HvVssAgent *agent)
{
    if (!agent) {
        return;
    }
    if (agent->pid && !agent->reaped) {
        kill(agent->pid, SIGKILL);
        waitpid(agent->pid, NULL, 0);
    }
    g_free(agent->log_path);
    g_free(agent->qga_socket);
    g_free(agent);
}
