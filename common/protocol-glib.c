/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * protocol-glib.c — see the header.
 */
#include "common/protocol-glib.h"

#include "common/quiesce-error.h"

void proto_error_take_gerror(ProtoError **error, GError *gerror)
{
    proto_error_set_literal(error, PROTO_ERROR_CLASS_GENERIC_ERROR, gerror->message);
    g_error_free(gerror);
}

void quiesce_error_take_proto(GError **error, ProtoError *perror, const char *what)
{
    g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_INVALID_ARGUMENT, "%s: %s", what,
                perror->desc);
    proto_error_free(perror);
}
