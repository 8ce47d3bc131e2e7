/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * service-notify.h — telling the service manager how the agent is doing,
 * with systemd's notification protocol (sd_notify(3), Type=notify): READY=1
 * once every channel listens, STATUS= saying frozen or thawed, WATCHDOG=1
 * pings from the main loop, STOPPING=1 when a stop begins.
 *
 * Without NOTIFY_SOCKET in the environment (not started by systemd, or by
 * another init) every call does nothing, and so does the whole module when
 * built without libsystemd (service-notify-none.c): the agent needs no
 * service manager. Nothing else in the daemon knows about systemd.
 */
#ifndef QUIESCE_AGENT_SERVICE_NOTIFY_H
#define QUIESCE_AGENT_SERVICE_NOTIFY_H

#include <glib.h>

typedef struct ServiceNotify ServiceNotify;

/* Reads NOTIFY_SOCKET and WATCHDOG_USEC from the environment. (transfer full) */
ServiceNotify *service_notify_new(void);
void service_notify_free(ServiceNotify *notify);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ServiceNotify, service_notify_free)

/* READY=1, with a STATUS= line. */
void service_notify_ready(ServiceNotify *notify, const char *status);
/* STATUS= only. */
void service_notify_status(ServiceNotify *notify, const char *status);
/* STOPPING=1, with a STATUS= line. */
void service_notify_stopping(ServiceNotify *notify, const char *status);

/*
 * When the manager asked for a watchdog (WATCHDOG_USEC), pings WATCHDOG=1
 * at half its interval from a timeout on the thread-default main context:
 * a loop that hangs stops pinging and gets killed, and its successor thaws
 * (docs/design.md §7); a loop that waits, frozen or not, keeps pinging.
 *
 * A request blocks the loop for up to min_usec (the writers' phases run to
 * their time limits inside it); an interval shorter than that is raised to
 * it with WATCHDOG_USEC=, and logged, so a slow writer within its limits
 * never gets the agent killed. Returns the interval in force, in µs; 0
 * when there is no watchdog.
 */
guint64 service_notify_watchdog_start(ServiceNotify *notify, guint64 min_usec);

#endif
