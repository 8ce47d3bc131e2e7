/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * json-channel.h — a unix-socket client that sends JSON requests and hands
 * back the JSON values the peer sends, with a deadline on every call. The
 * QMP client and the agent client sit on top of it.
 *
 * Two framings, because the hosts we imitate differ:
 *   - JSON_CHANNEL_STREAM: the peer's bytes are a stream of JSON values
 *     (QEMU's and qemu-ga's own parser, via the protocol core's JsonStream);
 *     what cannot be parsed is skipped and counted.
 *   - JSON_CHANNEL_LINES: libvirt's framing (qemu_agent.c): every reply is
 *     one JSON object on one line ending in '\n'; a line that is not exactly
 *     one JSON value is an error, as it is for libvirt ("Unknown JSON reply").
 *
 * Deadlines are g_get_monotonic_time() values in microseconds.
 */
#ifndef QUIESCE_HOST_JSON_CHANNEL_H
#define QUIESCE_HOST_JSON_CHANNEL_H

#include <glib.h>

#include "common/protocol-glib.h"

typedef enum {
    JSON_CHANNEL_STREAM,
    JSON_CHANNEL_LINES,
} JsonChannelFraming;

typedef struct JsonChannel JsonChannel;

/* Connects to the unix socket at path, retrying until deadline (QEMU may not
 * have created it yet). */
JsonChannel *json_channel_connect(const char *path, JsonChannelFraming framing,
                                  gint64 deadline, GError **error);
void json_channel_free(JsonChannel *channel);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(JsonChannel, json_channel_free)

/* Sends bytes as they are (no newline added). */
gboolean json_channel_send(JsonChannel *channel, const char *bytes, gsize len,
                           gint64 deadline, GError **error);
/* Sends the value in wire form followed by '\n'. */
gboolean json_channel_send_value(JsonChannel *channel, const JsonValue *value,
                                 gint64 deadline, GError **error);

/* The next value the peer sent (transfer full), or NULL with
 * QUIESCE_ERROR_TIMED_OUT at the deadline, QUIESCE_ERROR_FAILED when the
 * peer closed or, in LINES framing, sent a line that is not one JSON value. */
JsonValue *json_channel_receive(JsonChannel *channel, gint64 deadline, GError **error);

/* From now on discard everything up to and including the next 0xFF byte,
 * buffered or still to come, and start parsing afresh after it: the 0xFF
 * sentinel qemu-ga puts before a guest-sync-delimited reply (docs/qga-reference.md §4).
 * Values already parsed are dropped too. */
void json_channel_await_sentinel(JsonChannel *channel);

/* How many unparsable pieces STREAM framing skipped so far. */
guint json_channel_garbage_count(const JsonChannel *channel);

#endif
