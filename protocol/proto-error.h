/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * proto-error.h — the protocol core's own small error type.
 *
 * The protocol core is portable C without GLib (docs/design.md §10: the Windows service
 * shares it and Debian has no GLib for mingw-w64), so it cannot use GError.
 * ProtoError has the same role: a function that fails returns false (or NULL)
 * and sets *error, which must be NULL on entry. The GLib side converts GError
 * into ProtoError at its edge (agent/commands/command-error.c).
 *
 * The class is QAPI's error class as qemu-ga sends it: qemu-ga only ever sends
 * GenericError and CommandNotFound (qapi/error.json, docs/qga-reference.md §3).
 */
#ifndef QUIESCE_PROTO_ERROR_H
#define QUIESCE_PROTO_ERROR_H

#include <stdbool.h>

#include "proto-compiler.h"

typedef enum {
    PROTO_ERROR_CLASS_GENERIC_ERROR,
    PROTO_ERROR_CLASS_COMMAND_NOT_FOUND,
} ProtoErrorClass;

typedef struct {
    ProtoErrorClass error_class;
    char *desc; /* owned, UTF-8 */
} ProtoError;

/* Sets *error (if error is non-NULL) to a new error; printf-style. */
void proto_error_set(ProtoError **error, ProtoErrorClass error_class,
                     const char *fmt, ...)
    PROTO_FORMAT_PRINTF(3, 4);
/* A copy of a message without formatting. */
void proto_error_set_literal(ProtoError **error, ProtoErrorClass error_class,
                             const char *desc);
void proto_error_free(ProtoError *error);
/* qemu-ga's wire name of a class: "GenericError", "CommandNotFound". */
const char *proto_error_class_name(ProtoErrorClass error_class);

static inline void proto_error_freep(ProtoError **error)
{
    if (*error) {
        proto_error_free(*error);
    }
}
#define proto_autoptr_error __attribute__((cleanup(proto_error_freep))) ProtoError

#endif
