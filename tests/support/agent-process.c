/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * agent-process.c — see the header.
 */
#include "tests/support/agent-process.h"
#include "tests/support/test-tmpdir.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

struct AgentProcess {
    char *dir;
    char *qga_state; /* qemu-ga's state dir, on tmpfs when there is one */
    char *socket_path;
    GPid pid;
    gboolean reaped;
};

static int connect_unix(const char *path)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    g_strlcpy(addr.sun_path, path, sizeof(addr.sun_path));
    if (fd >= 0 && connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* A test that aborts on a failed assertion must not leave its agent behind. */
static void child_die_with_parent(gpointer user_data)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
}

/*
 * qemu-ga's state dir: its pid file (not the machine's /var/run/qemu-ga.pid,
 * which two tests at once would fight over) and qga.state, which it rewrites
 * with an fsync for every guest-file-open; on a disk busy with writeback
 * that fsync took long enough that qemu-ga, inside the request, did not
 * see SIGTERM for over 20 s. /dev/shm when there is one, else @dir.
 */
static char *qga_state_dir(const char *dir)
{
    g_autofree char *shm = g_strdup("/dev/shm/quiesce-qga-XXXXXX");

    if (g_file_test("/dev/shm", G_FILE_TEST_IS_DIR) && g_mkdtemp(shm)) {
        return g_steal_pointer(&shm);
    }
    return g_strdup(dir);
}

static GPtrArray *build_argv(const char *flavour, const char *binary, const char *dir,
                             const char *qga_state, const char *socket_path,
                             const AgentProcessOptions *options)
{
    const char *const *extra_args = options->extra_args;

    GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);

    g_ptr_array_add(argv, g_strdup(binary));
    if (g_str_equal(flavour, "qemu-ga")) {
        g_ptr_array_add(argv, g_strdup("-m"));
        g_ptr_array_add(argv, g_strdup("unix-listen"));
        g_ptr_array_add(argv, g_strdup("-p"));
        g_ptr_array_add(argv, g_strdup(socket_path));
        g_ptr_array_add(argv, g_strdup("-t"));
        g_ptr_array_add(argv, g_strdup(qga_state));
        g_ptr_array_add(argv, g_strdup("-f"));
        g_ptr_array_add(argv, g_build_filename(qga_state, "qemu-ga.pid", NULL));
    } else {
        g_autofree char *state = g_build_filename(dir, "state", NULL);
        g_autofree char *config = g_build_filename(dir, "quiesced.conf", NULL);
        const char *text = options->config ? options->config : "[freeze]\nrunning-state-command=\n";
        /* Writers live in the temp dir too, never in /etc or /run. */
        g_autofree char *full = strstr(text, "[writers]")
            ? g_strdup(text)
            : g_strdup_printf("%s\n[writers]\ndirectories=%s/writers.d\ncompat-directories=\n"
                              "socket=%s/writers.sock\n", text, dir, dir);
        g_file_set_contents(config, full, -1, NULL);
        g_ptr_array_add(argv, g_strdup_printf("--channel=unix-listen:%s", socket_path));
        g_ptr_array_add(argv, g_strdup_printf("--confine=%s", options->confine ? options->confine : dir));
        g_ptr_array_add(argv, g_strdup_printf("--state-dir=%s",
                                              options->state_dir ? options->state_dir : state));
        g_ptr_array_add(argv, g_strdup_printf("--config=%s", config));
    }
    for (gsize i = 0; extra_args && extra_args[i]; i++) {
        g_ptr_array_add(argv, g_strdup(extra_args[i]));
    }
    g_ptr_array_add(argv, NULL);
    return argv;
}

AgentProcess *agent_process_start(const char *flavour, const char *binary,
                                  const char *const *extra_args, GError **error)
{
    AgentProcessOptions options = { .extra_args = extra_args };

    return agent_process_start_full(flavour, binary, &options, error);
}

AgentProcess *agent_process_start_full(const char *flavour, const char *binary,
                                       const AgentProcessOptions *options, GError **error)
{
    g_autoptr(AgentProcess) agent = g_new0(AgentProcess, 1);
    g_autoptr(GPtrArray) argv = NULL;
    int stderr_fd = -1;
    gboolean spawned;

    agent->dir = g_dir_make_tmp("quiesce-proto-XXXXXX", error);
    if (!agent->dir) {
        return NULL;
    }
    agent->socket_path = g_build_filename(agent->dir, "agent.sock", NULL);
    if (g_str_equal(flavour, "qemu-ga")) {
        agent->qga_state = qga_state_dir(agent->dir);
    }
    argv = build_argv(flavour, binary, agent->dir, agent->qga_state, agent->socket_path, options);
    if (options->stderr_path) {
        stderr_fd = open(options->stderr_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (stderr_fd < 0) {
            g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "%s: %s",
                        options->stderr_path, g_strerror(errno));
            return NULL;
        }
    }
    spawned = g_spawn_async_with_fds(agent->dir, (char **)argv->pdata, (char **)options->envp,
                                     G_SPAWN_DO_NOT_REAP_CHILD, child_die_with_parent, NULL,
                                     &agent->pid, -1, -1, stderr_fd, error);
    if (stderr_fd >= 0) {
        close(stderr_fd);
    }
    if (!spawned) {
        return NULL;
    }
    if (options->no_wait) {
        return g_steal_pointer(&agent);
    }
    for (int i = 0; i < 200; i++) {
        int fd = connect_unix(agent->socket_path);
        if (fd >= 0) {
            close(fd);
            return g_steal_pointer(&agent);
        }
        g_usleep(25000);
    }
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "%s did not listen on %s within 5 s",
                binary, agent->socket_path);
    return NULL;
}

const char *agent_process_socket(const AgentProcess *agent)
{
    return agent->socket_path;
}

const char *agent_process_dir(const AgentProcess *agent)
{
    return agent->dir;
}

GPid agent_process_pid(const AgentProcess *agent)
{
    return agent->pid;
}

static gboolean send_all(int fd, const guint8 *data, gsize len)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return FALSE;
        }
        data += n;
        len -= (gsize)n;
    }
    return TRUE;
}

static guint count_lines(const GByteArray *got)
{
    guint n = 0;

    for (guint i = 0; i < got->len; i++) {
        n += got->data[i] == '\n';
    }
    return n;
}

/* Reads until want bytes (or want_lines lines, when non-zero) arrived. */
static GByteArray *exchange(const char *socket_path, const guint8 *input, gsize len, gsize want,
                            guint want_lines, int timeout_ms, GError **error)
{
    g_autoptr(GByteArray) got = g_byte_array_new();
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    int fd = connect_unix(socket_path);

    if (fd < 0 || !send_all(fd, input, len)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot talk to %s: %s", socket_path,
                    g_strerror(errno));
        if (fd >= 0) {
            close(fd);
        }
        return NULL;
    }
    for (;;) {
        gint64 now = g_get_monotonic_time();
        /* Once enough arrived, linger 100 ms to catch anything extra. */
        gboolean enough = want_lines ? count_lines(got) >= want_lines : got->len >= want;
        int wait_ms = enough ? 100 : (int)MAX(0, (deadline - now) / 1000);
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        guint8 buf[4096];
        ssize_t n;

        if (poll(&pfd, 1, wait_ms) <= 0) {
            break;
        }
        n = read(fd, buf, sizeof(buf));
        if (n <= 0) {
            break;
        }
        g_byte_array_append(got, buf, (guint)n);
    }
    close(fd);
    return g_steal_pointer(&got);
}

GByteArray *agent_process_exchange(const char *socket_path, const guint8 *input, gsize len,
                                   gsize want, int timeout_ms, GError **error)
{
    return exchange(socket_path, input, len, want, 0, timeout_ms, error);
}

GByteArray *agent_process_exchange_lines(const char *socket_path, const guint8 *input, gsize len,
                                         guint lines, int timeout_ms, GError **error)
{
    return exchange(socket_path, input, len, 0, lines, timeout_ms, error);
}

/* 20 s: what is checked is a clean exit, not its speed; on a loaded CI
 * machine (a guest image being built beside the tests) an exit once took
 * more than the 5 s this waited before. */
gboolean agent_process_terminate(AgentProcess *agent, int *wait_status, GError **error)
{
    kill(agent->pid, SIGTERM);
    for (int i = 0; i < 800; i++) {
        if (waitpid(agent->pid, wait_status, WNOHANG) == agent->pid) {
            agent->reaped = TRUE;
            return TRUE;
        }
        g_usleep(25000);
    }
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "agent did not exit on SIGTERM");
    return FALSE;
}

gboolean agent_process_stop(AgentProcess *agent, GError **error)
{
    int status = 0;

    if (!agent_process_terminate(agent, &status, error)) {
        return FALSE;
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        return TRUE;
    }
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "agent exited with status 0x%x", status);
    return FALSE;
}

void agent_process_free(AgentProcess *agent)
{
    if (!agent) {
        return;
    }
    if (agent->pid && !agent->reaped) {
        kill(agent->pid, SIGKILL);
        waitpid(agent->pid, NULL, 0);
    }
    if (agent->qga_state && g_strcmp0(agent->qga_state, agent->dir) != 0) {
        quiesce_test_remove_tree(agent->qga_state);
    }
    if (agent->dir) {
        quiesce_test_remove_tree(agent->dir);
    }
    g_free(agent->qga_state);
    g_free(agent->socket_path);
    g_free(agent->dir);
    g_free(agent);
}

int agent_process_connect(const char *socket_path)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    g_assert_cmpint(fd, >=, 0);
    g_strlcpy(addr.sun_path, socket_path, sizeof(addr.sun_path));
    g_assert_cmpint(connect(fd, (struct sockaddr *)&addr, sizeof(addr)), ==, 0);
    return fd;
}

void agent_process_send(int fd, const char *text)
{
    gsize len = strlen(text);

    while (len > 0) {
        ssize_t n = write(fd, text, len);
        g_assert_cmpint(n, >, 0);
        text += n;
        len -= (gsize)n;
    }
}

char *agent_process_ask(const char *socket_path, const char *request, int timeout_ms)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GByteArray) reply = agent_process_exchange_lines(
        socket_path, (const guint8 *)request, strlen(request), 1, timeout_ms, &error);

    g_assert_no_error(error);
    if (!reply->len) {
        return NULL;
    }
    return g_strndup((const char *)reply->data, reply->len);
}

char *agent_process_read_line(int fd, int timeout_ms)
{
    g_autoptr(GString) line = g_string_new(NULL);
    gint64 deadline = g_get_monotonic_time() + timeout_ms * 1000;

    while (!strchr(line->str, '\n')) {
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        int left = (int)((deadline - g_get_monotonic_time()) / 1000);
        char buf[4096];
        ssize_t n;

        if (left <= 0 || poll(&pfd, 1, left) <= 0) {
            return NULL;
        }
        n = read(fd, buf, sizeof(buf));
        if (n <= 0) {
            return NULL;
        }
        g_string_append_len(line, buf, n);
    }
    return g_string_free(g_steal_pointer(&line), FALSE);
}
