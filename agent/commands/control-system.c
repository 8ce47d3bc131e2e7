/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * control-system.c — the guest-control commands' view of the system: real
 * paths in production, a test root for a confined agent
 * (control-system.h), and running qemu-ga's helper programs.
 */
#include "agent/commands/control-system.h"

#include <errno.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/quiesce-error.h"

gpointer control_system_new(const CommandContext *context)
{
    ControlSystem *system = g_new0(ControlSystem, 1);
    const char *confine = engine_get_config(context->engine)->policy->confine;
    const char *root = g_getenv(CONTROL_SYSTEM_ROOT_ENV);

    system->confine = g_strdup(confine);
    if (root && *root && confine) {
        system->root = g_canonicalize_filename(root, "/");
    }
    return system;
}

void control_system_free(gpointer system)
{
    ControlSystem *self = system;

    if (!self) {
        return;
    }
    g_free(self->confine);
    g_free(self->root);
    g_free(self);
}

const ControlSystem *control_system_get(const CommandContext *context,
                                        const CommandSpec *family_specs)
{
    return commands_get_state(context, family_specs);
}

char *control_system_path(const ControlSystem *system, const char *path)
{
    return system->root ? g_build_filename(system->root, path, NULL) : g_strdup(path);
}

char *control_system_find_program(const ControlSystem *system, const char *name)
{
    static const char *const dirs[] = { "usr/local/sbin", "usr/local/bin", "usr/sbin",
                                        "usr/bin", "sbin", "bin" };

    if (!system->root) {
        return g_find_program_in_path(name);
    }
    for (gsize i = 0; i < G_N_ELEMENTS(dirs); i++) {
        g_autofree char *path = g_build_filename(system->root, dirs[i], name, NULL);
        if (g_file_test(path, G_FILE_TEST_IS_EXECUTABLE) &&
            !g_file_test(path, G_FILE_TEST_IS_DIR)) {
            return g_steal_pointer(&path);
        }
    }
    return NULL;
}

gboolean control_system_may_act(const ControlSystem *system, const char *what,
                                ProtoError **error)
{
    if (system->confine && !system->root) {
        proto_error_set(error, PROTO_ERROR_CLASS_GENERIC_ERROR,
                        "refusing to %s: the agent is confined to %s", what, system->confine);
        return FALSE;
    }
    return TRUE;
}

static void control_system_child_setup(gpointer user_data)
{
    setsid();
}

static gboolean control_system_write_all(int fd, const char *data, GError **error)
{
    gsize len = strlen(data);

    while (len) {
        ssize_t n = write(fd, data, len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            int saved = errno;
            g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED, "%s",
                        g_strerror(saved));
            return FALSE;
        }
        data += n;
        len -= (gsize)n;
    }
    return TRUE;
}

gboolean control_system_run(const char *const *argv, const char *input, int *wait_status,
                            GError **spawn_error)
{
    GSpawnFlags flags = G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL |
                        G_SPAWN_STDERR_TO_DEV_NULL | G_SPAWN_CLOEXEC_PIPES;
    g_autoptr(GError) write_error = NULL;
    int stdin_fd = -1;
    GPid pid;

    if (!input) {
        flags |= G_SPAWN_STDIN_FROM_DEV_NULL;
    }
    if (!g_spawn_async_with_pipes(NULL, (char **)argv, NULL, flags, control_system_child_setup,
                                  NULL, &pid, input ? &stdin_fd : NULL, NULL, NULL,
                                  spawn_error)) {
        return FALSE;
    }
    if (input) {
        /* A child that exits without reading is reported by its status,
         * as qemu-ga's is; the agent ignores SIGPIPE. */
        control_system_write_all(stdin_fd, input, &write_error);
        close(stdin_fd);
    }
    while (waitpid(pid, wait_status, 0) < 0) {
        if (errno != EINTR) {
            int saved = errno;
            g_set_error(spawn_error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED,
                        "failed to wait for child (pid: %d): %s", pid, g_strerror(saved));
            return FALSE;
        }
    }
    g_spawn_close_pid(pid);
    return TRUE;
}

gboolean control_system_run_checked(const char *const *argv, const char *input,
                                    const char *failed_message, ProtoError **error)
{
    g_autoptr(GError) spawn_error = NULL;
    int status = 0;

    if (!control_system_run(argv, input, &status, &spawn_error)) {
        g_warning("%s: %s", argv[0], spawn_error->message);
        status = 1 << 8;
    }
    if (!WIFEXITED(status)) {
        proto_error_set(error, PROTO_ERROR_CLASS_GENERIC_ERROR,
                        "child process has terminated abnormally");
        return FALSE;
    }
    if (WEXITSTATUS(status)) {
        proto_error_set(error, PROTO_ERROR_CLASS_GENERIC_ERROR, "%s", failed_message);
        return FALSE;
    }
    return TRUE;
}

void control_system_set_errno_error(ProtoError **error, int err, const char *prefix)
{
    proto_error_set(error, PROTO_ERROR_CLASS_GENERIC_ERROR, "%s: %s", prefix, g_strerror(err));
}
