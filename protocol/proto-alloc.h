/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * proto-alloc.h — allocation helpers of the protocol core (private).
 *
 * The core cannot use GLib's g_malloc, and a JSON agent has no useful way to
 * go on without memory, so like g_malloc these abort instead of returning
 * NULL. Every size computed from peer input goes through the overflow-checked
 * proto_xreallocarray().
 */
#ifndef QUIESCE_PROTO_ALLOC_H
#define QUIESCE_PROTO_ALLOC_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__attribute__((noreturn)) static inline void proto_out_of_memory(void)
{
    fputs("quiesce: out of memory\n", stderr);
    abort();
}

static inline void *proto_xmalloc(size_t size)
{
    void *p = malloc(size ? size : 1);

    if (!p) {
        proto_out_of_memory();
    }
    return p;
}

static inline void *proto_xcalloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);

    if (!p) {
        proto_out_of_memory();
    }
    return p;
}

static inline void *proto_xrealloc(void *ptr, size_t size)
{
    void *p = realloc(ptr, size ? size : 1);

    if (!p) {
        proto_out_of_memory();
    }
    return p;
}

static inline void *proto_xreallocarray(void *ptr, size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size) {
        proto_out_of_memory();
    }
    return proto_xrealloc(ptr, count * size);
}

static inline char *proto_xstrndup(const char *s, size_t len)
{
    char *copy;

    if (len == SIZE_MAX) {
        proto_out_of_memory();
    }
    copy = proto_xmalloc(len + 1);
    memcpy(copy, s, len);
    copy[len] = '\0';
    return copy;
}

static inline char *proto_xstrdup(const char *s)
{
    return proto_xstrndup(s, strlen(s));
}

/* A capacity of at least `needed` for a growing array, doubling from
 * `minimum` so appends stay amortised O(1). */
static inline size_t proto_grow_capacity(size_t current, size_t needed, size_t minimum)
{
    size_t cap = current ? current : minimum;

    while (cap < needed) {
        if (cap > SIZE_MAX / 2) {
            return needed;
        }
        cap *= 2;
    }
    return cap;
}

#endif
