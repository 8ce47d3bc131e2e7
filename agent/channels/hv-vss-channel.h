/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hv-vss-channel.h — the hv_vss kind of channel (channel.h): Hyper-V's
 * "Backup (volume snapshot)" requests, as the kernel's hv_vss driver
 * forwards them over transports/hv-vss.h, mapped to the freeze engine. A drop-in for tools/hv/hv_vss_daemon (docs/design.md §8); it
 * knows no JSON and runs beside the QGA channels on the same engine.
 *
 *   HOT_BACKUP  the host's capability check: engine_check(). Eligible ->
 *               HV_S_OK; not eligible (or a QGA session holds the freeze)
 *               -> HV_E_FAIL, which makes the host fall back to a standard
 *               checkpoint / Saved State backup (kernel commit db886e4d).
 *   FREEZE      PrepareForSnapshot: engine_prepare() — writers, then the
 *               filesystems. Child snapshot -> HV_S_OK and the session is
 *               this channel's; saved-state or any failure -> HV_E_FAIL
 *               with nothing left frozen.
 *   THAW        PostSnapshot: engine_post() of the session our FREEZE
 *               started. HV_E_FAIL when that session had already ended
 *               without the host — the watchdog's window expired, the
 *               agent restarted while frozen, the device was lost, or
 *               hibernation's fake THAW came first: the snapshot must then
 *               be discarded. A THAW with nothing frozen is HV_S_OK.
 *   others      the kernel forwards no other operation today
 *               (hv_snapshot.c, vss_handle_request); one is logged and
 *               answered HV_S_OK, as hv_vss_daemon does.
 *
 * The kernel waits up to 900 s for FREEZE and never thaws anything itself;
 * the engine's watchdog bounds the frozen window. When the transport loses
 * the device (a rejected reply, hibernation, the device gone), the session
 * of this channel is aborted — thawed — before the transport registers
 * again.
 */
#ifndef QUIESCE_AGENT_HV_VSS_CHANNEL_H
#define QUIESCE_AGENT_HV_VSS_CHANNEL_H

#include "agent/channels/channel.h"

/* For every TRANSPORT_FRAMING_HV_VSS_MSG transport. Closing it leaves the
 * engine alone: the agent thaws on stop. */
extern const ChannelKind channel_kind_hv_vss;

#endif
