/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * report.h — what the driver did, as ordered key=value pairs: printed at the
 * end for people, and written to a file (--report) that the vm tests read
 * with grep. Values are single-line strings.
 */
#ifndef QUIESCE_HOST_REPORT_H
#define QUIESCE_HOST_REPORT_H

#include <glib.h>
#include <stdio.h>

#include "common/protocol-glib.h"

typedef struct Report Report;

Report *report_new(void);
void report_free(Report *report);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Report, report_free)

/* Sets (or replaces) key. */
void report_set(Report *report, const char *key, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
void report_set_ms(Report *report, const char *key, gint64 us);
const char *report_get(const Report *report, const char *key);

/* Prints "  key: value" lines. */
void report_print(const Report *report, FILE *out);
gboolean report_write(const Report *report, const char *path, GError **error);
/* Appends "PREFIX.key=value" lines (the libvirt backend's report of several
 * domains in one file). */
void report_append_lines(const Report *report, const char *prefix, GString *out);
/* One JSON object, in key order; a value made only of digits is a number
 * (transfer full). */
JsonValue *report_to_json(const Report *report);

#endif
