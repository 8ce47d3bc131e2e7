/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * proto-buffer.h — a growable byte string for the protocol core (private).
 *
 * The lexer's current token, the queued token texts and the writer's output
 * are all built in a ProtoBuffer (GString's role in QEMU). The data is always
 * NUL-terminated once anything was appended, so it can be used as a C string;
 * it may also hold NUL bytes, len is authoritative.
 */
#ifndef QUIESCE_PROTO_BUFFER_H
#define QUIESCE_PROTO_BUFFER_H

#include <stdarg.h>
#include <stddef.h>

#include "proto-compiler.h"

typedef struct {
    char *data; /* owned; NULL until the first append */
    size_t len;
    size_t cap;
} ProtoBuffer;

#define PROTO_BUFFER_INIT { NULL, 0, 0 }

/* Makes room for `extra` more bytes plus the terminating NUL. */
void proto_buffer_reserve(ProtoBuffer *buf, size_t extra);
void proto_buffer_append(ProtoBuffer *buf, const char *bytes, size_t len);
void proto_buffer_append_str(ProtoBuffer *buf, const char *s);
void proto_buffer_append_vprintf(ProtoBuffer *buf, const char *fmt, va_list ap)
    PROTO_FORMAT_PRINTF(2, 0);
void proto_buffer_append_printf(ProtoBuffer *buf, const char *fmt, ...)
    PROTO_FORMAT_PRINTF(2, 3);
/* Shortens to len bytes (len <= buf->len); keeps the memory for reuse. */
void proto_buffer_truncate(ProtoBuffer *buf, size_t len);
/* Hands the NUL-terminated contents to the caller (transfer full) and
 * leaves the buffer empty. Never returns NULL. */
char *proto_buffer_steal(ProtoBuffer *buf, size_t *out_len);
/* Frees the contents. */
void proto_buffer_release(ProtoBuffer *buf);

/* A malloc'ed formatted string (transfer full). */
char *proto_strdup_vprintf(const char *fmt, va_list ap) PROTO_FORMAT_PRINTF(1, 0);

static inline void proto_buffer_append_c(ProtoBuffer *buf, char c)
{
    if (buf->cap - buf->len < 2) {
        proto_buffer_reserve(buf, 1);
    }
    buf->data[buf->len++] = c;
    buf->data[buf->len] = '\0';
}

#endif
