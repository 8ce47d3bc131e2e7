/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * qga-channel.h — the QGA kind of channel (channel.h): one byte-stream
 * transport, one QGA conversation (the protocol core's ProtoSession) per
 * connection of it — a listening transport has several at once. Bytes
 * from a connection go into its parser, requests through the dispatcher,
 * replies back out to that connection. A host (re)connecting starts a clean
 * parser, so a vanished host's half-written request never swallows the
 * next host's.
 */
#ifndef QUIESCE_AGENT_CHANNELS_QGA_CHANNEL_H
#define QUIESCE_AGENT_CHANNELS_QGA_CHANNEL_H

#include "agent/channels/channel.h"

/* For every TRANSPORT_FRAMING_STREAM transport. */
extern const ChannelKind channel_kind_qga;

#endif
