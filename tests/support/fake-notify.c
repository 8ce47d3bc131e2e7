/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fake-notify.c — see the header.
 */
#include "tests/support/fake-notify.h"

#include <errno.h>
#include <gio/gio.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

struct FakeNotify {
    int fd;
    char *path;
};

FakeNotify *fake_notify_new(const char *dir, GError **error)
{
    g_autoptr(FakeNotify) notify = g_new0(FakeNotify, 1);
    struct sockaddr_un addr = { .sun_family = AF_UNIX };

    notify->path = g_build_filename(dir, "notify", NULL);
    notify->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    g_strlcpy(addr.sun_path, notify->path, sizeof(addr.sun_path));
    if (notify->fd < 0 || bind(notify->fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "%s: %s", notify->path,
                    g_strerror(errno));
        return NULL;
    }
    return g_steal_pointer(&notify);
}

void fake_notify_free(FakeNotify *notify)
{
    if (!notify) {
        return;
    }
    if (notify->fd >= 0) {
        close(notify->fd);
    }
    unlink(notify->path);
    g_free(notify->path);
    g_free(notify);
}

char **fake_notify_environ(const FakeNotify *notify, guint64 watchdog_usec)
{
    char **env = g_get_environ();

    env = g_environ_setenv(env, "NOTIFY_SOCKET", notify->path, TRUE);
    env = g_environ_unsetenv(env, "WATCHDOG_PID");
    if (watchdog_usec) {
        g_autofree char *usec = g_strdup_printf("%" G_GUINT64_FORMAT, watchdog_usec);
        env = g_environ_setenv(env, "WATCHDOG_USEC", usec, TRUE);
    } else {
        env = g_environ_unsetenv(env, "WATCHDOG_USEC");
    }
    return env;
}

char *fake_notify_next(FakeNotify *notify, int timeout_ms, gint64 *when_mono)
{
    struct pollfd pfd = { .fd = notify->fd, .events = POLLIN };
    char buf[4096];
    ssize_t n;

    if (poll(&pfd, 1, timeout_ms) <= 0) {
        return NULL;
    }
    n = recv(notify->fd, buf, sizeof(buf) - 1, 0);
    if (n < 0) {
        return NULL;
    }
    if (when_mono) {
        *when_mono = g_get_monotonic_time();
    }
    return g_strndup(buf, (gsize)n);
}

char *fake_notify_wait_for(FakeNotify *notify, const char *line, int timeout_ms,
                           gint64 *when_mono)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;

    for (;;) {
        int left = (int)((deadline - g_get_monotonic_time()) / 1000);
        g_autofree char *got = left > 0 ? fake_notify_next(notify, left, when_mono) : NULL;
        g_auto(GStrv) lines = NULL;

        if (!got) {
            return NULL;
        }
        lines = g_strsplit(got, "\n", -1);
        if (g_strv_contains((const char *const *)lines, line)) {
            return g_steal_pointer(&got);
        }
    }
}
