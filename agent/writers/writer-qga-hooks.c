/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * writer-qga-hooks.c — qemu-ga's hook setting, as the header lists it.
 */
#include "agent/writers/writer-qga-hooks.h"

/* The hook path in qemu-ga's own configuration file, or NULL. */
static char *qga_hooks_from_conf(const char *path)
{
    g_autoptr(GKeyFile) file = g_key_file_new();
    g_autofree char *hook = NULL;

    if (!g_key_file_load_from_file(file, path, G_KEY_FILE_NONE, NULL)) {
        return NULL;
    }
    hook = g_key_file_get_string(file, "general", "fsfreeze-hook", NULL);
    if (!hook) {
        return NULL;
    }
    g_strstrip(hook);
    return *hook ? g_steal_pointer(&hook) : g_strdup(WRITER_QGA_HOOK_DEFAULT);
}

/* The value of NAME=... in a shell variables file (one assignment a line,
 * optionally quoted), or NULL. */
static char *qga_hooks_shell_var(const char *path, const char *name)
{
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;
    g_autofree char *prefix = g_strconcat(name, "=", NULL);
    char *value = NULL;

    if (!g_file_get_contents(path, &text, NULL, NULL)) {
        return NULL;
    }
    lines = g_strsplit(text, "\n", -1);
    for (char **line = lines; *line; line++) {
        const char *start = *line + strspn(*line, " \t");
        if (g_str_has_prefix(start, "export ")) {
            start += strlen("export ");
        }
        if (g_str_has_prefix(start, prefix)) {
            g_autofree char *raw = g_strstrip(g_strdup(start + strlen(prefix)));
            g_free(value); /* the last assignment counts */
            value = g_shell_unquote(raw, NULL);
        }
    }
    return value;
}

/* The hook path given by -F / --fsfreeze-hook in qemu-ga's arguments, or NULL. */
static char *qga_hooks_from_args(const char *args)
{
    g_auto(GStrv) argv = NULL;

    if (!args || !g_shell_parse_argv(args, NULL, &argv, NULL)) {
        return NULL;
    }
    for (char **arg = argv; *arg; arg++) {
        if (g_str_equal(*arg, "-F") || g_str_equal(*arg, "--fsfreeze-hook")) {
            /* qemu-ga's optional argument: only attached counts as the path */
            return g_strdup(WRITER_QGA_HOOK_DEFAULT);
        }
        if (g_str_has_prefix(*arg, "--fsfreeze-hook=")) {
            return g_strdup(*arg + strlen("--fsfreeze-hook="));
        }
        if (g_str_has_prefix(*arg, "-F")) {
            return g_strdup(*arg + 2);
        }
    }
    return NULL;
}

char **writer_qga_hooks_detect(const char *root, char **out_source)
{
    g_autofree char *conf = g_build_filename(root, "etc/qemu/qemu-ga.conf", NULL);
    g_autofree char *debian = g_build_filename(root, "etc/default/qemu-guest-agent", NULL);
    g_autofree char *rhel = g_build_filename(root, "etc/sysconfig/qemu-ga", NULL);
    g_autofree char *args = qga_hooks_shell_var(debian, "DAEMON_ARGS");
    g_autofree char *hook = NULL;
    const char *source = NULL;
    g_autoptr(GStrvBuilder) dirs = g_strv_builder_new();

    if ((hook = qga_hooks_from_conf(conf))) {
        source = "/etc/qemu/qemu-ga.conf [general] fsfreeze-hook";
    } else if ((hook = qga_hooks_from_args(args))) {
        source = "/etc/default/qemu-guest-agent DAEMON_ARGS -F";
    } else if ((hook = qga_hooks_shell_var(rhel, "FSFREEZE_HOOK_PATHNAME")) && *hook) {
        source = "/etc/sysconfig/qemu-ga FSFREEZE_HOOK_PATHNAME";
    } else {
        g_clear_pointer(&hook, g_free);
    }
    if (hook) {
        g_autofree char *dir = g_strconcat(hook, ".d", NULL);
        g_strv_builder_add(dirs, dir);
    }
    if (out_source) {
        *out_source = hook ? g_strdup_printf("%s (%s)", source, hook) : NULL;
    }
    return g_strv_builder_end(dirs);
}
