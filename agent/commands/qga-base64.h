/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * qga-base64.h — base64 as qemu-ga checks it before decoding
 * (util/base64.c qbase64_decode(), docs/qga-reference.md §8): only the
 * base64 alphabet, '=' and '\n' are accepted, then GLib decodes (and, as
 * GLib does, tolerates padding in odd places). guest-exec's input-data and
 * guest-file-write's buf-b64 go through it.
 */
#ifndef QUIESCE_AGENT_COMMANDS_QGA_BASE64_H
#define QUIESCE_AGENT_COMMANDS_QGA_BASE64_H

#include <glib.h>

/* The decoded bytes (transfer full) and their count in *out_len, or NULL
 * with "Base64 data contains invalid characters". */
guint8 *qga_base64_decode(const char *input, gsize *out_len, GError **error);

#endif
