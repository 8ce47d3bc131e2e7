/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * engine-config.c — the engine's configuration and the state directory's
 * lock (one agent per state directory).
 */
#include "agent/engine/engine.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <sys/file.h>
#include <unistd.h>

#include "common/quiesce-error.h"
#include "fsfreeze/kernel-knob.h"

EngineConfig *engine_config_new(void)
{
    EngineConfig *config = g_new0(EngineConfig, 1);

    config->state_dir = g_strdup(ENGINE_DEFAULT_STATE_DIR);
    config->state_lock_fd = -1;
    config->window_seconds = ENGINE_DEFAULT_WINDOW_SECONDS;
    config->host_lost_grace_seconds = ENGINE_DEFAULT_HOST_LOST_GRACE_SECONDS;
    config->policy = eligibility_policy_new();
    config->running_state_command = g_strdup(ENGINE_DEFAULT_RUNNING_STATE_COMMAND);
    writers_config_init(&config->writers);
    config->expedite_rcu = TRUE;
    config->flush_priority = TRUE;
    return config;
}

char *engine_config_system_knob(const EngineConfig *config, const char *path)
{
    const char *root = g_getenv(ENGINE_TEST_SYSTEM_ROOT_ENV);

    if (config->ops) {
        return NULL; /* a synthetic machine, or a test's ioctls */
    }
    if (!config->policy->confine) {
        return g_strdup(path);
    }
    return root && *root ? g_build_filename(root, path, NULL) : NULL;
}

InventoryOptions *engine_config_inventory_options(const EngineConfig *config)
{
    if (config->ops && config->ops->mount_root) {
        return inventory_options_new_for_root(config->ops->mount_root);
    }
    return inventory_options_new();
}

void engine_config_free(EngineConfig *config)
{
    if (!config) {
        return;
    }
    g_free(config->state_dir);
    if (config->state_lock_fd >= 0) {
        close(config->state_lock_fd);
    }
    eligibility_policy_free(config->policy);
    g_free(config->running_state_command);
    writers_config_clear(&config->writers);
    g_free(config);
}

gboolean engine_config_lock(EngineConfig *config, GError **error)
{
    g_autofree char *path = g_build_filename(config->state_dir, ENGINE_STATE_LOCK_NAME, NULL);
    gint64 give_up = g_get_monotonic_time() + ENGINE_STATE_LOCK_WAIT_MS * 1000;
    int fd;

    if (config->state_lock_fd >= 0) {
        return TRUE;
    }
    if (g_mkdir_with_parents(config->state_dir, 0700) != 0) {
        int err = errno;
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED, "cannot create %s: %s",
                    config->state_dir, g_strerror(err));
        return FALSE;
    }
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        int err = errno;
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED, "cannot open %s: %s", path,
                    g_strerror(err));
        return FALSE;
    }
    while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int err = errno;
        if (err == EINTR) {
            continue;
        }
        if (err != EWOULDBLOCK || g_get_monotonic_time() >= give_up) {
            close(fd);
            g_set_error(error, QUIESCE_ERROR,
                        err == EWOULDBLOCK ? QUIESCE_ERROR_BUSY : QUIESCE_ERROR_FAILED,
                        "%s: %s", path,
                        err == EWOULDBLOCK ? "another quiesced is running with this state "
                                             "directory (only one agent may run per guest)"
                                           : g_strerror(err));
            return FALSE;
        }
        g_usleep(50000);
    }
    config->state_lock_fd = fd;
    return TRUE;
}

/*
 * A prepare runs in one go on the main loop: the running-state command,
 * the writers' prepare and freeze phases (each bounded by the writers'
 * total-timeout), the filesystems' freeze (bounded by the window), and on a
 * failure the writers' freeze-fail (one more phase). The margin covers the
 * probe and a phase's last writer over its share.
 */
guint64 engine_config_longest_busy_usec(const EngineConfig *config)
{
    gboolean ask_state = config->running_state_command && *config->running_state_command;
    guint64 ms = (ask_state ? ENGINE_RUNNING_STATE_TIMEOUT_MS : 0) +
                 3 * (guint64)config->writers.total_timeout_ms +
                 (guint64)config->window_seconds * 1000 + config->writers.writer_timeout_ms;

    return ms * 1000;
}
