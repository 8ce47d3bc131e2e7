/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * proto-buffer.c — a growable byte string for the protocol core; see the
 * header. Formatting uses vsnprintf's C99 contract (the size is returned when
 * the buffer is too small); on mingw-w64 that is mingw's own printf, which
 * protocol/CMakeLists.txt selects, not msvcrt's _vsnprintf.
 */
#include "protocol/proto-buffer.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "protocol/proto-alloc.h"

void proto_buffer_reserve(ProtoBuffer *buf, size_t extra)
{
    size_t needed;

    if (extra >= SIZE_MAX - buf->len) {
        proto_out_of_memory();
    }
    needed = buf->len + extra + 1;
    if (needed <= buf->cap) {
        return;
    }
    buf->cap = proto_grow_capacity(buf->cap, needed, 32);
    buf->data = proto_xrealloc(buf->data, buf->cap);
}

void proto_buffer_append(ProtoBuffer *buf, const char *bytes, size_t len)
{
    proto_buffer_reserve(buf, len);
    if (len) {
        memcpy(buf->data + buf->len, bytes, len);
    }
    buf->len += len;
    buf->data[buf->len] = '\0';
}

void proto_buffer_append_str(ProtoBuffer *buf, const char *s)
{
    proto_buffer_append(buf, s, strlen(s));
}

void proto_buffer_append_vprintf(ProtoBuffer *buf, const char *fmt, va_list ap)
{
    va_list measure;
    int needed;

    va_copy(measure, ap);
    needed = vsnprintf(NULL, 0, fmt, measure);
    va_end(measure);
    /* Only a wide-character conversion can fail; the core has none. */
    assert(needed >= 0);
    proto_buffer_reserve(buf, (size_t)needed);
    vsnprintf(buf->data + buf->len, (size_t)needed + 1, fmt, ap);
    buf->len += (size_t)needed;
}

void proto_buffer_append_printf(ProtoBuffer *buf, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    proto_buffer_append_vprintf(buf, fmt, ap);
    va_end(ap);
}

void proto_buffer_truncate(ProtoBuffer *buf, size_t len)
{
    assert(len <= buf->len);
    buf->len = len;
    if (buf->data) {
        buf->data[len] = '\0';
    }
}

char *proto_buffer_steal(ProtoBuffer *buf, size_t *out_len)
{
    char *data;

    proto_buffer_reserve(buf, 0);
    data = buf->data;
    if (out_len) {
        *out_len = buf->len;
    }
    buf->data = NULL;
    buf->len = 0;
    buf->cap = 0;
    return data;
}

void proto_buffer_release(ProtoBuffer *buf)
{
    free(buf->data);
    buf->data = NULL;
    buf->len = 0;
    buf->cap = 0;
}

char *proto_strdup_vprintf(const char *fmt, va_list ap)
{
    ProtoBuffer buf = PROTO_BUFFER_INIT;

    proto_buffer_append_vprintf(&buf, fmt, ap);
    return proto_buffer_steal(&buf, NULL);
}
