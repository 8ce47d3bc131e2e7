/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * proto-session.h — one QGA conversation: bytes in, replies out.
 *
 * Joins the streaming parser (json-stream.h) to the dispatcher and frames
 * replies exactly as qemu-ga does: each reply is one compact JSON value
 * followed by "\n", preceded by the 0xFF byte for guest-sync-delimited.
 * Requests are answered one at a time, in order. Knows nothing of transports:
 * the owner feeds bytes and receives reply bytes through a callback.
 *
 * A gate (optional) may make a request wait: then it and everything parsed
 * after it (stream errors too) wait, in order, until
 * proto_session_resume() finds the gate open again. Replies therefore
 * always leave in request order.
 */
#ifndef QUIESCE_PROTO_SESSION_H
#define QUIESCE_PROTO_SESSION_H

#include <stdbool.h>
#include <stddef.h>

#include "dispatcher.h"
#include "json-stream.h"

/* Receives one whole reply (borrowed bytes). */
typedef void (*ProtoSessionWrite)(void *opaque, const char *bytes, size_t len);

typedef struct ProtoSession ProtoSession;

/* dispatcher is borrowed; limits may be NULL for qemu-ga's. */
ProtoSession *proto_session_new(Dispatcher *dispatcher, const JsonStreamLimits *limits,
                                ProtoSessionWrite write, void *opaque);
void proto_session_free(ProtoSession *session);
void proto_session_feed(ProtoSession *session, const char *bytes, size_t len);

/* false: request (borrowed; NULL for a stream error) must wait. */
typedef bool (*ProtoSessionGate)(void *opaque, const JsonValue *request);
/* opaque is the write callback's. NULL: nothing waits. */
void proto_session_set_gate(ProtoSession *session, ProtoSessionGate gate);
/* Handles the waiting requests, in order, until the gate closes again or
 * none is left. */
void proto_session_resume(ProtoSession *session);
/* Whether requests are waiting. */
bool proto_session_is_waiting(const ProtoSession *session);
/* Drops partial input and the requests waiting (unanswered): called when the host (re)connects, so a request a
 * vanished client left half-written cannot swallow the next host's requests
 * (qemu-ga does not reset, docs/qga-reference.md §4). */
void proto_session_reset(ProtoSession *session);

#endif
