/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * service-notify-none.c — service-notify.h without libsystemd: every call
 * does nothing, as with NOTIFY_SOCKET unset.
 */
#include "agent/service-notify.h"

struct ServiceNotify {
    int unused;
};

ServiceNotify *service_notify_new(void)
{
    return g_new0(ServiceNotify, 1);
}

void service_notify_free(ServiceNotify *notify)
{
    g_free(notify);
}

void service_notify_ready(ServiceNotify *notify, const char *status)
{
}

void service_notify_status(ServiceNotify *notify, const char *status)
{
}

void service_notify_stopping(ServiceNotify *notify, const char *status)
{
}

guint64 service_notify_watchdog_start(ServiceNotify *notify, guint64 min_usec)
{
    return 0;
}
