/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * proto-session.c — parser + dispatcher + reply framing; see the header.
 */
#include "protocol/proto-session.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/json-writer.h"
#include "protocol/proto-alloc.h"

#define QGA_SENTINEL_BYTE '\xff' /* qga/main.c QGA_SENTINEL_BYTE */

struct ProtoSession {
    Dispatcher *dispatcher;
    JsonStream *stream;
    ProtoSessionWrite write;
    void *opaque;
};

static void session_emit(void *opaque, JsonValue *value, ProtoError *error)
{
    ProtoSession *session = opaque;
    bool sentinel = false;
    json_autoptr *reply = dispatcher_handle(session->dispatcher, value, error, &sentinel);
    size_t len = 0;
    char *text;
    char *framed;

    if (!reply) {
        return;
    }
    text = json_value_to_wire(reply, &len);
    framed = proto_xmalloc(len + 2);
    size_t off = 0;
    if (sentinel) {
        framed[off++] = QGA_SENTINEL_BYTE;
    }
    memcpy(framed + off, text, len);
    off += len;
    framed[off++] = '\n';
    session->write(session->opaque, framed, off);
    free(framed);
    free(text);
}

ProtoSession *proto_session_new(Dispatcher *dispatcher, const JsonStreamLimits *limits,
                                ProtoSessionWrite write, void *opaque)
{
    ProtoSession *session = proto_xcalloc(1, sizeof(*session));
    session->dispatcher = dispatcher;
    session->write = write;
    session->opaque = opaque;
    session->stream = json_stream_new(limits, session_emit, session);
    return session;
}

void proto_session_free(ProtoSession *session)
{
    if (!session) {
        return;
    }
    json_stream_free(session->stream);
    free(session);
}

void proto_session_feed(ProtoSession *session, const char *bytes, size_t len)
{
    json_stream_feed(session->stream, bytes, len);
}

void proto_session_reset(ProtoSession *session)
{
    json_stream_reset(session->stream);
}
