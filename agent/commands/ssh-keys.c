/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ssh-keys.c — guest-ssh-get-authorized-keys, guest-ssh-add-authorized-keys
 * and guest-ssh-remove-authorized-keys with qemu-ga's file handling and
 * messages (qga/commands-posix-ssh.c): ~USER/.ssh/authorized_keys, the
 * directory created 0700 and the file rewritten (GLib's write-and-rename)
 * 0600, both owned by the user; a key is refused only when it starts with
 * '#' or holds a newline; lines are compared whole.
 *
 * qemu-ga 7.2's quirks kept, since hosts see them: get lists the keys in
 * reverse file order; add appends without a final newline; remove of a user
 * without the file succeeds. One refusal more: a confined agent (tests)
 * only writes below its confinement (control-system.h).
 */
#include <errno.h>
#include <glib-unix.h>
#include <glib/gstdio.h>
#include <pwd.h>
#include <unistd.h>

#include "agent/commands/control-system.h"


static bool ssh_check_keys(const JsonValue *keys, ProtoError **error)
{
    for (size_t i = 0; i < json_array_length(keys); i++) {
        const char *key = json_string_get(json_array_get(keys, i));
        if (key[0] == '#' || strchr(key, '\n')) {
            proto_error_set(error, PROTO_ERROR_CLASS_GENERIC_ERROR,
                            "invalid OpenSSH public key: '%s'", key);
            return false;
        }
    }
    return true;
}

/* (transfer full: one block, g_free) */
static struct passwd *ssh_lookup_user(const char *username, ProtoError **error)
{
    g_autoptr(GError) gerror = NULL;
    struct passwd *entry = g_unix_get_passwd_entry(username, &gerror);

    if (!entry) {
        proto_error_set(error, PROTO_ERROR_CLASS_GENERIC_ERROR,
                        "failed to lookup user '%s': %s", username, gerror->message);
    }
    return entry;
}

static bool ssh_may_write(const ControlSystem *system, const struct passwd *entry,
                          ProtoError **error)
{
    g_autofree char *home = g_canonicalize_filename(entry->pw_dir, "/");
    size_t len = system->confine ? strlen(system->confine) : 0;

    if (system->confine && !(strncmp(home, system->confine, len) == 0 && home[len] == '/')) {
        proto_error_set(error, PROTO_ERROR_CLASS_GENERIC_ERROR,
                        "refusing to change the keys of %s: home %s is outside the confinement %s",
                        entry->pw_name, home, system->confine);
        return false;
    }
    return true;
}

static bool ssh_list_contains(const GPtrArray *list, const char *key)
{
    for (guint i = 0; i < list->len; i++) {
        if (g_str_equal(g_ptr_array_index(list, i), key)) {
            return true;
        }
    }
    return false;
}

/* What add and remove check first, in qemu-ga's order: the keys, then the
 * user. (transfer full: one block, g_free) */
static struct passwd *ssh_begin_change(const JsonValue *args, ProtoError **error)
{
    if (!ssh_check_keys(json_object_get(args, "keys"), error)) {
        return NULL;
    }
    return ssh_lookup_user(json_object_get_string(args, "username"), error);
}

static GStrv ssh_read(const char *path, ProtoError **error)
{
    g_autoptr(GError) gerror = NULL;
    g_autofree char *text = NULL;

    if (!g_file_get_contents(path, &text, NULL, &gerror)) {
        proto_error_set(error, PROTO_ERROR_CLASS_GENERIC_ERROR, "failed to read '%s': %s", path,
                        gerror->message);
        return NULL;
    }
    return g_strsplit(text, "\n", -1);
}

static bool ssh_set_owner_mode(const char *path, const struct passwd *entry, mode_t mode,
                               const char *kind, ProtoError **error)
{
    /* qemu-ga says "directory" for the file's owner too. */
    if (chown(path, entry->pw_uid, entry->pw_gid) != 0) {
        proto_error_set(error, PROTO_ERROR_CLASS_GENERIC_ERROR,
                        "failed to set ownership of directory '%s': %s", path,
                        g_strerror(errno));
        return false;
    }
    if (chmod(path, mode) != 0) {
        proto_error_set(error, PROTO_ERROR_CLASS_GENERIC_ERROR,
                        "failed to set permissions of %s'%s': %s", kind, path, g_strerror(errno));
        return false;
    }
    return true;
}

static bool ssh_write(const char *path, const char *const *keys, const struct passwd *entry,
                      ProtoError **error)
{
    g_autoptr(GError) gerror = NULL;
    g_autofree char *text = g_strjoinv("\n", (char **)keys);

    if (!g_file_set_contents(path, text, -1, &gerror)) {
        proto_error_set(error, PROTO_ERROR_CLASS_GENERIC_ERROR, "failed to write to '%s': %s",
                        path, gerror->message);
        return false;
    }
    return ssh_set_owner_mode(path, entry, 0600, "", error);
}

static bool cmd_ssh_get(void *context, const JsonValue *args, JsonValue **result,
                        ProtoError **error)
{
    g_autofree struct passwd *entry = ssh_lookup_user(json_object_get_string(args, "username"),
                                                      error);
    g_autofree char *path = NULL;
    g_auto(GStrv) lines = NULL;
    JsonValue *keys;

    if (!entry) {
        return false;
    }
    path = g_build_filename(entry->pw_dir, ".ssh", "authorized_keys", NULL);
    lines = ssh_read(path, error);
    if (!lines) {
        return false;
    }
    keys = json_array_new();
    for (guint i = g_strv_length(lines); i-- > 0;) {
        const char *line = g_strstrip(lines[i]);
        if (line[0] && line[0] != '#') {
            json_array_append(keys, json_string_new(line));
        }
    }
    *result = json_object_new();
    json_object_set(*result, "keys", keys);
    return true;
}

static bool cmd_ssh_add(void *context, const JsonValue *args, JsonValue **result,
                        ProtoError **error)
{
    const ControlSystem *system = control_system_get(context, commands_ssh_keys);
    const JsonValue *keys = json_object_get(args, "keys");
    const JsonValue *reset = json_object_get(args, "reset");
    g_autofree struct passwd *entry = NULL;
    g_autofree char *dir = NULL;
    g_autofree char *path = NULL;
    g_auto(GStrv) lines = NULL;
    g_autoptr(GPtrArray) out = g_ptr_array_new();

    entry = ssh_begin_change(args, error);
    if (!entry || !ssh_may_write(system, entry, error)) {
        return false;
    }
    dir = g_build_filename(entry->pw_dir, ".ssh", NULL);
    path = g_build_filename(dir, "authorized_keys", NULL);
    if (!(reset && json_bool_get(reset))) {
        /* Unreadable counts as empty, as in qemu-ga. */
        g_autoptr(ProtoError) ignored = NULL;
        lines = ssh_read(path, &ignored);
    }
    if (!lines && !g_file_test(dir, G_FILE_TEST_IS_DIR)) {
        if (g_mkdir(dir, 0700) != 0) {
            proto_error_set(error, PROTO_ERROR_CLASS_GENERIC_ERROR,
                            "failed to create directory '%s': %s", dir, g_strerror(errno));
            return false;
        }
        if (!ssh_set_owner_mode(dir, entry, 0700, "directory ", error)) {
            return false;
        }
    }
    for (char **line = lines; line && *line; line++) {
        g_ptr_array_add(out, *line);
    }
    for (size_t i = 0; i < json_array_length(keys); i++) {
        const char *key = json_string_get(json_array_get(keys, i));
        if (!ssh_list_contains(out, key)) {
            g_ptr_array_add(out, (gpointer)key);
        }
    }
    g_ptr_array_add(out, NULL);
    return ssh_write(path, (const char *const *)out->pdata, entry, error);
}

static bool cmd_ssh_remove(void *context, const JsonValue *args, JsonValue **result,
                           ProtoError **error)
{
    const ControlSystem *system = control_system_get(context, commands_ssh_keys);
    const JsonValue *keys = json_object_get(args, "keys");
    g_autofree struct passwd *entry = NULL;
    g_autofree char *path = NULL;
    g_auto(GStrv) lines = NULL;
    g_autoptr(GPtrArray) out = g_ptr_array_new();

    entry = ssh_begin_change(args, error);
    if (!entry) {
        return false;
    }
    path = g_build_filename(entry->pw_dir, ".ssh", "authorized_keys", NULL);
    if (!g_file_test(path, G_FILE_TEST_EXISTS)) {
        return true;
    }
    if (!ssh_may_write(system, entry, error)) {
        return false;
    }
    lines = ssh_read(path, error);
    if (!lines) {
        return false;
    }
    for (char **line = lines; *line; line++) {
        gboolean listed = FALSE;
        for (size_t i = 0; !listed && i < json_array_length(keys); i++) {
            listed = g_str_equal(json_string_get(json_array_get(keys, i)), *line);
        }
        if (!listed) {
            g_ptr_array_add(out, *line);
        }
    }
    g_ptr_array_add(out, NULL);
    return ssh_write(path, (const char *const *)out->pdata, entry, error);
}

static const CommandArg ssh_get_args[] = {
    { "username", COMMAND_ARG_STRING, false },
    { NULL, 0, false },
};

static const CommandArg ssh_add_args[] = {
    { "username", COMMAND_ARG_STRING, false },
    { "keys", COMMAND_ARG_STRING_LIST, false },
    { "reset", COMMAND_ARG_BOOL, true },
    { NULL, 0, false },
};

static const CommandArg ssh_remove_args[] = {
    { "username", COMMAND_ARG_STRING, false },
    { "keys", COMMAND_ARG_STRING_LIST, false },
    { NULL, 0, false },
};

const CommandSpec commands_ssh_keys[] = {
    { "guest-ssh-get-authorized-keys", cmd_ssh_get, ssh_get_args, 0 },
    { "guest-ssh-add-authorized-keys", cmd_ssh_add, ssh_add_args, 0 },
    { "guest-ssh-remove-authorized-keys", cmd_ssh_remove, ssh_remove_args, 0 },
};
const gsize commands_ssh_keys_count = G_N_ELEMENTS(commands_ssh_keys);
