/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * channel.c — the framing -> kind table and the calls that go through it.
 */
#include "agent/channels/channel.h"

#include "agent/channels/hv-vss-channel.h"
#include "agent/channels/qga-channel.h"

static const ChannelKind *const channel_kinds[] = {
    &channel_kind_qga,
    &channel_kind_hv_vss,
};

struct Channel {
    const ChannelKind *kind;
    char *spec;
    gpointer conversation; /* owned, the kind's */
};

static const ChannelKind *channel_kind_lookup(TransportFraming framing)
{
    for (gsize i = 0; i < G_N_ELEMENTS(channel_kinds); i++) {
        if (channel_kinds[i]->framing == framing) {
            return channel_kinds[i];
        }
    }
    g_assert_not_reached(); /* every framing has its kind */
}

Channel *channel_new(const char *spec, const ChannelContext *context, GError **error)
{
    g_autoptr(Channel) channel = NULL;
    TransportFraming framing;

    if (!transport_spec_framing(spec, &framing, error)) {
        return NULL;
    }
    channel = g_new0(Channel, 1);
    channel->kind = channel_kind_lookup(framing);
    channel->spec = g_strdup(spec);
    channel->conversation = channel->kind->new(channel, spec, context, error);
    if (!channel->conversation) {
        return NULL;
    }
    return g_steal_pointer(&channel);
}

gboolean channel_open(Channel *channel, GError **error)
{
    return channel->kind->open(channel->conversation, error);
}

void channel_resume(Channel *channel)
{
    channel->kind->resume(channel->conversation);
}

const char *channel_spec(const Channel *channel)
{
    return channel->spec;
}

const char *channel_serves(const Channel *channel)
{
    return channel->kind->serves;
}

void channel_free(Channel *channel)
{
    if (!channel) {
        return;
    }
    if (channel->conversation) {
        channel->kind->free(channel->conversation);
    }
    g_free(channel->spec);
    g_free(channel);
}
