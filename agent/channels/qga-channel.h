/*
 * qga-channel.h — the QGA kind of channel (channel.h): one byte-stream
 * transport bound to one QGA conversation (the protocol core's
 * ProtoSession). Bytes from the transport go into the session's parser,
 * requests through the dispatcher, replies back out through the transport.
 * A host (re)connecting, or going away, resets the parser, so a vanished
 * host's half-written request never swallows the next host's.
 */
#ifndef QUIESCE_AGENT_CHANNELS_QGA_CHANNEL_H
#define QUIESCE_AGENT_CHANNELS_QGA_CHANNEL_H

#include "agent/channels/channel.h"

/* For every TRANSPORT_FRAMING_STREAM transport. */
extern const ChannelKind channel_kind_qga;

#endif
