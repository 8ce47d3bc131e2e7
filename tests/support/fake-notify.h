/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fake-notify.h — test helper: systemd's side of the notification socket
 * (sd_notify(3)), a SOCK_DGRAM unix socket in the test's own directory,
 * recording each datagram the agent sends with the time it came.
 */
#ifndef QUIESCE_TESTS_FAKE_NOTIFY_H
#define QUIESCE_TESTS_FAKE_NOTIFY_H

#include <glib.h>

typedef struct FakeNotify FakeNotify;

/* Binds DIR/notify. (transfer full) */
FakeNotify *fake_notify_new(const char *dir, GError **error);
void fake_notify_free(FakeNotify *notify);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(FakeNotify, fake_notify_free)

/* This process's environment plus NOTIFY_SOCKET and, when watchdog_usec is
 * not 0, WATCHDOG_USEC, as systemd sets them for Type=notify. (transfer full) */
char **fake_notify_environ(const FakeNotify *notify, guint64 watchdog_usec);

/* The next datagram within timeout_ms, or NULL; *when_mono (may be NULL)
 * is g_get_monotonic_time() at its arrival. (transfer full) */
char *fake_notify_next(FakeNotify *notify, int timeout_ms, gint64 *when_mono);
/* Skips datagrams until one has the line `line` (e.g. "READY=1"); that
 * datagram, or NULL after timeout_ms. (transfer full) */
char *fake_notify_wait_for(FakeNotify *notify, const char *line, int timeout_ms,
                           gint64 *when_mono);

#endif
