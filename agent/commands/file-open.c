/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * file-open.c — opening guest-file-open's files; see the header.
 */
#include "agent/commands/file-open.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/quiesce-error.h"

#define FILE_NEW_MODE 0666 /* whatever the umask, as qemu-ga */

/* "message: strerror(errsv)", as QEMU's error_setg_errno(). */
static void file_open_fail(GError **error, int errsv, const char *format, ...)
    G_GNUC_PRINTF(3, 4);
static void file_open_fail(GError **error, int errsv, const char *format, ...)
{
    va_list ap;
    g_autofree char *message = NULL;

    va_start(ap, format);
    message = g_strdup_vprintf(format, ap);
    va_end(ap);
    g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED, "%s: %s", message, g_strerror(errsv));
}

/* fopen()'s modes as open(2) flags (qemu-ga's table), or -1. */
static int file_mode_flags(const char *mode)
{
    static const struct {
        const char *forms[3];
        int flags;
    } modes[] = {
        { { "r" }, O_RDONLY },
        { { "rb" }, O_RDONLY },
        { { "w" }, O_WRONLY | O_CREAT | O_TRUNC },
        { { "wb" }, O_WRONLY | O_CREAT | O_TRUNC },
        { { "a" }, O_WRONLY | O_CREAT | O_APPEND },
        { { "ab" }, O_WRONLY | O_CREAT | O_APPEND },
        { { "r+" }, O_RDWR },
        { { "rb+", "r+b" }, O_RDWR },
        { { "w+" }, O_RDWR | O_CREAT | O_TRUNC },
        { { "wb+", "w+b" }, O_RDWR | O_CREAT | O_TRUNC },
        { { "a+" }, O_RDWR | O_CREAT | O_APPEND },
        { { "ab+", "a+b" }, O_RDWR | O_CREAT | O_APPEND },
    };

    for (gsize i = 0; i < G_N_ELEMENTS(modes); i++) {
        for (gsize f = 0; f < G_N_ELEMENTS(modes[i].forms) && modes[i].forms[f]; f++) {
            if (g_str_equal(modes[i].forms[f], mode)) {
                return modes[i].flags | O_NOCTTY | O_NONBLOCK | O_CLOEXEC;
            }
        }
    }
    return -1;
}

/*
 * A file that may be created is first created exclusively, so that only a
 * file we made gets mode 0666 whatever the umask, and only that one is
 * removed again when a later step fails (qemu-ga's safe_open_or_create()).
 */
FILE *file_open_stream(const char *path, const char *mode, GError **error)
{
    int flags = file_mode_flags(mode);
    gboolean created = (flags & O_CREAT) != 0;
    FILE *stream;
    int fd;

    if (flags < 0) {
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_INVALID_ARGUMENT,
                    "invalid file open mode '%s'", mode);
        return NULL;
    }
    fd = open(path, flags | (created ? O_EXCL : 0), 0);

    if (fd < 0 && errno == EEXIST && created) {
        created = FALSE;
        fd = open(path, flags & ~O_CREAT, 0);
    }
    if (fd < 0) {
        file_open_fail(error, errno, "failed to open file '%s' (mode: '%s')", path, mode);
        return NULL;
    }
    if (created && fchmod(fd, FILE_NEW_MODE) < 0) {
        int errsv = errno;
        close(fd);
        unlink(path);
        file_open_fail(error, errsv, "failed to set permission 0%03o on new file '%s' (mode: '%s')",
                       FILE_NEW_MODE, path, mode);
        return NULL;
    }
    stream = fdopen(fd, mode);
    if (!stream) {
        int errsv = errno;
        file_open_fail(error, errsv,
                       "failed to associate stdio stream with file descriptor %d, file '%s' "
                       "(mode: '%s')",
                       fd, path, mode);
        close(fd);
        if (created) {
            unlink(path);
        }
    }
    return stream;
}
