/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * service-notify-systemd.c — service-notify.h: systemd's notification
 * protocol spoken directly (docs/design.md §7, "The service manager's
 * watchdog"), one datagram per message on the unix socket NOTIFY_SOCKET
 * names, as sd_notify(3) sends it. Not linking libsystemd for this keeps
 * libsystemd and what it loads (libgcrypt, liblzma, libzstd, liblz4,
 * libcap) out of the agent's memory.
 */
#include "agent/service-notify.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

struct ServiceNotify {
    gboolean enabled;   /* NOTIFY_SOCKET names a socket we can address */
    struct sockaddr_un address;
    socklen_t address_len;
    guint64 watchdog_usec;
    guint watchdog;     /* the ping's timeout source, or 0 */
};

/* NOTIFY_SOCKET: a path, or "@name" for the abstract namespace. */
static gboolean service_notify_address(ServiceNotify *notify, const char *socket_name)
{
    size_t len = strlen(socket_name);

    if ((socket_name[0] != '/' && socket_name[0] != '@') || len < 2 ||
        len >= sizeof(notify->address.sun_path)) {
        g_debug("NOTIFY_SOCKET=%s: not a unix socket address, not notifying", socket_name);
        return FALSE;
    }
    notify->address.sun_family = AF_UNIX;
    memcpy(notify->address.sun_path, socket_name, len);
    if (socket_name[0] == '@') {
        notify->address.sun_path[0] = '\0';
        notify->address_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
    } else {
        notify->address_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + 1);
    }
    return TRUE;
}

/* WATCHDOG_USEC, when set to a positive number and WATCHDOG_PID, if set,
 * names this process; else 0. */
static guint64 service_notify_watchdog_usec(void)
{
    const char *usec = g_getenv("WATCHDOG_USEC");
    const char *pid = g_getenv("WATCHDOG_PID");
    guint64 value = 0;

    if (!usec || !g_ascii_string_to_unsigned(usec, 10, 1, G_MAXUINT64, &value, NULL)) {
        return 0;
    }
    if (pid) {
        guint64 owner = 0;

        if (!g_ascii_string_to_unsigned(pid, 10, 1, G_MAXINT, &owner, NULL) ||
            owner != (guint64)getpid()) {
            return 0;
        }
    }
    return value;
}

ServiceNotify *service_notify_new(void)
{
    ServiceNotify *notify = g_new0(ServiceNotify, 1);
    const char *socket_name = g_getenv("NOTIFY_SOCKET");

    notify->enabled = socket_name && service_notify_address(notify, socket_name);
    if (notify->enabled) {
        notify->watchdog_usec = service_notify_watchdog_usec();
    }
    return notify;
}

void service_notify_free(ServiceNotify *notify)
{
    if (!notify) {
        return;
    }
    g_clear_handle_id(&notify->watchdog, g_source_remove);
    g_free(notify);
}

/* One datagram, as sd_notify() sends it; a failure is only logged (the
 * agent works the same without its service manager). */
static void service_notify_send(ServiceNotify *notify, const char *state)
{
    int fd;

    if (!notify->enabled) {
        return;
    }
    fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || sendto(fd, state, strlen(state), MSG_NOSIGNAL,
                         (const struct sockaddr *)&notify->address, notify->address_len) < 0) {
        g_debug("notifying the service manager: %s", g_strerror(errno));
    }
    if (fd >= 0) {
        close(fd);
    }
}

static void service_notify_with_status(ServiceNotify *notify, const char *head,
                                       const char *status)
{
    g_autofree char *state = g_strdup_printf("%s%sSTATUS=%s", head ? head : "", head ? "\n" : "",
                                             status);
    service_notify_send(notify, state);
}

void service_notify_ready(ServiceNotify *notify, const char *status)
{
    service_notify_with_status(notify, "READY=1", status);
}

void service_notify_status(ServiceNotify *notify, const char *status)
{
    service_notify_with_status(notify, NULL, status);
}

void service_notify_stopping(ServiceNotify *notify, const char *status)
{
    service_notify_with_status(notify, "STOPPING=1", status);
}

static gboolean service_notify_ping(gpointer user_data)
{
    service_notify_send(user_data, "WATCHDOG=1");
    return G_SOURCE_CONTINUE;
}

guint64 service_notify_watchdog_start(ServiceNotify *notify, guint64 min_usec)
{
    if (!notify->watchdog_usec) {
        return 0;
    }
    if (notify->watchdog_usec < min_usec) {
        g_autofree char *state = g_strdup_printf("WATCHDOG_USEC=%" G_GUINT64_FORMAT, min_usec);
        g_message("watchdog: raising WatchdogSec from %" G_GUINT64_FORMAT " ms to %" G_GUINT64_FORMAT
                  " ms, the longest a request may keep the agent busy with these writer and "
                  "freeze limits",
                  notify->watchdog_usec / 1000, min_usec / 1000);
        service_notify_send(notify, state);
        notify->watchdog_usec = min_usec;
    }
    g_clear_handle_id(&notify->watchdog, g_source_remove);
    service_notify_ping(notify);
    notify->watchdog = g_timeout_add((guint)MAX(notify->watchdog_usec / 2 / 1000, 1),
                                     service_notify_ping, notify);
    return notify->watchdog_usec;
}
