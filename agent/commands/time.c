/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * time.c — guest-get-time and guest-set-time with qemu-ga 7.2's arguments,
 * results and messages (qga/commands.c, qga/commands-posix.c). What libvirt's
 * `virsh domtime` uses; --sync there is a guest-set-time without a time.
 */
#include <errno.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent/commands/commands.h"
#include "agent/commands/set-time.h"
#include "common/quiesce-error.h"

/* qemu-ga's QERR_UNSUPPORTED (include/qapi/qmp/qerror.h). */
#define SET_TIME_UNSUPPORTED "this feature or command is not currently supported"

static int set_time_system_clock(const struct timeval *tv)
{
    return settimeofday(tv, NULL);
}

const SetTimeOps set_time_ops_system = {
    .set_clock = set_time_system_clock,
    .hwclock = "/sbin/hwclock",
};

/* qemu-ga accepts what GDate, from localtime, puts in 1970..2069. */
static gboolean set_time_year_valid(time_t seconds)
{
    struct tm tm;

    if (!localtime_r(&seconds, &tm)) {
        return FALSE;
    }
    return tm.tm_year + 1900 >= 1970 && tm.tm_year + 1900 < 2070;
}

/* qemu-ga's child: its own session, stdio on /dev/null. */
static void set_time_child_setup(gpointer data)
{
    setsid();
}

static gboolean set_time_run_hwclock(const SetTimeOps *ops, gboolean has_time, GError **error)
{
    const char *argv[] = { ops->hwclock, "hwclock", has_time ? "-w" : "-s", NULL };
    g_autoptr(GError) spawn_error = NULL;
    int status = 0;

    if (!g_spawn_sync(NULL, (char **)argv, NULL,
                      G_SPAWN_FILE_AND_ARGV_ZERO | G_SPAWN_STDIN_FROM_DEV_NULL |
                          G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
                      set_time_child_setup, NULL, NULL, NULL, &status, &spawn_error)) {
        if (g_error_matches(spawn_error, G_SPAWN_ERROR, G_SPAWN_ERROR_FORK) ||
            g_error_matches(spawn_error, G_SPAWN_ERROR, G_SPAWN_ERROR_NOMEM)) {
            /* qemu-ga names fork()'s errno; GLib only gives its message. */
            g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED,
                        "failed to create child process: %s", spawn_error->message);
            return FALSE;
        }
        /* qemu-ga's child exits 1 when exec fails: the same message. */
        status = 1 << 8;
    }
    if (!WIFEXITED(status)) {
        g_set_error_literal(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED,
                            "child process has terminated abnormally");
        return FALSE;
    }
    if (WEXITSTATUS(status) != 0) {
        /* qemu-ga's text, for -s too. */
        g_set_error_literal(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED,
                            "hwclock failed to set hardware clock to system time");
        return FALSE;
    }
    return TRUE;
}

gboolean set_time_apply(const SetTimeOps *ops, gboolean has_time, gint64 time_ns,
                        GError **error)
{
    if (access(ops->hwclock, X_OK) != 0) {
        g_set_error_literal(error, QUIESCE_ERROR, QUIESCE_ERROR_NOT_SUPPORTED,
                            SET_TIME_UNSUPPORTED);
        return FALSE;
    }
    if (has_time) {
        gint64 seconds = time_ns / 1000000000;
        struct timeval tv;

        if (seconds != (gint64)(time_t)seconds) {
            g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_INVALID_ARGUMENT,
                        "Time %" G_GINT64_FORMAT " is too large", time_ns);
            return FALSE;
        }
        tv.tv_sec = (time_t)seconds;
        /* Negative below a second, as qemu-ga computes it: settimeofday()
         * refuses it (EINVAL). */
        tv.tv_usec = (suseconds_t)((time_ns % 1000000000) / 1000);
        if (!set_time_year_valid(tv.tv_sec)) {
            /* qemu-ga appends a stale errno here, which is 0 in practice. */
            g_set_error_literal(error, QUIESCE_ERROR, QUIESCE_ERROR_INVALID_ARGUMENT,
                                "Invalid time");
            return FALSE;
        }
        if (ops->set_clock(&tv) < 0) {
            int saved = errno;
            g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED,
                        "Failed to set time to guest: %s", g_strerror(saved));
            return FALSE;
        }
    }
    return set_time_run_hwclock(ops, has_time, error);
}

static bool cmd_get_time(void *context, const JsonValue *args, JsonValue **result,
                         ProtoError **error)
{
    *result = json_int_new(g_get_real_time() * 1000);
    return true;
}

static bool cmd_set_time(void *context, const JsonValue *args, JsonValue **result,
                         ProtoError **error)
{
    const JsonValue *time = json_object_get(args, "time");
    g_autoptr(GError) gerror = NULL;
    int64_t time_ns = 0;

    if (time) {
        json_value_get_int(time, &time_ns);
    }
    g_info("guest-set-time called%s", time ? "" : " without a time: clock from the RTC");
    if (!set_time_apply(&set_time_ops_system, time != NULL, time_ns, &gerror)) {
        g_warning("guest-set-time: %s", gerror->message);
        proto_error_take_gerror(error, g_steal_pointer(&gerror));
        return false;
    }
    return true;
}

static const CommandArg set_time_args[] = {
    { "time", COMMAND_ARG_INT, true },
    { NULL, 0, false },
};

const CommandSpec commands_time[] = {
    { "guest-get-time", cmd_get_time, NULL, 0 },
    { "guest-set-time", cmd_set_time, set_time_args, 0 },
};
const gsize commands_time_count = G_N_ELEMENTS(commands_time);
