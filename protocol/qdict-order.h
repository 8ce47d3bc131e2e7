/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * qdict-order.h — the order in which QEMU's QDict iterates an object.
 *
 * qemu-ga builds every reply as a QDict and walks requests in QDict order, so
 * both the bytes of its replies and which offending member it names depend on
 * that order: buckets tdb_hash(key) % 512 ascending, and within a bucket the
 * most recently inserted key first (qobject/qdict.c). Objects in JsonValue keep
 * insertion order; this module maps it to QDict order.
 */
#ifndef QUIESCE_QDICT_ORDER_H
#define QUIESCE_QDICT_ORDER_H

#include <stddef.h>

#include "json-value.h"

/* QEMU's tdb_hash() bucket of a key: 0..511. */
unsigned qdict_bucket(const char *key);

/* Member indexes in QDict iteration order: a malloc'ed array of
 * json_object_size(object) entries (at least one allocated), transfer full.
 * O(n log n) with one hash per key: the member count is peer-controlled. */
size_t *qdict_order_new(const JsonValue *object);

#endif
