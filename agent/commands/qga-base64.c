/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * qga-base64.c — qemu-ga's base64 check in front of GLib's decoder.
 */
#include "agent/commands/qga-base64.h"

#include <string.h>

#include "common/quiesce-error.h"

guint8 *qga_base64_decode(const char *input, gsize *out_len, GError **error)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=\n";

    *out_len = 0;
    if (input[strspn(input, alphabet)] != '\0') {
        g_set_error_literal(error, QUIESCE_ERROR, QUIESCE_ERROR_INVALID_ARGUMENT,
                            "Base64 data contains invalid characters");
        return NULL;
    }
    return g_base64_decode(input, out_len);
}
