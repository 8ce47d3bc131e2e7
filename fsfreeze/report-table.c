/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * report-table.c — renders an EligibilityReport as aligned text; see the
 * header.
 */
#include "fsfreeze/report-table.h"

#include <string.h>

enum { COL_MOUNTPOINT, COL_TYPE, COL_DEVICE, COL_CLASS, COL_VERDICT, COL_REASON, N_COLS };

static const char *const column_titles[N_COLS] = {
    "MOUNTPOINT", "TYPE", "DEVICE", "CLASS", "VERDICT", "REASON",
};

static gboolean row_is_listed(const MountReport *r, ReportTableFlags flags)
{
    return (flags & REPORT_TABLE_FLAG_ALL) || r->klass != MOUNT_CLASS_PSEUDO;
}

static void row_cells(const MountReport *r, const char *cells[N_COLS])
{
    cells[COL_MOUNTPOINT] = r->mount->mountpoint;
    cells[COL_TYPE] = r->mount->fstype;
    cells[COL_DEVICE] = r->mount->device_name ? r->mount->device_name : "-";
    cells[COL_CLASS] = mount_class_to_string(r->klass);
    cells[COL_VERDICT] = mount_verdict_to_string(r->verdict);
    cells[COL_REASON] = r->reason;
}

static void append_cells(GString *out, const char *const cells[N_COLS], const gsize widths[N_COLS])
{
    for (int c = 0; c < N_COLS; c++) {
        if (c == N_COLS - 1) {
            g_string_append(out, cells[c]);
        } else {
            g_string_append_printf(out, "%-*s  ", (int)widths[c], cells[c]);
        }
    }
    g_string_append_c(out, '\n');
}

static void append_disks(GString *out, gsize indent, const InventoryMount *mount)
{
    g_autoptr(GPtrArray) disks = inventory_mount_get_disks(mount);

    for (guint i = 0; i < disks->len; i++) {
        const DiskInfo *disk = disks->pdata[i];
        g_autofree char *pci = disk->has_pci ? disk_pci_address_format(&disk->pci) : NULL;

        g_string_append_printf(out, "%*sdisk %s: %s (%s)", (int)indent, "", disk->name,
                               disk->label, disk_bus_to_string(disk->bus));
        if (pci) {
            g_string_append_printf(out, ", pci %s", pci);
        }
        if (disk->serial) {
            g_string_append_printf(out, ", serial %s", disk->serial);
        }
        g_string_append_printf(out, ", %s\n", disk->dev_path);
    }
}

static void append_header(const EligibilityReport *report, GString *out)
{
    g_string_append_printf(out, "Method:        %s\n", snapshot_method_to_string(report->method));
    if (report->running_state == RUNNING_STATE_UNKNOWN && report->system_state) {
        g_autofree char *state = g_strstrip(g_strdup(report->system_state));
        g_string_append_printf(out, "System state:  unknown (\"%s\")\n", state);
    } else {
        g_string_append_printf(out, "System state:  %s\n",
                               running_state_to_string(report->running_state));
    }
    g_string_append_printf(out, "Policy:        %s, dynamic disks %s%s%s\n",
                           report->strict ? "strict (basic disks only)" : "default",
                           report->allow_dynamic && !report->strict ? "allowed" : "not allowed",
                           report->confine ? ", confined to " : "",
                           report->confine ? report->confine : "");
    for (guint i = 0; i < report->reasons->len; i++) {
        const EligibilityReason *reason = report->reasons->pdata[i];
        g_string_append_printf(out, "%s %s%s%s%s: %s\n",
                               i == 0 ? "Why:          " : "              ", reason->code,
                               reason->mountpoint ? " (" : "",
                               reason->mountpoint ? reason->mountpoint : "",
                               reason->mountpoint ? ")" : "", reason->message);
    }
    g_string_append_c(out, '\n');
}

static void append_rows(const EligibilityReport *report, ReportTableFlags flags, GString *out)
{
    gsize widths[N_COLS] = { 0 };
    const char *cells[N_COLS];

    for (int c = 0; c < N_COLS; c++) {
        widths[c] = strlen(column_titles[c]);
    }
    for (guint i = 0; i < report->mounts->len; i++) {
        const MountReport *r = report->mounts->pdata[i];
        if (row_is_listed(r, flags)) {
            row_cells(r, cells);
            for (int c = 0; c < N_COLS; c++) {
                widths[c] = MAX(widths[c], strlen(cells[c]));
            }
        }
    }
    append_cells(out, column_titles, widths);
    for (guint i = 0; i < report->mounts->len; i++) {
        const MountReport *r = report->mounts->pdata[i];
        if (!row_is_listed(r, flags)) {
            continue;
        }
        row_cells(r, cells);
        append_cells(out, cells, widths);
        for (guint a = 0; a < r->mount->aliases->len; a++) {
            g_string_append_printf(out, "%*salso mounted at %s\n", (int)widths[0] + 2, "",
                                   (const char *)r->mount->aliases->pdata[a]);
        }
        if (flags & REPORT_TABLE_FLAG_DISKS) {
            append_disks(out, widths[0] + 2, r->mount);
        }
    }
}

static void append_pseudo_summary(const EligibilityReport *report, GString *out)
{
    GString *names = g_string_new(NULL);
    guint count = 0;

    for (guint i = 0; i < report->mounts->len; i++) {
        const MountReport *r = report->mounts->pdata[i];
        if (r->klass == MOUNT_CLASS_PSEUDO) {
            g_string_append_printf(names, "%s%s", count++ ? ", " : "", r->mount->mountpoint);
        }
    }
    if (count) {
        g_string_append_printf(out, "\nSkipped %u pseudo filesystem%s: %s\n", count,
                               count == 1 ? "" : "s", names->str);
    }
    g_string_free(names, TRUE);
}

void report_table_render(const EligibilityReport *report, ReportTableFlags flags, GString *out)
{
    append_header(report, out);
    append_rows(report, flags, out);
    if (!(flags & REPORT_TABLE_FLAG_ALL)) {
        append_pseudo_summary(report, out);
    }
    g_string_append(out, "\nFreeze order:  ");
    for (guint i = 0; i < report->targets->len; i++) {
        const FreezeTarget *target = report->targets->pdata[i];
        g_string_append_printf(out, "%s%s", i ? ", " : "", target->mountpoint);
    }
    g_string_append(out, report->targets->len ? "\n" : "(nothing to freeze)\n");
}
