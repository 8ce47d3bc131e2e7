/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * volumes.c — the eligibility verdict on Windows, one class per volume, in
 * the same vocabulary as Linux (docs/design.md §5):
 *
 *   NTFS/ReFS on a basic disk the host provides      basic            freeze
 *   on a VHD attached inside the guest               loop-backed      freeze; strict: blocks
 *                                                                     (not-basic-disk)
 *   a volume of a dynamic disk, or spanning disks    dynamic          blocks (dynamic-disk);
 *                                                                     allow-dynamic: freeze
 *   FAT/exFAT holding data                           unsupported-fs   blocks (VSS cannot
 *                                                                     snapshot FAT)
 *   an empty FAT volume, or FAT without a path       read-only        skip
 *   iSCSI, USB, network                              not-host-visible exclude and report
 *   read-only or CD                                  read-only        skip
 *
 * A FAT volume with no drive letter or folder (the EFI system partition) is
 * skipped: nothing in the running guest writes to it, and it blocking every
 * UEFI guest's child snapshot would help nobody.
 */
#include "windows/volumes.h"

#include <stdio.h>
#include <string.h>

const char *win_volume_label(const WinVolume *volume)
{
    return volume->n_paths > 0 ? volume->paths[0] : volume->name;
}

const char *win_verdict_name(WinVerdict verdict)
{
    switch (verdict) {
    case WIN_VERDICT_FREEZE:
        return "freeze";
    case WIN_VERDICT_SKIP:
        return "skip";
    case WIN_VERDICT_EXCLUDE_AND_REPORT:
        return "exclude-and-report";
    case WIN_VERDICT_BLOCKS:
        return "blocks-child-snapshot";
    }
    return "skip";
}

static bool is_fat(const char *fstype)
{
    return strncmp(fstype, "FAT", 3) == 0 || strcmp(fstype, "exFAT") == 0;
}

static const char *bus_name(WinVolumeBus bus)
{
    switch (bus) {
    case WIN_BUS_HOST:
        return "a disk the host provides";
    case WIN_BUS_ISCSI:
        return "an iSCSI disk opened inside the guest";
    case WIN_BUS_USB:
        return "a USB disk";
    case WIN_BUS_NETWORK:
        return "a network drive";
    }
    return "unknown";
}

static void classify(const WinVolume *v, const WinPolicy *policy, WinVolumeReport *r)
{
    const char *label = win_volume_label(v);

    r->volume = v;
    r->reason_code = NULL;
    if (v->bus != WIN_BUS_HOST) {
        r->klass = "not-host-visible";
        r->verdict = WIN_VERDICT_EXCLUDE_AND_REPORT;
        snprintf(r->reason, sizeof(r->reason),
                 "%s is on %s: not in the host's snapshot; back it up from inside the guest",
                 label, bus_name(v->bus));
    } else if (v->read_only) {
        r->klass = "read-only";
        r->verdict = WIN_VERDICT_SKIP;
        snprintf(r->reason, sizeof(r->reason), "%s is read-only", label);
    } else if (v->dynamic && policy->allow_dynamic && !policy->strict) {
        r->klass = "dynamic";
        r->verdict = WIN_VERDICT_FREEZE;
        snprintf(r->reason, sizeof(r->reason),
                 "%s is on a dynamic disk or spans several disks: frozen (allow-dynamic)", label);
    } else if (v->dynamic) {
        r->klass = "dynamic";
        r->verdict = WIN_VERDICT_BLOCKS;
        r->reason_code = "dynamic-disk";
        snprintf(r->reason, sizeof(r->reason),
                 "%s is on a dynamic disk or spans several disks: %s", label,
                 policy->strict ? "strict mode allows basic disks only"
                                : "the host cannot snapshot its parts at one instant "
                                  "(allow-dynamic freezes it)");
    } else if (v->file_backed && policy->strict) {
        r->klass = "loop-backed";
        r->verdict = WIN_VERDICT_BLOCKS;
        r->reason_code = "not-basic-disk";
        snprintf(r->reason, sizeof(r->reason),
                 "%s is on a VHD attached inside the guest: strict mode allows basic disks only",
                 label);
    } else if (is_fat(v->fstype) && v->has_data && v->n_paths > 0) {
        r->klass = "unsupported-filesystem";
        r->verdict = WIN_VERDICT_BLOCKS;
        r->reason_code = "unsupported-filesystem";
        snprintf(r->reason, sizeof(r->reason),
                 "%s (%s) cannot be frozen by VSS and holds data; remove the drive letter or "
                 "make it read-only",
                 label, v->fstype);
    } else if (is_fat(v->fstype)) {
        r->klass = "read-only";
        r->verdict = WIN_VERDICT_SKIP;
        snprintf(r->reason, sizeof(r->reason), "%s (%s) %s", label, v->fstype,
                 v->n_paths ? "holds no data" : "has no drive letter or folder: nothing writes to it");
    } else if (v->file_backed) {
        r->klass = "loop-backed";
        r->verdict = WIN_VERDICT_FREEZE;
        snprintf(r->reason, sizeof(r->reason), "%s volume on a VHD attached inside the guest",
                 v->fstype);
    } else {
        r->klass = "basic";
        r->verdict = WIN_VERDICT_FREEZE;
        snprintf(r->reason, sizeof(r->reason), "%s volume on %s%s%s", v->fstype,
                 bus_name(v->bus), v->disk[0] ? " " : "", v->disk);
    }
}

void win_eligibility_add_reason(WinEligibility *out, const char *code, const char *mountpoint,
                                const char *message)
{
    WinReason *reason = &out->reasons[out->n_reasons++];

    reason->code = code;
    snprintf(reason->mountpoint, sizeof(reason->mountpoint), "%s", mountpoint ? mountpoint : "");
    snprintf(reason->message, sizeof(reason->message), "%s", message);
}

bool win_eligibility_evaluate(WinProbe probe, const WinPolicy *policy, WinEligibility *out,
                              ProtoError **error)
{
    memset(out, 0, sizeof(*out));
    out->policy = *policy;
    if (!probe.ops->read(probe.self, &out->system, error)) {
        return false;
    }
    if (strcmp(out->system.running_state, "running") != 0) {
        char message[160];
        snprintf(message, sizeof(message),
                 "the system is not running normally (%s): a snapshot now would catch it "
                 "half-way",
                 out->system.running_state);
        win_eligibility_add_reason(out, "not-running", NULL, message);
    }
    for (size_t i = 0; i < out->system.n_volumes; i++) {
        WinVolumeReport *r = &out->volumes[i];
        classify(&out->system.volumes[i], policy, r);
        if (r->verdict == WIN_VERDICT_BLOCKS) {
            win_eligibility_add_reason(out, r->reason_code, win_volume_label(r->volume),
                                       r->reason);
        } else if (r->verdict == WIN_VERDICT_FREEZE) {
            out->freeze[out->n_freeze++] = i;
        }
    }
    return true;
}
