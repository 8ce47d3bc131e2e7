/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * freezer-confine.c — the confinement guard of the freezer (freezer.h
 * FsFreezeOptions.confine_dir): a target outside the directory is refused
 * before any ioctl.
 */
#include "fsfreeze/freezer-private.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "common/quiesce-error.h"

/* ---- Confinement: the guard that keeps tests off the host's filesystems. ---- */

/*
 * Three checks, because a path check alone is fooled by symlinks and by a
 * plain directory that is not a mount: (1) the mountpoint, canonicalized
 * lexically, lies strictly below the confine dir; (2) the opened fd's real
 * path (/proc/self/fd) lies strictly below the confine dir's real path;
 * (3) the fd's filesystem is none of the filesystems holding the confine dir
 * or any of its ancestors, up to and including "/". Any doubt refuses.
 */


void confinement_free(Confinement *confinement)
{
    if (!confinement) {
        return;
    }
    g_free(confinement->lexical);
    g_free(confinement->real);
    g_array_unref(confinement->devs);
    g_free(confinement);
}


Confinement *confinement_new(const char *dir, GError **error)
{
    g_autoptr(Confinement) confinement = g_new0(Confinement, 1);
    confinement->devs = g_array_new(FALSE, FALSE, sizeof(dev_t));
    confinement->lexical = g_canonicalize_filename(dir, "/");
    confinement->real = realpath(dir, NULL);
    if (!confinement->real) {
        int saved = errno;
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_INVALID_ARGUMENT,
                    "confinement directory %s: %s", dir, g_strerror(saved));
        return NULL;
    }
    g_autofree char *path = g_strdup(confinement->real);
    for (;;) {
        struct stat st;
        if (stat(path, &st) != 0) {
            int saved = errno;
            g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_INVALID_ARGUMENT,
                        "confinement directory ancestor %s: %s", path, g_strerror(saved));
            return NULL;
        }
        g_array_append_val(confinement->devs, st.st_dev);
        if (strcmp(path, "/") == 0) {
            break;
        }
        char *parent = g_path_get_dirname(path);
        g_free(path);
        path = parent;
    }
    return g_steal_pointer(&confinement);
}

static gboolean path_is_strictly_below(const char *path, const char *dir)
{
    if (strcmp(dir, "/") == 0) {
        return path[0] == '/' && path[1] != '\0';
    }
    size_t len = strlen(dir);
    return strncmp(path, dir, len) == 0 && path[len] == '/' && path[len + 1] != '\0';
}

gboolean confinement_check_path(const Confinement *confinement, const char *mountpoint,
                                       GError **error)
{
    g_autofree char *canonical = g_canonicalize_filename(mountpoint, "/");
    if (!path_is_strictly_below(canonical, confinement->lexical)) {
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_INVALID_ARGUMENT,
                    "refusing to touch %s: not below the confinement directory %s",
                    mountpoint, confinement->lexical);
        return FALSE;
    }
    return TRUE;
}

gboolean confinement_check_fd(const Confinement *confinement, int fd,
                                     const char *mountpoint, dev_t dev, GError **error)
{
    g_autofree char *link = g_strdup_printf("/proc/self/fd/%d", fd);
    g_autofree char *real = g_file_read_link(link, NULL);
    if (!real || !path_is_strictly_below(real, confinement->real)) {
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_INVALID_ARGUMENT,
                    "refusing to touch %s: it resolves to %s, not below the "
                    "confinement directory %s", mountpoint, real ? real : "(unknown)",
                    confinement->real);
        return FALSE;
    }
    for (guint i = 0; i < confinement->devs->len; i++) {
        if (g_array_index(confinement->devs, dev_t, i) == dev) {
            g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_INVALID_ARGUMENT,
                        "refusing to touch %s: it is on the filesystem (%u:%u) that "
                        "holds the confinement directory %s or one of its parents",
                        mountpoint, major(dev), minor(dev), confinement->real);
            return FALSE;
        }
    }
    return TRUE;
}
