/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sysfs.c — read-only sysfs helpers; see the header.
 */
#include "fsfreeze/sysfs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

GBytes *sysfs_attr_read_bytes(const char *dir, const char *attr)
{
    g_autofree char *path = g_build_filename(dir, attr, NULL);
    g_autofree char *contents = NULL;
    gsize len = 0;

    if (!g_file_get_contents(path, &contents, &len, NULL) || len > SYSFS_ATTR_MAX) {
        return NULL;
    }
    return g_bytes_new_take(g_steal_pointer(&contents), len);
}

char *sysfs_attr_read(const char *dir, const char *attr)
{
    g_autoptr(GBytes) bytes = sysfs_attr_read_bytes(dir, attr);
    gsize len = 0;
    const char *data;

    if (!bytes) {
        return NULL;
    }
    data = g_bytes_get_data(bytes, &len);
    /* A text attribute stops at the first NUL (virtio-blk's serial is a
     * NUL-padded 20-byte field on some kernels). */
    return g_strstrip(g_strndup(data ? data : "", len));
}

gboolean sysfs_attr_exists(const char *dir, const char *attr)
{
    g_autofree char *path = g_build_filename(dir, attr, NULL);
    return g_file_test(path, G_FILE_TEST_EXISTS);
}

char *sysfs_uevent_get(const char *dir, const char *key)
{
    g_autofree char *text = sysfs_attr_read(dir, "uevent");
    g_auto(GStrv) lines = NULL;
    gsize key_len = strlen(key);

    if (!text) {
        return NULL;
    }
    lines = g_strsplit(text, "\n", -1);
    for (guint i = 0; lines[i]; i++) {
        if (strncmp(lines[i], key, key_len) == 0 && lines[i][key_len] == '=') {
            return g_strdup(lines[i] + key_len + 1);
        }
    }
    return NULL;
}

gboolean sysfs_devno_parse(const char *text, dev_t *devno)
{
    guint64 major_num, minor_num;
    char *end = NULL;

    if (!text || !g_ascii_isdigit(text[0])) {
        return FALSE;
    }
    errno = 0;
    major_num = g_ascii_strtoull(text, &end, 10);
    if (errno || *end != ':' || !g_ascii_isdigit(end[1])) {
        return FALSE;
    }
    minor_num = g_ascii_strtoull(end + 1, &end, 10);
    if (errno || (*end && !g_ascii_isspace(*end)) || major_num > G_MAXUINT32 ||
        minor_num > G_MAXUINT32) {
        return FALSE;
    }
    *devno = makedev((unsigned int)major_num, (unsigned int)minor_num);
    return TRUE;
}

char *sysfs_devno_format(dev_t devno)
{
    return g_strdup_printf("%u:%u", major(devno), minor(devno));
}

char *sysfs_path_resolve(const char *path)
{
    char *resolved = realpath(path, NULL);
    char *copy;

    if (!resolved) {
        return NULL;
    }
    /* realpath() allocates with malloc; hand out GLib memory. */
    copy = g_strdup(resolved);
    free(resolved);
    return copy;
}

char *sysfs_link_basename(const char *dir, const char *link)
{
    g_autofree char *path = g_build_filename(dir, link, NULL);
    g_autofree char *target = g_file_read_link(path, NULL);

    if (!target) {
        return NULL;
    }
    return g_path_get_basename(target);
}

char *sysfs_path_relative(const char *root, const char *path)
{
    g_autofree char *real_root = sysfs_path_resolve(root);
    gsize len;

    if (!real_root) {
        return NULL;
    }
    len = strlen(real_root);
    if (len == 1) { /* root is "/" */
        return g_strdup(path);
    }
    if (strncmp(path, real_root, len) != 0 || (path[len] != '/' && path[len] != '\0')) {
        return NULL;
    }
    return g_strdup(path[len] ? path + len : "/");
}
