/*
 * channel.h — one transport bound to one QGA conversation (ProtoSession).
 *
 * Bytes from the transport go into the session's parser, replies go back out
 * through the transport. A host (re)connecting resets the parser.
 */
#ifndef QUIESCE_AGENT_CHANNEL_H
#define QUIESCE_AGENT_CHANNEL_H

#include <glib.h>

#include "protocol/dispatcher.h"
#include "protocol/json-stream.h"

typedef struct AgentChannel AgentChannel;

/* What the owner hears; every member may be NULL. */
typedef struct {
    /* After each reply is queued. */
    void (*replied)(gpointer user_data);
    /* Around feeding input to the parser: every request dispatched in
     * between came on this channel. */
    void (*feeding)(AgentChannel *channel, gboolean begin, gpointer user_data);
    /* The host (re)connected, or went away. */
    void (*host_connected)(AgentChannel *channel, gpointer user_data);
    void (*host_disconnected)(AgentChannel *channel, gpointer user_data);
} AgentChannelEvents;

/* dispatcher and events are borrowed. Does not open the transport yet. */
AgentChannel *agent_channel_new(const char *spec, Dispatcher *dispatcher,
                                const JsonStreamLimits *limits, const AgentChannelEvents *events,
                                gpointer user_data, GError **error);
gboolean agent_channel_open(AgentChannel *channel, GError **error);
void agent_channel_free(AgentChannel *channel);
const char *agent_channel_spec(const AgentChannel *channel);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(AgentChannel, agent_channel_free)

#endif
