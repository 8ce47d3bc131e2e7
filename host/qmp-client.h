/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * qmp-client.h — a QMP client for the QEMU monitor's unix socket: reads the
 * greeting, negotiates with qmp_capabilities, then runs one command at a time
 * with an "id" and a timeout, skipping events (QEMU's docs/interop/qmp-spec).
 */
#ifndef QUIESCE_HOST_QMP_CLIENT_H
#define QUIESCE_HOST_QMP_CLIENT_H

#include <glib.h>

#include "host/json-channel.h"

typedef struct QmpClient QmpClient;

QmpClient *qmp_client_connect(const char *path, int timeout_ms, GError **error);
void qmp_client_free(QmpClient *client);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(QmpClient, qmp_client_free)

/* Runs command with arguments (transfer full, may be NULL). Returns the
 * "return" member (transfer full); an error reply becomes a GError with
 * QEMU's "desc" (QUIESCE_ERROR_FAILED), no reply in time TIMED_OUT. */
JsonValue *qmp_client_execute(QmpClient *client, const char *command, JsonValue *arguments,
                              int timeout_ms, GError **error);

#endif
