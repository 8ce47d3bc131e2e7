/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * control-system.h — where the guest-control commands (shutdown, suspend,
 * vCPUs, memory blocks, fstrim, passwords, ssh keys) meet the system, and
 * the seam that lets tests prove what they would do without doing it.
 *
 * In production every path is the real one (/sbin/shutdown, /sys/...,
 * programs found in PATH, as qemu-ga finds them). An agent started with
 * --confine (tests only) never changes the machine: the commands that
 * would (shutdown, suspend, set-vcpus, set-memory-blocks,
 * set-user-password) are refused after qemu-ga's own argument checks,
 * ssh keys are only written for users whose home lies in the confinement,
 * and fstrim only trims filesystems mounted in it. Such an agent may be
 * given a test system root in the environment (CONTROL_SYSTEM_ROOT_ENV):
 * every absolute path above is then looked up below it and programs are
 * taken from its bin and sbin folders only, so a test runs the commands in
 * full against fake programs and a fake sysfs. Without --confine the
 * variable is ignored.
 */
#ifndef QUIESCE_AGENT_CONTROL_SYSTEM_H
#define QUIESCE_AGENT_CONTROL_SYSTEM_H

#include <glib.h>

#include "agent/commands/commands.h"

#define CONTROL_SYSTEM_ROOT_ENV ENGINE_TEST_SYSTEM_ROOT_ENV

typedef struct {
    char *confine; /* owned; the agent's confinement directory, or NULL */
    char *root;    /* owned; the test system root, or NULL (the real one) */
} ControlSystem;

/* A family's state (CommandFamily.state_new): reads the confinement from
 * the engine's policy and the test root from the environment. */
gpointer control_system_new(const CommandContext *context);
void control_system_free(gpointer system);

/* The family state of the family whose table is family_specs. */
const ControlSystem *control_system_get(const CommandContext *context,
                                        const CommandSpec *family_specs);

/* path (absolute) as this agent sees it: below the test root if any.
 * (transfer full) */
char *control_system_path(const ControlSystem *system, const char *path);

/* The program called name as qemu-ga finds it (in PATH), or in the test
 * root's bin and sbin folders; NULL when there is none. (transfer full) */
char *control_system_find_program(const ControlSystem *system, const char *name);

/* FALSE, with an error saying so, when this agent may not change the
 * machine (confined without a test root); what is e.g. "shut down". */
gboolean control_system_may_act(const ControlSystem *system, const char *what,
                                ProtoError **error);

/*
 * Runs argv[0] (an absolute path) in a new session with stdout and stderr
 * on /dev/null and stdin from input (NULL: /dev/null), and waits for it.
 * *wait_status is waitpid()'s. FALSE when it could not be started; then
 * *spawn_error (transfer full) says why.
 */
gboolean control_system_run(const char *const *argv, const char *input, int *wait_status,
                            GError **spawn_error);

/*
 * control_system_run() with qemu-ga's verdict on the child: exec failing
 * counts as exit status 1 (qemu-ga's forked child exits 1), a signal is
 * "child process has terminated abnormally", a non-zero exit is
 * failed_message.
 */
gboolean control_system_run_checked(const char *const *argv, const char *input,
                                    const char *failed_message, ProtoError **error);

/* "<prefix>: <strerror(err)>", as QEMU's error_setg_errno() words it. */
void control_system_set_errno_error(ProtoError **error, int err, const char *prefix);

#endif
