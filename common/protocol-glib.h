/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * protocol-glib.h — the bridge between the portable protocol core
 * (protocol/, no GLib) and the GLib side that the daemon and the host tools
 * share: g_autoptr for the core's types, and the conversions between its
 * ProtoError and GError, each done at this one edge.
 */
#ifndef QUIESCE_COMMON_PROTOCOL_GLIB_H
#define QUIESCE_COMMON_PROTOCOL_GLIB_H

#include <glib.h>

#include "protocol/json-value.h"
#include "protocol/proto-error.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC(JsonValue, json_value_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ProtoError, proto_error_free)

/*
 * GError -> ProtoError, for a command handler's reply. qemu-ga reports every
 * command failure as GenericError with the message (it sends no other class
 * but the dispatcher's CommandNotFound: docs/qga-reference.md); the
 * QUIESCE_ERROR code stays available to our extensions' structured replies.
 * gerror is consumed.
 */
void proto_error_take_gerror(ProtoError **error, GError *gerror /* transfer full */);

/*
 * ProtoError -> GError (QUIESCE_ERROR_INVALID_ARGUMENT: the core only fails
 * on input it was given), prefixed by what was being parsed. perror is
 * consumed.
 */
void quiesce_error_take_proto(GError **error, ProtoError *perror /* transfer full */,
                              const char *what);

#endif
