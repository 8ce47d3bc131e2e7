/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * report-table.h — the eligibility report as a table for a person
 * (`quiesced --check`). Machine-readable output is the caller's business
 * (the report's structs); this is text only.
 */
#ifndef QUIESCE_FSFREEZE_REPORT_TABLE_H
#define QUIESCE_FSFREEZE_REPORT_TABLE_H

#include "fsfreeze/eligibility.h"

#include <glib.h>

typedef enum {
    REPORT_TABLE_FLAG_NONE = 0,
    /* List pseudo filesystems one per row instead of in one summary line. */
    REPORT_TABLE_FLAG_ALL = 1 << 0,
    /* Add each filesystem's disks (bus, PCI address, serial, node). */
    REPORT_TABLE_FLAG_DISKS = 1 << 1,
} ReportTableFlags;

/* Appends the report to out: method and why, running state, one row per
 * filesystem (mountpoint, type, device, class, verdict, reason, aliases),
 * and the freeze order. */
void report_table_render(const EligibilityReport *report, ReportTableFlags flags, GString *out);

#endif
