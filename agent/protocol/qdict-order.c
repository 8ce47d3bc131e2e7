/*
 * qdict-order.c — QDict iteration order; see the header.
 */
#include "agent/protocol/qdict-order.h"

#include <string.h>

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

void qdict_order(const JsonValue *object, size_t *order)
{
    size_t n = json_object_size(object);

    /* Insertion sort: objects on the wire have a handful of members. */
    for (size_t i = 0; i < n; i++) {
        unsigned bucket = qdict_bucket(json_object_key_at(object, i));
        size_t j = i;
        /* Later insertions go before earlier ones of the same bucket. */
        while (j > 0 && qdict_bucket(json_object_key_at(object, order[j - 1])) >= bucket) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = i;
    }
}
