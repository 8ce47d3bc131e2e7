/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * eligibility.h — may the host take a child-VM snapshot, or must it fall
 * back to saved state? (docs/design.md §1, §5)
 *
 * Combines the guest's running state with a verdict per mount:
 *
 *   freeze                 in the snapshot set, frozen in freeze order
 *   skip                   nothing to freeze: pseudo, read-only, or excluded
 *                          by the operator
 *   exclude-and-report     data the host does not snapshot (network, FUSE,
 *                          iSCSI, USB, ...): never frozen, listed so the
 *                          operator backs it up from inside the guest
 *   blocks-child-snapshot  writable data that cannot be captured
 *                          consistently under this policy
 *
 * Machine-readable reason codes (EligibilityReason.code) — each one present
 * makes the method "saved-state":
 *
 *   not-running             the system state is not running or degraded
 *                           (starting, initializing, stopping, maintenance,
 *                           or something unrecognised)
 *   dynamic-disk            a filesystem on MD RAID or spanning several disks,
 *                           and the policy does not allow dynamic disks (or is
 *                           strict)
 *   not-basic-disk          strict mode: a filesystem on LVM, dm-crypt or a
 *                           loop image (Hyper-V's rule: basic disks only)
 *   unsupported-filesystem  a writable filesystem without freeze support that
 *                           the operator has not excluded
 *   freeze-order            the filesystems to freeze cannot be ordered safely
 *                           (a cycle of loop images, or a loop device whose
 *                           image path is unknown)
 *
 * An empty freeze set is not a reason here; the engine's verdict (check
 * and prepare) adds its own, nothing-to-freeze (agent/engine/engine.h),
 * because a child snapshot that froze nothing would look like a consistent
 * one.
 *
 * The running state is the string systemd reports (`systemctl
 * is-system-running`, or the manager's SystemState property), passed in by
 * the caller; NULL means no systemd (the guest counts as running). "offline"
 * also means systemd is not the running init.
 *
 * Confinement (policy.confine) restricts everything to filesystems all of
 * whose mountpoints are strictly under one directory; the others are left out
 * of the report entirely. A superblock also mounted outside the directory is
 * left out too, because freezing it would freeze the outside as well: this
 * is what keeps host-side tests from freezing the machine they run on.
 *
 * No JSON here: callers read the plain structs below (the report owns
 * everything it points to and keeps a reference on its inventory).
 */
#ifndef QUIESCE_FSFREEZE_ELIGIBILITY_H
#define QUIESCE_FSFREEZE_ELIGIBILITY_H

#include "fsfreeze/freeze-target.h"
#include "fsfreeze/inventory.h"
#include "fsfreeze/mount-class.h"

#include <glib.h>

#define ELIGIBILITY_REASON_NOT_RUNNING "not-running"
#define ELIGIBILITY_REASON_DYNAMIC_DISK "dynamic-disk"
#define ELIGIBILITY_REASON_NOT_BASIC_DISK "not-basic-disk"
#define ELIGIBILITY_REASON_UNSUPPORTED_FILESYSTEM "unsupported-filesystem"
#define ELIGIBILITY_REASON_FREEZE_ORDER "freeze-order"

typedef enum {
    RUNNING_STATE_RUNNING,
    RUNNING_STATE_DEGRADED,
    RUNNING_STATE_NO_SYSTEMD,
    RUNNING_STATE_STARTING,    /* "initializing" or "starting" */
    RUNNING_STATE_STOPPING,
    RUNNING_STATE_MAINTENANCE,
    RUNNING_STATE_UNKNOWN,     /* "unknown" or anything unrecognised */
} RunningState;

/* Parses systemd's system state; surrounding whitespace is ignored. */
RunningState running_state_parse(const char *system_state);
const char *running_state_to_string(RunningState state);
gboolean running_state_allows_snapshot(RunningState state);

typedef enum {
    MOUNT_VERDICT_FREEZE,
    MOUNT_VERDICT_SKIP,
    MOUNT_VERDICT_EXCLUDE_AND_REPORT,
    MOUNT_VERDICT_BLOCKS_CHILD_SNAPSHOT,
} MountVerdict;

/* "freeze", "skip", "exclude-and-report", "blocks-child-snapshot". */
const char *mount_verdict_to_string(MountVerdict verdict);

typedef enum {
    SNAPSHOT_METHOD_CHILD_SNAPSHOT,
    SNAPSHOT_METHOD_SAVED_STATE,
} SnapshotMethod;

/* "child-snapshot", "saved-state". */
const char *snapshot_method_to_string(SnapshotMethod method);

typedef struct {
    gboolean strict;        /* Hyper-V's rule: anything but basic disks blocks */
    gboolean allow_dynamic; /* dynamic disks are frozen instead of blocking */
    GPtrArray *exclude;     /* owned char *: normalized mountpoints */
    char *confine;          /* owned; normalized directory, NULL = whole system */
} EligibilityPolicy;

/* The default policy: not strict, dynamic disks block, nothing excluded,
 * not confined. (transfer full) */
EligibilityPolicy *eligibility_policy_new(void);
void eligibility_policy_free(EligibilityPolicy *policy);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(EligibilityPolicy, eligibility_policy_free)

/* Excludes the filesystem mounted at mountpoint (any of its mountpoints
 * matches). Fails with QUIESCE_ERROR_INVALID_ARGUMENT unless absolute. */
gboolean eligibility_policy_add_exclude(EligibilityPolicy *policy, const char *mountpoint,
                                        GError **error);

/* Confines the policy to dir (absolute), or lifts confinement with NULL. */
gboolean eligibility_policy_set_confine(EligibilityPolicy *policy, const char *dir,
                                        GError **error);

typedef struct {
    const InventoryMount *mount; /* borrowed from the report's inventory */
    MountClass klass;            /* MOUNT_CLASS_EXCLUDED when the policy excludes it */
    MountClass detected_class;   /* the class found on the system */
    MountVerdict verdict;
    char *reason;                /* owned; for people */
    const char *reason_code;     /* static ELIGIBILITY_REASON_* when blocking, else NULL */
} MountReport;

typedef struct {
    const char *code;  /* static ELIGIBILITY_REASON_* */
    char *mountpoint;  /* owned; NULL for reasons about the whole guest */
    char *message;     /* owned; for people */
} EligibilityReason;

typedef struct {
    Inventory *inventory;        /* owned reference */
    char *system_state;          /* owned copy of the state given, or NULL */
    RunningState running_state;
    gboolean strict;             /* the policy's settings, for display */
    gboolean allow_dynamic;
    char *confine;               /* owned, or NULL */
    SnapshotMethod method;
    GPtrArray *mounts;           /* owned MountReport, in mount order, confined */
    GPtrArray *reasons;          /* owned EligibilityReason; empty for child-snapshot */
    GPtrArray *targets;          /* owned FreezeTarget: the snapshot set in freeze
                                  * order (verdict freeze); empty if ordering failed */
    GPtrArray *freezable_targets; /* owned FreezeTarget: every mount that can be
                                   * frozen, policy blocks aside (dynamic, strict), in
                                   * freeze order: what guest-fsfreeze-freeze freezes */
    char *freezable_order_error;  /* owned; why freezable_targets could not be
                                   * ordered (it is then empty), or NULL */
} EligibilityReport;

/* Evaluates inventory under policy and the system state (NULL: no systemd).
 * Takes its own reference on inventory. (transfer full) */
EligibilityReport *eligibility_evaluate(Inventory *inventory, const EligibilityPolicy *policy,
                                        const char *system_state);

void eligibility_report_free(EligibilityReport *report);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(EligibilityReport, eligibility_report_free)

/* The report of the filesystem mounted at path (mountpoint or alias), or
 * NULL. (transfer none) */
const MountReport *eligibility_report_find_mount(const EligibilityReport *report,
                                                 const char *path);

/* The reason with this code (and mountpoint, unless NULL), or NULL.
 * (transfer none) */
const EligibilityReason *eligibility_report_find_reason(const EligibilityReport *report,
                                                        const char *code,
                                                        const char *mountpoint);

/* Adds a reason found outside fsfreeze (an untrusted writer script, say)
 * and makes the method saved-state. code must be static. */
void eligibility_report_block(EligibilityReport *report, const char *code,
                              const char *mountpoint, const char *message);

/* A copy of report->targets the freezer can own. (transfer full) */
GPtrArray *eligibility_report_copy_targets(const EligibilityReport *report);

#endif
