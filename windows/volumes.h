/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * volumes.h — what the guest has and whether it can take part: the volume
 * inventory, the system's running state, and the eligibility verdict with
 * the same classes, verdicts and reason codes as on Linux (docs/design.md
 * §5, docs/protocol.md "Reason codes").
 *
 * Reading the system goes through a small table (WinProbe) for the same
 * reason VSS does: the test build puts a fake in its place.
 */
#ifndef QUIESCE_VOLUMES_H
#define QUIESCE_VOLUMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocol/proto-error.h"

#define WIN_VOLUME_MAX 64
#define WIN_VOLUME_PATHS 4
#define WIN_VOLUME_DISKS 4

/* One disk under a volume, as qemu-ga's GuestDiskAddress reports it on
 * Windows (qga/commands-win32.c; docs/windows.md "guest-get-fsinfo"): -1
 * for what is not known. */
typedef struct {
    char dev[32];       /* \\.\PhysicalDriveN */
    char bus_type[24];  /* qemu's GuestDiskBusType name: scsi, ide, sata, ... */
    int pci_domain, pci_bus, pci_slot, pci_function;
    int bus, target, unit; /* SCSI address (scsi, ide, raid, sas), else 0 */
    char serial[64];    /* "" when the device has none */
} WinDisk;

typedef enum {
    WIN_BUS_HOST,    /* virtio, SCSI, SATA/IDE, NVMe: a disk the host provides */
    WIN_BUS_ISCSI,   /* an iSCSI session opened inside the guest */
    WIN_BUS_USB,     /* pass-through USB storage */
    WIN_BUS_NETWORK, /* a remote (network) drive */
} WinVolumeBus;

typedef struct {
    char name[64];                        /* \\?\Volume{GUID}\ */
    char paths[WIN_VOLUME_PATHS][260];    /* C:\, D:\mnt\data\ ...; first is the mountpoint */
    size_t n_paths;
    char fstype[16];                      /* NTFS, ReFS, FAT32, exFAT, ... */
    WinVolumeBus bus;
    bool dynamic;   /* on a dynamic disk, or spanning several disks */
    bool file_backed; /* on a VHD/VHDX attached inside the guest (a loop image) */
    bool read_only; /* or removable media that is not writable (CD) */
    bool has_data;  /* a FAT volume with files on it */
    uint64_t total_bytes, used_bytes;
    char disk[32];  /* PhysicalDriveN, or "" */
    WinDisk disks[WIN_VOLUME_DISKS]; /* one per disk of its extents */
    size_t n_disks;
} WinVolume;

typedef struct {
    char running_state[32]; /* "running", "setup", "shutting-down" */
    WinVolume volumes[WIN_VOLUME_MAX];
    size_t n_volumes;
} WinSystem;

typedef struct {
    /* Fills *system; false with *error when the volumes cannot be listed. */
    bool (*read)(void *self, WinSystem *system, ProtoError **error);
} WinProbeOps;

typedef struct {
    const WinProbeOps *ops;
    void *self;
} WinProbe;

/* The real probe (volumes-real.c) or the test's fake. */
WinProbe win_probe_default(void);

typedef enum {
    WIN_VERDICT_FREEZE,
    WIN_VERDICT_SKIP,
    WIN_VERDICT_EXCLUDE_AND_REPORT,
    WIN_VERDICT_BLOCKS,
} WinVerdict;

/* The operator's eligibility policy, as on Linux (docs/design.md §5):
 * strict is Hyper-V's rule, basic disks only (a dynamic volume blocks with
 * dynamic-disk, a VHD attached in the guest with not-basic-disk);
 * allow_dynamic freezes dynamic volumes instead of blocking (strict wins). */
typedef struct {
    bool strict;
    bool allow_dynamic;
} WinPolicy;

typedef struct {
    const WinVolume *volume;
    const char *klass;       /* basic, dynamic, not-host-visible, ... */
    WinVerdict verdict;
    char reason[320];
    const char *reason_code; /* for a blocking volume, else NULL */
} WinVolumeReport;

typedef struct {
    const char *code;
    char mountpoint[260]; /* "" when the reason is not one volume's */
    char message[400];
} WinReason;

typedef struct {
    WinPolicy policy; /* the one applied, for the report */
    WinSystem system;
    WinVolumeReport volumes[WIN_VOLUME_MAX];
    WinReason reasons[WIN_VOLUME_MAX + 2];
    size_t n_reasons;
    size_t freeze[WIN_VOLUME_MAX]; /* indexes of the snapshot set */
    size_t n_freeze;
} WinEligibility;

/* Reads the system through probe and classifies every volume under policy. */
bool win_eligibility_evaluate(WinProbe probe, const WinPolicy *policy, WinEligibility *out,
                              ProtoError **error);
/* Appends a reason that blocks the child snapshot (mountpoint may be NULL). */
void win_eligibility_add_reason(WinEligibility *out, const char *code, const char *mountpoint,
                                const char *message);

/* What a volume is called to the host: its first path, else its name. */
const char *win_volume_label(const WinVolume *volume);
const char *win_verdict_name(WinVerdict verdict);

#endif
