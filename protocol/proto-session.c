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

/* One input event that waits for the gate. */
typedef struct Waiting {
    JsonValue *value; /* owned, or NULL */
    ProtoError *error; /* owned, or NULL */
    struct Waiting *next;
} Waiting;

struct ProtoSession {
    Dispatcher *dispatcher;
    JsonStream *stream;
    ProtoSessionWrite write;
    void *opaque;
    ProtoSessionGate gate;
    Waiting *head; /* oldest first */
    Waiting *tail;
};

static void session_handle(ProtoSession *session, JsonValue *value, ProtoError *error)
{
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

static void session_emit(void *opaque, JsonValue *value, ProtoError *error)
{
    ProtoSession *session = opaque;
    Waiting *waiting;

    if (!session->head && (!session->gate || session->gate(session->opaque, value))) {
        session_handle(session, value, error);
        return;
    }
    waiting = proto_xcalloc(1, sizeof(*waiting));
    waiting->value = value;
    waiting->error = error;
    if (session->tail) {
        session->tail->next = waiting;
    } else {
        session->head = waiting;
    }
    session->tail = waiting;
}

void proto_session_set_gate(ProtoSession *session, ProtoSessionGate gate)
{
    session->gate = gate;
}

bool proto_session_is_waiting(const ProtoSession *session)
{
    return session->head != NULL;
}

void proto_session_resume(ProtoSession *session)
{
    while (session->head && (!session->gate || session->gate(session->opaque,
                                                             session->head->value))) {
        Waiting *waiting = session->head;

        session->head = waiting->next;
        if (!session->head) {
            session->tail = NULL;
        }
        session_handle(session, waiting->value, waiting->error);
        free(waiting);
    }
}

static void session_drop_waiting(ProtoSession *session)
{
    while (session->head) {
        Waiting *waiting = session->head;

        session->head = waiting->next;
        json_value_free(waiting->value);
        proto_error_free(waiting->error);
        free(waiting);
    }
    session->tail = NULL;
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
    session_drop_waiting(session);
    free(session);
}

void proto_session_feed(ProtoSession *session, const char *bytes, size_t len)
{
    json_stream_feed(session->stream, bytes, len);
}

void proto_session_reset(ProtoSession *session)
{
    json_stream_reset(session->stream);
    session_drop_waiting(session);
}
