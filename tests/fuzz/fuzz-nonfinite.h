/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz-nonfinite.h — whether a parsed JSON value holds a non-finite double
 * anywhere (an overflowing number such as 1e400 parses to inf). The agent
 * writes such a value back as qemu-ga does, with glibc's non-JSON "inf",
 * "-inf" or "nan" (protocol/json-writer.c), so a reply that echoes one,
 * however deep in an "id", cannot parse back and the harnesses do not ask
 * it to.
 */
#ifndef QUIESCE_TESTS_FUZZ_NONFINITE_H
#define QUIESCE_TESTS_FUZZ_NONFINITE_H

#include <math.h>
#include <stdbool.h>

#include "protocol/json-value.h"

static inline bool fuzz_has_nonfinite(const JsonValue *v)
{
    double d;

    switch (json_value_type(v)) {
    case JSON_TYPE_DOUBLE:
        return json_value_get_double(v, &d) && !isfinite(d);
    case JSON_TYPE_ARRAY:
        for (size_t i = 0; i < json_array_length(v); i++) {
            if (fuzz_has_nonfinite(json_array_get(v, i))) {
                return true;
            }
        }
        return false;
    case JSON_TYPE_OBJECT:
        for (size_t i = 0; i < json_object_size(v); i++) {
            if (fuzz_has_nonfinite(json_object_value_at(v, i))) {
                return true;
            }
        }
        return false;
    case JSON_TYPE_NULL:
    case JSON_TYPE_BOOL:
    case JSON_TYPE_INT:
    case JSON_TYPE_UINT:
    case JSON_TYPE_STRING:
        return false;
    }
    return false;
}

#endif
