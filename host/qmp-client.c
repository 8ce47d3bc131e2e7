/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * qmp-client.c — see the header.
 */
#include "host/qmp-client.h"

#include <string.h>

#include "common/quiesce-error.h"

struct QmpClient {
    JsonChannel *channel;
    guint64 next_id;
};

static gint64 qmp_deadline(int timeout_ms)
{
    return g_get_monotonic_time() + (gint64)timeout_ms * 1000;
}

QmpClient *qmp_client_connect(const char *path, int timeout_ms, GError **error)
{
    gint64 deadline = qmp_deadline(timeout_ms);
    g_autoptr(QmpClient) client = g_new0(QmpClient, 1);
    g_autoptr(JsonValue) greeting = NULL;
    g_autoptr(JsonValue) negotiated = NULL;

    client->channel = json_channel_connect(path, JSON_CHANNEL_STREAM, deadline, error);
    if (!client->channel) {
        return NULL;
    }
    greeting = json_channel_receive(client->channel, deadline, error);
    if (!greeting) {
        g_prefix_error(error, "QMP greeting: ");
        return NULL;
    }
    if (!json_object_has(greeting, "QMP")) {
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED, "%s is not a QMP socket", path);
        return NULL;
    }
    negotiated = qmp_client_execute(client, "qmp_capabilities", NULL, timeout_ms, error);
    return negotiated ? g_steal_pointer(&client) : NULL;
}

void qmp_client_free(QmpClient *client)
{
    if (!client) {
        return;
    }
    json_channel_free(client->channel);
    g_free(client);
}

JsonValue *qmp_client_execute(QmpClient *client, const char *command, JsonValue *arguments,
                              int timeout_ms, GError **error)
{
    gint64 deadline = qmp_deadline(timeout_ms);
    g_autoptr(JsonValue) request = json_object_new();
    g_autofree char *id = g_strdup_printf("qb-%" G_GUINT64_FORMAT, ++client->next_id);

    json_object_set_string(request, "execute", command);
    if (arguments) {
        json_object_set(request, "arguments", arguments);
    }
    json_object_set_string(request, "id", id);
    if (!json_channel_send_value(client->channel, request, deadline, error)) {
        g_prefix_error(error, "QMP %s: ", command);
        return NULL;
    }
    for (;;) {
        g_autoptr(JsonValue) reply = json_channel_receive(client->channel, deadline, error);
        const char *reply_id;
        JsonValue *failure;

        if (!reply) {
            g_prefix_error(error, "QMP %s: ", command);
            return NULL;
        }
        reply_id = json_object_get_string(reply, "id");
        if (json_object_has(reply, "event") || !reply_id || strcmp(reply_id, id) != 0) {
            continue; /* events and stale replies */
        }
        failure = json_object_get(reply, "error");
        if (failure) {
            const char *desc = json_object_get_string(failure, "desc");
            g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED, "QMP %s: %s", command,
                        desc ? desc : "error without a description");
            return NULL;
        }
        if (!json_object_has(reply, "return")) {
            continue;
        }
        return json_value_copy(json_object_get(reply, "return"));
    }
}
