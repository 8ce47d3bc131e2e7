/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * report.c — see the header.
 */
#include <stdio.h>
#include <string.h>

#include "host/report.h"

struct Report {
    GPtrArray *keys;    /* char *, in first-set order */
    GHashTable *values; /* key -> value, both owned (key shared with keys) */
};

Report *report_new(void)
{
    Report *report = g_new0(Report, 1);

    report->keys = g_ptr_array_new_with_free_func(g_free);
    report->values = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
    return report;
}

void report_free(Report *report)
{
    if (!report) {
        return;
    }
    g_hash_table_unref(report->values);
    g_ptr_array_unref(report->keys);
    g_free(report);
}

void report_set(Report *report, const char *key, const char *fmt, ...)
{
    va_list ap;
    char *value;
    char *stored = NULL;

    va_start(ap, fmt);
    value = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_strdelimit(value, "\n\r", ' ');
    for (guint i = 0; i < report->keys->len; i++) {
        if (g_str_equal(g_ptr_array_index(report->keys, i), key)) {
            stored = g_ptr_array_index(report->keys, i);
        }
    }
    if (!stored) {
        stored = g_strdup(key);
        g_ptr_array_add(report->keys, stored);
    }
    g_hash_table_replace(report->values, stored, value);
}

void report_set_ms(Report *report, const char *key, gint64 us)
{
    report_set(report, key, "%" G_GINT64_FORMAT, us / 1000);
}

const char *report_get(const Report *report, const char *key)
{
    return g_hash_table_lookup(report->values, key);
}

void report_print(const Report *report, FILE *out)
{
    for (guint i = 0; i < report->keys->len; i++) {
        const char *key = g_ptr_array_index(report->keys, i);
        fprintf(out, "  %-18s %s\n", key, (const char *)g_hash_table_lookup(report->values, key));
    }
}

gboolean report_write(const Report *report, const char *path, GError **error)
{
    g_autoptr(GString) text = g_string_new(NULL);

    for (guint i = 0; i < report->keys->len; i++) {
        const char *key = g_ptr_array_index(report->keys, i);
        g_string_append_printf(text, "%s=%s\n", key,
                               (const char *)g_hash_table_lookup(report->values, key));
    }
    return g_file_set_contents(path, text->str, (gssize)text->len, error);
}

void report_append_lines(const Report *report, const char *prefix, GString *out)
{
    for (guint i = 0; i < report->keys->len; i++) {
        const char *key = g_ptr_array_index(report->keys, i);
        g_string_append_printf(out, "%s.%s=%s\n", prefix, key,
                               (const char *)g_hash_table_lookup(report->values, key));
    }
}

JsonValue *report_to_json(const Report *report)
{
    JsonValue *object = json_object_new();

    for (guint i = 0; i < report->keys->len; i++) {
        const char *key = g_ptr_array_index(report->keys, i);
        const char *value = g_hash_table_lookup(report->values, key);
        gboolean number = *value && strlen(value) < 18 && (g_ascii_isdigit(*value) || (*value == '-' && value[1]));

        for (const char *p = value + 1; number && *p; p++) {
            number = g_ascii_isdigit(*p);
        }
        if (number) {
            json_object_set_int(object, key, g_ascii_strtoll(value, NULL, 10));
        } else {
            json_object_set_string(object, key, value);
        }
    }
    return object;
}
