/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * channel.h — one host conversation over one transport, of either kind:
 *
 *   qga-channel.c     QGA: a byte stream of JSON requests through the
 *                     protocol core's session and the command dispatcher
 *   hv-vss-channel.c  Hyper-V's hv_vss records, mapped straight onto the
 *                     freeze engine (no JSON)
 *
 * The transport's framing (transports/transport.h) picks the kind from the
 * table in channel.c, so the agent opens every "KIND:ADDRESS" spec the same
 * way and no shared code asks which kind it is.
 */
#ifndef QUIESCE_AGENT_CHANNELS_CHANNEL_H
#define QUIESCE_AGENT_CHANNELS_CHANNEL_H

#include <glib.h>

#include "agent/engine/engine.h"
#include "protocol/dispatcher.h"
#include "protocol/json-stream.h"
#include "transports/transport.h"

typedef struct Channel Channel;

/* What the agent hears from a channel; every member may be NULL. Only
 * channels that carry QGA requests send them. */
typedef struct {
    /* After each reply is queued. */
    void (*replied)(gpointer owner);
    /* Around feeding input to a parser: every request dispatched in
     * between came on this channel's connection conn. */
    void (*feeding)(Channel *channel, TransportConn conn, gboolean begin, gpointer owner);
    /* A host (re)connected, or went away (possibly while its own input is
     * being fed). A listening channel has several connections at once. */
    void (*host_connected)(Channel *channel, TransportConn conn, gpointer owner);
    void (*host_disconnected)(Channel *channel, TransportConn conn, gpointer owner);
} ChannelEvents;

/* What a channel may use of the agent; everything borrowed, outliving the
 * channel. */
typedef struct {
    Engine *engine;
    Dispatcher *dispatcher;
    JsonStreamLimits limits;
    const ChannelEvents *events;
    gpointer owner;
} ChannelContext;

/* One row per kind, one file per kind. */
typedef struct {
    TransportFraming framing; /* the transports this kind runs over */
    const char *serves;       /* for the log: "QGA requests", ... */
    /* An unopened conversation on spec; channel is the handle events carry. */
    gpointer (*new)(Channel *channel, const char *spec, const ChannelContext *context,
                    GError **error);
    gboolean (*open)(gpointer conversation, GError **error);
    /* The engine's operation in flight ended: serve what waited for it. */
    void (*resume)(gpointer conversation);
    void (*free)(gpointer conversation);
} ChannelKind;

/* Picks the kind from spec's transport; does not open yet. context is
 * copied (its pointers stay borrowed). */
Channel *channel_new(const char *spec, const ChannelContext *context, GError **error);
gboolean channel_open(Channel *channel, GError **error);
/* Serves the requests that waited for the engine's operation in flight to
 * end (docs/internals.md, "One request in flight"). */
void channel_resume(Channel *channel);
void channel_free(Channel *channel);
const char *channel_spec(const Channel *channel);
/* What it serves, for the log ("QGA requests", ...). */
const char *channel_serves(const Channel *channel);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(Channel, channel_free)

#endif
