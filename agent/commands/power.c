/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * power.c — guest-shutdown and guest-suspend-disk/-ram/-hybrid with
 * qemu-ga's arguments, helpers and messages (qga/commands-posix.c). Neither
 * answers on success (success-response: false in qga/qapi-schema.json).
 *
 * Shutdown runs "/sbin/shutdown -h -P|-H|-r +0 'hypervisor initiated
 * shutdown'" in a new session. Suspend tries, as qemu-ga does, systemd
 * ("systemctl status systemd-<unit>" says whether the mode exists, then
 * "systemctl <verb>"), then pm-utils (pm-is-supported, pm-<mode>), then a
 * write of "disk" or "mem" to /sys/power/state from a child process (the
 * write returns only after resume). All of it goes through control-system.h,
 * so a confined test agent proves the exact action on fake programs.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/commands/control-system.h"


static bool cmd_shutdown(void *context, const JsonValue *args, JsonValue **result,
                         ProtoError **error)
{
    const ControlSystem *system = control_system_get(context, commands_power);
    const char *mode = json_object_get_string(args, "mode");
    g_autofree char *program = control_system_path(system, "/sbin/shutdown");
    const char *flag;

    g_info("guest-shutdown called, mode: %s", mode ? mode : "(null)");
    if (!mode || g_str_equal(mode, "powerdown")) {
        flag = "-P";
    } else if (g_str_equal(mode, "halt")) {
        flag = "-H";
    } else if (g_str_equal(mode, "reboot")) {
        flag = "-r";
    } else {
        /* qemu-ga's message, unbalanced parenthesis included. */
        proto_error_set(error, PROTO_ERROR_CLASS_GENERIC_ERROR,
                        "mode is invalid (valid values are: halt|powerdown|reboot");
        return false;
    }
    if (!control_system_may_act(system, "shut down", error)) {
        return false;
    }
    const char *argv[] = { program, "-h", flag, "+0", "hypervisor initiated shutdown", NULL };
    return control_system_run_checked(argv, NULL, "child process has failed to shutdown", error);
}

typedef enum {
    POWER_SUSPEND_DISK,
    POWER_SUSPEND_RAM,
    POWER_SUSPEND_HYBRID,
} PowerSuspendMode;

typedef struct {
    const char *systemd_unit;  /* systemctl status <unit> */
    const char *systemd_verb;  /* systemctl <verb> */
    const char *pm_option;     /* pm-is-supported <option> */
    const char *pm_program;
    const char *sys_state;     /* /sys/power/state word, or NULL */
} PowerSuspendHelpers;

static const PowerSuspendHelpers power_helpers[] = {
    [POWER_SUSPEND_DISK] = { "systemd-hibernate", "hibernate", "--hibernate", "pm-hibernate",
                             "disk" },
    [POWER_SUSPEND_RAM] = { "systemd-suspend", "suspend", "--suspend", "pm-suspend", "mem" },
    [POWER_SUSPEND_HYBRID] = { "systemd-hybrid-sleep", "hybrid-sleep", "--suspend-hybrid",
                               "pm-suspend-hybrid", NULL },
};

/* qemu-ga's helper runner: the exit code, or -1 when the program is not
 * there (no error) or could not be started (error set). */
static int power_run_helper(const ControlSystem *system, const char *name, const char *arg1,
                            const char *arg2, ProtoError **error)
{
    g_autofree char *program = control_system_find_program(system, name);
    g_autoptr(GError) spawn_error = NULL;
    int status = 0;

    if (!program) {
        return -1;
    }
    const char *argv[] = { program, arg1, arg2, NULL };
    if (!control_system_run(argv, NULL, &status, &spawn_error)) {
        proto_error_set(error, PROTO_ERROR_CLASS_GENERIC_ERROR,
                        "failed to create child process, error '%s'", spawn_error->message);
        return -1;
    }
    return WEXITSTATUS(status);
}

/* A helper that must exit 0; its failure in qemu-ga's words. */
static bool power_run_suspend(const ControlSystem *system, const char *name, const char *arg,
                              const char *shown, ProtoError **error)
{
    ProtoError *spawn_error = NULL;
    int status = power_run_helper(system, name, arg, NULL, &spawn_error);

    if (status == 0) {
        return true;
    }
    if (spawn_error) {
        *error = spawn_error;
    } else if (status < 0) {
        proto_error_set(error, PROTO_ERROR_CLASS_GENERIC_ERROR,
                        "the helper program '%s' was not found", shown);
    } else {
        proto_error_set(error, PROTO_ERROR_CLASS_GENERIC_ERROR,
                        "the helper program '%s' returned an unexpected exit status code (%d)",
                        shown, status);
    }
    return false;
}

static bool power_sys_state_supports(const ControlSystem *system, const char *word)
{
    g_autofree char *path = control_system_path(system, "/sys/power/state");
    g_autofree char *text = NULL;

    return word && g_file_get_contents(path, &text, NULL, NULL) && strstr(text, word);
}

static bool power_sys_state_suspend(const ControlSystem *system, const char *word,
                                    ProtoError **error)
{
    g_autofree char *path = control_system_path(system, "/sys/power/state");
    int status = 0;
    pid_t pid = fork();

    if (pid == 0) {
        /* Only async-signal-safe calls in the child. */
        int fd;
        setsid();
        fd = open(path, O_WRONLY | O_CLOEXEC);
        _exit(fd >= 0 && write(fd, word, strlen(word)) >= 0 ? 0 : 1);
    }
    if (pid < 0) {
        proto_error_set(error, PROTO_ERROR_CLASS_GENERIC_ERROR,
                        "failed to create child process: %s", g_strerror(errno));
        return false;
    }
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            proto_error_set(error, PROTO_ERROR_CLASS_GENERIC_ERROR,
                            "failed to wait for child (pid: %d): %s", pid, g_strerror(errno));
            return false;
        }
    }
    if (WEXITSTATUS(status)) {
        proto_error_set(error, PROTO_ERROR_CLASS_GENERIC_ERROR,
                        "child process has failed to suspend");
        return false;
    }
    return true;
}

/*
 * qemu-ga's order: systemd, pm-utils, /sys/power/state; the first way that
 * works ends it. Where qemu-ga loses a failed helper's error and answers
 * nothing, as if the guest had suspended (a systemd or pm-utils failure
 * followed by a /sys/power/state without the mode), we send the last
 * failure instead (docs/protocol.md).
 */
static bool power_suspend(void *context, PowerSuspendMode mode, ProtoError **error)
{
    const ControlSystem *system = control_system_get(context, commands_power);
    const PowerSuspendHelpers *helpers = &power_helpers[mode];
    g_autofree char *verb = g_strdup_printf("systemctl %s", helpers->systemd_verb);
    g_autoptr(ProtoError) failure = NULL;
    g_autoptr(ProtoError) ignored = NULL;
    bool supported = false;
    int status;

    if (!control_system_may_act(system, "suspend", error)) {
        return false;
    }
    /* systemctl status answers LSB codes: 1 to 3 mean the unit exists. */
    status = power_run_helper(system, "systemctl", "status", helpers->systemd_unit, &ignored);
    if (status > 0 && status < 4) {
        supported = true;
        if (power_run_suspend(system, "systemctl", helpers->systemd_verb, verb, &failure)) {
            return true;
        }
    }
    g_clear_pointer(&ignored, proto_error_free);
    if (power_run_helper(system, "pm-is-supported", helpers->pm_option, NULL, &ignored) == 0) {
        supported = true;
        g_clear_pointer(&failure, proto_error_free);
        if (power_run_suspend(system, helpers->pm_program, NULL, helpers->pm_program,
                              &failure)) {
            return true;
        }
    }
    if (power_sys_state_supports(system, helpers->sys_state)) {
        supported = true;
        g_clear_pointer(&failure, proto_error_free);
        if (power_sys_state_suspend(system, helpers->sys_state, &failure)) {
            return true;
        }
    }
    if (!supported) {
        proto_error_set(error, PROTO_ERROR_CLASS_GENERIC_ERROR,
                        "the requested suspend mode is not supported by the guest");
        return false;
    }
    if (!helpers->sys_state) {
        /* qemu-ga's last way has no /sys/power/state word for hybrid, and
         * its error replaces the helper's: answered as qemu-ga answers it,
         * the helper's failure logged (docs/protocol.md). */
        g_warning("guest-suspend-hybrid: %s", failure ? failure->desc : "no way worked");
        proto_error_set(error, PROTO_ERROR_CLASS_GENERIC_ERROR, "unknown guest suspend mode");
        return false;
    }
    *error = g_steal_pointer(&failure);
    return false;
}

static bool cmd_suspend_disk(void *context, const JsonValue *args, JsonValue **result,
                             ProtoError **error)
{
    return power_suspend(context, POWER_SUSPEND_DISK, error);
}

static bool cmd_suspend_ram(void *context, const JsonValue *args, JsonValue **result,
                            ProtoError **error)
{
    return power_suspend(context, POWER_SUSPEND_RAM, error);
}

static bool cmd_suspend_hybrid(void *context, const JsonValue *args, JsonValue **result,
                               ProtoError **error)
{
    return power_suspend(context, POWER_SUSPEND_HYBRID, error);
}

static const CommandArg shutdown_args[] = {
    { "mode", COMMAND_ARG_STRING, true },
    { NULL, 0, false },
};

const CommandSpec commands_power[] = {
    { "guest-shutdown", cmd_shutdown, shutdown_args, COMMAND_FLAG_NO_SUCCESS_RESPONSE },
    { "guest-suspend-disk", cmd_suspend_disk, NULL, COMMAND_FLAG_NO_SUCCESS_RESPONSE },
    { "guest-suspend-ram", cmd_suspend_ram, NULL, COMMAND_FLAG_NO_SUCCESS_RESPONSE },
    { "guest-suspend-hybrid", cmd_suspend_hybrid, NULL, COMMAND_FLAG_NO_SUCCESS_RESPONSE },
};
const gsize commands_power_count = G_N_ELEMENTS(commands_power);
