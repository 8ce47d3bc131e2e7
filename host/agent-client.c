/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * agent-client.c — see the header.
 */
#include "host/agent-client.h"

#include <string.h>

#include "common/quiesce-error.h"

#define AGENT_SYNC_FIRST_WAIT_MS 100
#define AGENT_SYNC_MAX_WAIT_MS 1000

struct AgentClient {
    JsonChannel *channel;
    guint64 next_id;
};

static gint64 agent_deadline(int timeout_ms)
{
    return g_get_monotonic_time() + (gint64)timeout_ms * 1000;
}

AgentClient *agent_client_connect(const char *path, JsonChannelFraming framing,
                                  int timeout_ms, GError **error)
{
    g_autoptr(AgentClient) client = g_new0(AgentClient, 1);

    client->channel = json_channel_connect(path, framing, agent_deadline(timeout_ms), error);
    return client->channel ? g_steal_pointer(&client) : NULL;
}

void agent_client_free(AgentClient *client)
{
    if (!client) {
        return;
    }
    json_channel_free(client->channel);
    g_free(client);
}

static JsonValue *agent_request_new(const char *command, JsonValue *arguments)
{
    JsonValue *request = json_object_new();

    json_object_set_string(request, "execute", command);
    if (arguments) {
        json_object_set(request, "arguments", arguments);
    }
    return request;
}

/* The reply's integer "return", if it has one. */
static gboolean agent_reply_int(const JsonValue *reply, gint64 *out)
{
    int64_t value;

    if (!json_value_get_int(json_object_get(reply, "return"), &value)) {
        return FALSE;
    }
    *out = value;
    return TRUE;
}

static gboolean agent_send_sync_delimited(AgentClient *client, gint64 id, gint64 deadline,
                                          GError **error)
{
    g_autoptr(JsonValue) arguments = json_object_new();
    g_autoptr(JsonValue) request = NULL;

    json_object_set_int(arguments, "id", id);
    request = agent_request_new("guest-sync-delimited", g_steal_pointer(&arguments));
    /* 0xFF first: the agent drops any partial input it holds (qemu-ga's
     * docs), and answers it with a parse error, which the sentinel skips. */
    return json_channel_send(client->channel, "\xff", 1, deadline, error) &&
           json_channel_send_value(client->channel, request, deadline, error);
}

gboolean agent_client_sync(AgentClient *client, int timeout_ms, guint *attempts, GError **error)
{
    gint64 deadline = agent_deadline(timeout_ms);
    g_autoptr(GArray) ids = g_array_new(FALSE, FALSE, sizeof(gint64));
    int wait_ms = AGENT_SYNC_FIRST_WAIT_MS;

    for (;;) {
        gint64 id = g_random_int_range(1, G_MAXINT32);
        gint64 round_end;

        g_array_append_val(ids, id);
        if (attempts) {
            *attempts = ids->len;
        }
        json_channel_await_sentinel(client->channel);
        if (!agent_send_sync_delimited(client, id, deadline, error)) {
            return FALSE;
        }
        round_end = MIN(deadline, agent_deadline(wait_ms));
        for (;;) {
            g_autoptr(GError) local = NULL;
            g_autoptr(JsonValue) reply = json_channel_receive(client->channel, round_end, &local);
            gint64 got;

            if (!reply) {
                if (!g_error_matches(local, QUIESCE_ERROR, QUIESCE_ERROR_TIMED_OUT)) {
                    g_propagate_error(error, g_steal_pointer(&local));
                    return FALSE;
                }
                break;
            }
            if (!agent_reply_int(reply, &got)) {
                continue;
            }
            for (guint i = 0; i < ids->len; i++) {
                if (g_array_index(ids, gint64, i) == got) {
                    return TRUE;
                }
            }
            /* A reply to an older sync: the next sentinel comes with ours. */
            json_channel_await_sentinel(client->channel);
        }
        if (g_get_monotonic_time() >= deadline) {
            g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_TIMED_OUT,
                        "the agent did not answer guest-sync-delimited in %d ms "
                        "(%u attempts)", timeout_ms, ids->len);
            return FALSE;
        }
        wait_ms = MIN(wait_ms * 2, AGENT_SYNC_MAX_WAIT_MS);
    }
}

gboolean agent_client_sync_libvirt(AgentClient *client, int timeout_ms, gint64 *out_id,
                                   GError **error)
{
    gint64 deadline = agent_deadline(timeout_ms);
    gint64 id = g_get_real_time() / 1000;
    g_autofree char *wire = NULL;

    *out_id = id;
    /* Byte for byte what libvirt writes (qemuAgentGuestSync). */
    wire = g_strdup_printf("{\"execute\":\"guest-sync\", \"arguments\":{\"id\":%" G_GINT64_FORMAT
                           "}}\n", id);
    if (!json_channel_send(client->channel, wire, strlen(wire), deadline, error)) {
        return FALSE;
    }
    for (;;) {
        g_autoptr(JsonValue) reply = json_channel_receive(client->channel, deadline, error);
        gint64 got;

        if (!reply) {
            g_prefix_error(error, "guest-sync: ");
            return FALSE;
        }
        if (agent_reply_int(reply, &got) && got == id) {
            return TRUE;
        }
        /* libvirt: "Ignoring delayed reply on sync" */
    }
}

static JsonValue *agent_reply_result(const char *command, JsonValue *reply, GError **error)
{
    JsonValue *failure = json_object_get(reply, "error");

    if (failure) {
        const char *error_class = json_object_get_string(failure, "class");
        const char *desc = json_object_get_string(failure, "desc");
        gboolean not_found = error_class && strcmp(error_class, "CommandNotFound") == 0;

        g_set_error(error, QUIESCE_ERROR, not_found ? QUIESCE_ERROR_NOT_FOUND : QUIESCE_ERROR_FAILED,
                    "%s: %s: %s", command, error_class ? error_class : "?", desc ? desc : "?");
        return NULL;
    }
    if (!json_object_has(reply, "return")) {
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED,
                    "%s: a reply with neither return nor error", command);
        return NULL;
    }
    return json_value_copy(json_object_get(reply, "return"));
}

JsonValue *agent_client_execute(AgentClient *client, const char *command, JsonValue *arguments,
                                gboolean with_id, int timeout_ms, GError **error)
{
    gint64 deadline = agent_deadline(timeout_ms);
    g_autoptr(JsonValue) request = agent_request_new(command, arguments);
    g_autofree char *id = g_strdup_printf("qb-%" G_GUINT64_FORMAT, ++client->next_id);

    if (with_id) {
        json_object_set_string(request, "id", id);
    }
    if (!json_channel_send_value(client->channel, request, deadline, error)) {
        g_prefix_error(error, "%s: ", command);
        return NULL;
    }
    for (;;) {
        g_autoptr(JsonValue) reply = json_channel_receive(client->channel, deadline, error);
        const char *reply_id;

        if (!reply) {
            g_prefix_error(error, "%s: ", command);
            return NULL;
        }
        reply_id = json_object_get_string(reply, "id");
        if (with_id && (!reply_id || strcmp(reply_id, id) != 0)) {
            continue; /* a late reply to something earlier */
        }
        return agent_reply_result(command, reply, error);
    }
}

JsonValue *agent_client_execute_text(AgentClient *client, const char *command, const char *text,
                                     int timeout_ms, GError **error)
{
    gint64 deadline = agent_deadline(timeout_ms);
    g_autoptr(JsonValue) reply = NULL;

    if (!json_channel_send(client->channel, text, strlen(text), deadline, error)) {
        g_prefix_error(error, "%s: ", command);
        return NULL;
    }
    reply = json_channel_receive(client->channel, deadline, error);
    if (!reply) {
        g_prefix_error(error, "%s: ", command);
        return NULL;
    }
    return agent_reply_result(command, reply, error);
}

gboolean agent_client_send(AgentClient *client, const char *command, JsonValue *arguments,
                           GError **error)
{
    g_autoptr(JsonValue) request = agent_request_new(command, arguments);

    json_object_set_string(request, "id", "qb-no-wait");
    return json_channel_send_value(client->channel, request, agent_deadline(1000), error);
}

char *agent_reply_reasons(const JsonValue *reply)
{
    JsonValue *reasons = json_object_get(reply, "reasons");
    g_autoptr(GString) text = g_string_new(NULL);

    for (size_t i = 0; reasons && i < json_array_length(reasons); i++) {
        JsonValue *reason = json_array_get(reasons, i);
        const char *code = json_object_get_string(reason, "code");
        const char *mountpoint = json_object_get_string(reason, "mountpoint");
        const char *message = json_object_get_string(reason, "message");

        g_string_append_printf(text, "%s%s%s%s: %s", i ? "; " : "", code ? code : "?",
                               mountpoint ? " " : "", mountpoint ? mountpoint : "",
                               message ? message : "");
    }
    return g_string_free(g_steal_pointer(&text), FALSE);
}

char *agent_reply_mountpoints(const JsonValue *array)
{
    g_autoptr(GString) text = g_string_new(NULL);

    for (size_t i = 0; array && i < json_array_length(array); i++) {
        JsonValue *item = json_array_get(array, i);
        const char *s = json_value_type(item) == JSON_TYPE_STRING
                            ? json_string_get(item)
                            : json_object_get_string(item, "mountpoint");
        g_string_append_printf(text, "%s%s", i ? " " : "", s ? s : "?");
    }
    return g_string_free(g_steal_pointer(&text), FALSE);
}
