/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * qdict-order.c — QDict iteration order; see the header.
 */
#include "protocol/qdict-order.h"

#include <stdlib.h>
#include <string.h>

#include "protocol/proto-alloc.h"

#define QDICT_BUCKET_MAX 512 /* qobject/qdict.c */

/* The hash of QEMU's qdict.c (itself from Samba's tdb). */
unsigned qdict_bucket(const char *key)
{
    const unsigned char *p = (const unsigned char *)key;
    unsigned value = 0x238F13AFu * (unsigned)strlen(key);

    for (unsigned i = 0; p[i]; i++) {
        value = value + ((unsigned)p[i] << (i * 5 % 24));
    }
    return (1103515243u * value + 12345u) % QDICT_BUCKET_MAX;
}

typedef struct {
    unsigned bucket;
    size_t index;
} QdictMember;

static int qdict_member_compare(const void *a, const void *b)
{
    const QdictMember *x = a;
    const QdictMember *y = b;

    if (x->bucket != y->bucket) {
        return x->bucket < y->bucket ? -1 : 1;
    }
    /* Same bucket: QDict lists the most recently inserted first. */
    return x->index > y->index ? -1 : x->index < y->index;
}

size_t *qdict_order_new(const JsonValue *object)
{
    size_t n = json_object_size(object);
    QdictMember *members = proto_xreallocarray(NULL, n ? n : 1, sizeof(*members));
    size_t *order = proto_xreallocarray(NULL, n ? n : 1, sizeof(*order));

    for (size_t i = 0; i < n; i++) {
        members[i].bucket = qdict_bucket(json_object_key_at(object, i));
        members[i].index = i;
    }
    qsort(members, n, sizeof(*members), qdict_member_compare);
    for (size_t k = 0; k < n; k++) {
        order[k] = members[k].index;
    }
    free(members);
    return order;
}
