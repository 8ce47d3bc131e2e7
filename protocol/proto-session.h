/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * proto-session.h — one QGA conversation: bytes in, replies out.
 *
 * Joins the streaming parser (json-stream.h) to the dispatcher and frames
 * replies exactly as qemu-ga does: each reply is one compact JSON value
 * followed by "\n", preceded by the 0xFF byte for guest-sync-delimited.
 * Requests are answered one at a time, in order. Knows nothing of transports:
 * the owner feeds bytes and receives reply bytes through a callback.
 */
#ifndef QUIESCE_PROTO_SESSION_H
#define QUIESCE_PROTO_SESSION_H

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
/* Drops partial input: called when the host (re)connects, so a request a
 * vanished client left half-written cannot swallow the next host's requests
 * (qemu-ga does not reset, docs/qga-reference.md §4). */
void proto_session_reset(ProtoSession *session);

#endif
