/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mountinfo.c — parser for /proc/self/mountinfo; see the header for the
 * format and why a malformed line is an error.
 */
#include "fsfreeze/mountinfo.h"

#include "common/quiesce-error.h"
#include "fsfreeze/sysfs.h"

#include <errno.h>
#include <string.h>

void mount_entry_free(MountEntry *entry)
{
    if (!entry) {
        return;
    }
    g_free(entry->root);
    g_free(entry->mountpoint);
    g_free(entry->mount_options);
    g_free(entry->fstype);
    g_free(entry->source);
    g_free(entry->super_options);
    g_free(entry);
}

static gboolean is_octal(char c)
{
    return c >= '0' && c <= '7';
}

char *mountinfo_unescape(const char *field)
{
    GString *out = g_string_sized_new(strlen(field));

    for (const char *p = field; *p; p++) {
        if (p[0] == '\\' && p[1] == '\\') {
            g_string_append_c(out, '\\');
            p++;
        } else if (p[0] == '\\' && p[1] >= '0' && p[1] <= '3' && is_octal(p[2]) &&
                   is_octal(p[3])) {
            g_string_append_c(out, (char)((p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0')));
            p += 3;
        } else {
            g_string_append_c(out, *p);
        }
    }
    return g_string_free(out, FALSE);
}

gboolean mountinfo_path_contains(const char *dir, const char *path)
{
    gsize len = strlen(dir);

    if (strcmp(dir, "/") == 0) {
        return path[0] == '/';
    }
    return strncmp(dir, path, len) == 0 && (path[len] == '/' || path[len] == '\0');
}

guint mountinfo_path_depth(const char *path)
{
    guint depth = 0;

    for (const char *p = path; *p; p++) {
        if (p[0] == '/' && p[1] != '/' && p[1] != '\0') {
            depth++;
        }
    }
    return depth;
}

gboolean mountinfo_options_has(const char *options, const char *option)
{
    g_auto(GStrv) parts = NULL;

    if (!options) {
        return FALSE;
    }
    parts = g_strsplit(options, ",", -1);
    return g_strv_contains((const char *const *)parts, option);
}

static gboolean parse_int(const char *text, int *value)
{
    char *end = NULL;
    gint64 v;

    errno = 0;
    v = g_ascii_strtoll(text, &end, 10);
    if (errno || end == text || *end || v < 0 || v > G_MAXINT) {
        return FALSE;
    }
    *value = (int)v;
    return TRUE;
}

/* Fills entry from the space-separated fields of one line. Empty fields are
 * kept by the split (a mount with an empty source prints two spaces). */
static gboolean parse_fields(char **fields, MountEntry *entry)
{
    guint n = g_strv_length(fields);
    guint dash = 6;

    if (n < 10) {
        return FALSE;
    }
    while (dash < n && strcmp(fields[dash], "-") != 0) {
        dash++; /* optional fields: shared:N, master:N, ... */
    }
    if (dash >= n || n != dash + 4) {
        return FALSE; /* exactly fstype, source, super-options follow "-" */
    }
    if (!parse_int(fields[0], &entry->id) || !parse_int(fields[1], &entry->parent_id) ||
        !sysfs_devno_parse(fields[2], &entry->dev) || fields[4][0] != '/' ||
        fields[dash + 1][0] == '\0') {
        return FALSE;
    }
    entry->root = mountinfo_unescape(fields[3]);
    entry->mountpoint = mountinfo_unescape(fields[4]);
    entry->mount_options = g_strdup(fields[5]);
    entry->fstype = g_strdup(fields[dash + 1]);
    entry->source = mountinfo_unescape(fields[dash + 2]);
    entry->super_options = g_strdup(fields[dash + 3]);
    entry->read_only = mountinfo_options_has(entry->mount_options, "ro");
    entry->super_read_only = mountinfo_options_has(entry->super_options, "ro");
    return TRUE;
}

GPtrArray *mountinfo_parse(const char *text, GError **error)
{
    g_autoptr(GPtrArray) entries = g_ptr_array_new_with_free_func((GDestroyNotify)mount_entry_free);
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);

    for (guint i = 0; lines[i]; i++) {
        g_auto(GStrv) fields = NULL;
        g_autoptr(MountEntry) entry = NULL;

        if (lines[i][0] == '\0') {
            continue;
        }
        fields = g_strsplit(lines[i], " ", -1);
        entry = g_new0(MountEntry, 1);
        if (!parse_fields(fields, entry)) {
            g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED,
                        "mountinfo line %u does not parse: %s", i + 1, lines[i]);
            return NULL;
        }
        g_ptr_array_add(entries, g_steal_pointer(&entry));
    }
    return g_steal_pointer(&entries);
}

GPtrArray *mountinfo_read(const char *path, GError **error)
{
    g_autofree char *text = NULL;
    g_autoptr(GError) local_error = NULL;

    if (!g_file_get_contents(path, &text, NULL, &local_error)) {
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED, "cannot read %s: %s", path,
                    local_error->message);
        return NULL;
    }
    return mountinfo_parse(text, error);
}
