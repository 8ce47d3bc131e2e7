/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * users.c — guest-set-user-password with qemu-ga's arguments, checks and
 * messages (qga/commands-posix.c; qemu's util/base64.c): the password
 * arrives base64-encoded, "USER:PASSWORD\n" is fed to chpasswd (found in
 * PATH; "-e" when it is already crypted) on its stdin, never on a command
 * line.
 *
 * One check more than qemu-ga: the user must exist (getpwnam) before
 * chpasswd runs. Debian's chpasswd fails for an unknown user and qemu-ga
 * answers "child process has failed to set user password"; we answer the
 * same without running it. busybox's chpasswd exits 0 for an unknown user,
 * so there qemu-ga reports success and we do not (docs/protocol.md).
 */
#include <pwd.h>

#include "agent/commands/control-system.h"


#define USERS_PASSWORD_FAILED "child process has failed to set user password"

/* QEMU's qbase64_decode(): only the base64 alphabet, '=' and newlines. */
static guchar *users_base64_decode(const char *text, gsize *len, ProtoError **error)
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                   "0123456789+/=\n";

    if (strspn(text, alphabet) != strlen(text)) {
        proto_error_set(error, PROTO_ERROR_CLASS_GENERIC_ERROR,
                        "Base64 data contains invalid characters");
        return NULL;
    }
    return g_base64_decode(text, len);
}

static bool cmd_set_user_password(void *context, const JsonValue *args, JsonValue **result,
                                  ProtoError **error)
{
    const ControlSystem *system = control_system_get(context, commands_users);
    const char *username = json_object_get_string(args, "username");
    gboolean crypted = json_bool_get(json_object_get(args, "crypted"));
    g_autofree char *program = NULL;
    g_autofree char *input = NULL;
    g_autofree char *password = NULL;
    gsize len = 0;
    guchar *raw = users_base64_decode(json_object_get_string(args, "password"), &len, error);

    if (!raw) {
        return false;
    }
    /* Up to the first NUL, as qemu-ga's C string handling sees it. */
    password = g_strndup((const char *)raw, len);
    g_free(raw);
    if (strchr(password, '\n')) {
        proto_error_set(error, PROTO_ERROR_CLASS_GENERIC_ERROR,
                        "forbidden characters in raw password");
        return false;
    }
    if (strchr(username, '\n') || strchr(username, ':')) {
        proto_error_set(error, PROTO_ERROR_CLASS_GENERIC_ERROR,
                        "forbidden characters in username");
        return false;
    }
    program = control_system_find_program(system, "chpasswd");
    if (!program) {
        proto_error_set(error, PROTO_ERROR_CLASS_GENERIC_ERROR,
                        "cannot find 'passwd' program in PATH");
        return false;
    }
    if (!getpwnam(username)) {
        g_warning("guest-set-user-password: no user '%s'", username);
        proto_error_set(error, PROTO_ERROR_CLASS_GENERIC_ERROR, USERS_PASSWORD_FAILED);
        return false;
    }
    if (!control_system_may_act(system, "set a password", error)) {
        return false;
    }
    input = g_strdup_printf("%s:%s\n", username, password);
    const char *argv[] = { program, crypted ? "-e" : NULL, NULL };
    gboolean ok = control_system_run_checked(argv, input, USERS_PASSWORD_FAILED, error);
    memset(input, 0, strlen(input));
    memset(password, 0, strlen(password));
    if (!ok) {
        return false;
    }
    g_info("guest-set-user-password: password of '%s' set", username);
    return true;
}

static const CommandArg set_user_password_args[] = {
    { "username", COMMAND_ARG_STRING, false },
    { "password", COMMAND_ARG_STRING, false },
    { "crypted", COMMAND_ARG_BOOL, false },
    { NULL, 0, false },
};

const CommandSpec commands_users[] = {
    { "guest-set-user-password", cmd_set_user_password, set_user_password_args, 0 },
};
const gsize commands_users_count = G_N_ELEMENTS(commands_users);
