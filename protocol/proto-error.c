/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * proto-error.c — the protocol core's error type; see the header.
 *
 * Like GLib's g_set_error, setting an error into a slot that already holds one
 * is a programming error (it would lose the first), so it asserts; a NULL
 * slot means the caller does not want the details, and nothing is allocated.
 */
#include "protocol/proto-error.h"

#include <assert.h>
#include <stdarg.h>
#include <stdlib.h>

#include "protocol/proto-alloc.h"
#include "protocol/proto-buffer.h"

static ProtoError *proto_error_new_take(ProtoErrorClass error_class, char *desc)
{
    ProtoError *error = proto_xmalloc(sizeof(*error));

    error->error_class = error_class;
    error->desc = desc;
    return error;
}

void proto_error_set(ProtoError **error, ProtoErrorClass error_class,
                     const char *fmt, ...)
{
    va_list ap;
    char *desc;

    if (!error) {
        return;
    }
    assert(*error == NULL);
    va_start(ap, fmt);
    desc = proto_strdup_vprintf(fmt, ap);
    va_end(ap);
    *error = proto_error_new_take(error_class, desc);
}

void proto_error_set_literal(ProtoError **error, ProtoErrorClass error_class,
                             const char *desc)
{
    if (!error) {
        return;
    }
    assert(*error == NULL);
    *error = proto_error_new_take(error_class, proto_xstrdup(desc));
}

void proto_error_free(ProtoError *error)
{
    if (!error) {
        return;
    }
    free(error->desc);
    free(error);
}

const char *proto_error_class_name(ProtoErrorClass error_class)
{
    switch (error_class) {
    case PROTO_ERROR_CLASS_GENERIC_ERROR:
        return "GenericError";
    case PROTO_ERROR_CLASS_COMMAND_NOT_FOUND:
        return "CommandNotFound";
    }
    assert(!"unknown ProtoErrorClass");
    return "GenericError";
}
