/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * service-notify-systemd.c — service-notify.h over libsystemd's sd_notify();
 * built when libsystemd is found (service-notify-none.c otherwise).
 */
#include "agent/service-notify.h"

#include <systemd/sd-daemon.h>

struct ServiceNotify {
    gboolean enabled;   /* NOTIFY_SOCKET was set */
    guint64 watchdog_usec;
    guint watchdog;     /* the ping's timeout source, or 0 */
};

ServiceNotify *service_notify_new(void)
{
    ServiceNotify *notify = g_new0(ServiceNotify, 1);
    uint64_t usec = 0;

    notify->enabled = g_getenv("NOTIFY_SOCKET") != NULL;
    /* > 0 only when WATCHDOG_USEC is set and WATCHDOG_PID, if set, is us. */
    if (notify->enabled && sd_watchdog_enabled(0, &usec) > 0) {
        notify->watchdog_usec = usec;
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

static void service_notify_send(ServiceNotify *notify, const char *state)
{
    int r;

    if (!notify->enabled) {
        return;
    }
    r = sd_notify(0, state);
    if (r < 0) {
        g_debug("sd_notify: %s", g_strerror(-r));
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
