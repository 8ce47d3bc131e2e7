/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * eligibility.c — running state, per-mount verdicts and the snapshot method;
 * see the header for the reason codes and the confinement rule.
 */
#include "fsfreeze/eligibility.h"

#include "common/quiesce-error.h"
#include "fsfreeze/freeze-order.h"
#include "fsfreeze/mountinfo.h"

#include <string.h>

typedef struct {
    const char *name;
    RunningState state;
} RunningStateRow;

/* systemd's states (man systemctl, is-system-running). */
static const RunningStateRow running_state_table[] = {
    { "running", RUNNING_STATE_RUNNING },
    { "degraded", RUNNING_STATE_DEGRADED },
    { "initializing", RUNNING_STATE_STARTING },
    { "starting", RUNNING_STATE_STARTING },
    { "stopping", RUNNING_STATE_STOPPING },
    { "maintenance", RUNNING_STATE_MAINTENANCE },
    /* systemctl's answer when systemd is not the running init. */
    { "offline", RUNNING_STATE_NO_SYSTEMD },
};

RunningState running_state_parse(const char *system_state)
{
    g_autofree char *state = g_strstrip(g_strdup(system_state ? system_state : ""));

    if (state[0] == '\0') {
        return RUNNING_STATE_NO_SYSTEMD;
    }
    for (gsize i = 0; i < G_N_ELEMENTS(running_state_table); i++) {
        if (strcmp(running_state_table[i].name, state) == 0) {
            return running_state_table[i].state;
        }
    }
    return RUNNING_STATE_UNKNOWN;
}

const char *running_state_to_string(RunningState state)
{
    switch (state) {
    case RUNNING_STATE_RUNNING:
        return "running";
    case RUNNING_STATE_DEGRADED:
        return "degraded";
    case RUNNING_STATE_NO_SYSTEMD:
        return "running (no systemd)";
    case RUNNING_STATE_STARTING:
        return "starting";
    case RUNNING_STATE_STOPPING:
        return "stopping";
    case RUNNING_STATE_MAINTENANCE:
        return "maintenance";
    case RUNNING_STATE_UNKNOWN:
        return "unknown";
    }
    g_assert_not_reached();
}

gboolean running_state_allows_snapshot(RunningState state)
{
    switch (state) {
    case RUNNING_STATE_RUNNING:
    case RUNNING_STATE_DEGRADED:
    case RUNNING_STATE_NO_SYSTEMD:
        return TRUE;
    case RUNNING_STATE_STARTING:
    case RUNNING_STATE_STOPPING:
    case RUNNING_STATE_MAINTENANCE:
    case RUNNING_STATE_UNKNOWN:
        return FALSE;
    }
    g_assert_not_reached();
}

const char *mount_verdict_to_string(MountVerdict verdict)
{
    switch (verdict) {
    case MOUNT_VERDICT_FREEZE:
        return "freeze";
    case MOUNT_VERDICT_SKIP:
        return "skip";
    case MOUNT_VERDICT_EXCLUDE_AND_REPORT:
        return "exclude-and-report";
    case MOUNT_VERDICT_BLOCKS_CHILD_SNAPSHOT:
        return "blocks-child-snapshot";
    }
    g_assert_not_reached();
}

const char *snapshot_method_to_string(SnapshotMethod method)
{
    switch (method) {
    case SNAPSHOT_METHOD_CHILD_SNAPSHOT:
        return "child-snapshot";
    case SNAPSHOT_METHOD_SAVED_STATE:
        return "saved-state";
    }
    g_assert_not_reached();
}

EligibilityPolicy *eligibility_policy_new(void)
{
    EligibilityPolicy *policy = g_new0(EligibilityPolicy, 1);
    policy->exclude = g_ptr_array_new_with_free_func(g_free);
    return policy;
}

void eligibility_policy_free(EligibilityPolicy *policy)
{
    if (!policy) {
        return;
    }
    g_ptr_array_unref(policy->exclude);
    g_free(policy->confine);
    g_free(policy);
}

static char *normalize_absolute(const char *what, const char *path, GError **error)
{
    if (!path || path[0] != '/') {
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_INVALID_ARGUMENT,
                    "%s must be an absolute path: %s", what, path ? path : "(none)");
        return NULL;
    }
    return g_canonicalize_filename(path, "/");
}

gboolean eligibility_policy_add_exclude(EligibilityPolicy *policy, const char *mountpoint,
                                        GError **error)
{
    char *normalized = normalize_absolute("an excluded mountpoint", mountpoint, error);

    if (!normalized) {
        return FALSE;
    }
    g_ptr_array_add(policy->exclude, normalized);
    return TRUE;
}

gboolean eligibility_policy_set_confine(EligibilityPolicy *policy, const char *dir,
                                        GError **error)
{
    char *normalized = NULL;

    if (dir && !(normalized = normalize_absolute("the confine directory", dir, error))) {
        return FALSE;
    }
    g_free(policy->confine);
    policy->confine = normalized;
    return TRUE;
}

static void mount_report_free(MountReport *report)
{
    if (!report) {
        return;
    }
    g_free(report->reason);
    g_free(report);
}

static void eligibility_reason_free(EligibilityReason *reason)
{
    if (!reason) {
        return;
    }
    g_free(reason->mountpoint);
    g_free(reason->message);
    g_free(reason);
}

void eligibility_report_free(EligibilityReport *report)
{
    if (!report) {
        return;
    }
    inventory_unref(report->inventory);
    g_free(report->system_state);
    g_free(report->confine);
    g_ptr_array_unref(report->mounts);
    g_ptr_array_unref(report->reasons);
    g_ptr_array_unref(report->targets);
    g_ptr_array_unref(report->freezable_targets);
    g_free(report->freezable_order_error);
    g_free(report);
}

static gboolean policy_excludes(const EligibilityPolicy *policy, const InventoryMount *mount)
{
    for (guint i = 0; i < policy->exclude->len; i++) {
        if (inventory_mount_has_path(mount, policy->exclude->pdata[i])) {
            return TRUE;
        }
    }
    return FALSE;
}

/* Strictly below the directory, as the freezer's own guard wants it
 * (freezer.h confine_dir): a filesystem mounted on the directory itself
 * is outside. */
static gboolean policy_path_confined(const char *confine, const char *path)
{
    return mountinfo_path_contains(confine, path) && !g_str_equal(confine, path);
}

/* Inside confinement only when every mountpoint of the superblock is. */
static gboolean policy_confines(const EligibilityPolicy *policy, const InventoryMount *mount)
{
    if (!policy->confine) {
        return TRUE;
    }
    if (!policy_path_confined(policy->confine, mount->mountpoint)) {
        return FALSE;
    }
    for (guint i = 0; i < mount->aliases->len; i++) {
        if (!policy_path_confined(policy->confine, mount->aliases->pdata[i])) {
            return FALSE;
        }
    }
    return TRUE;
}

static void mount_report_block(MountReport *r, const char *code, const char *why)
{
    g_autofree char *detected = r->reason;

    r->verdict = MOUNT_VERDICT_BLOCKS_CHILD_SNAPSHOT;
    r->reason_code = code;
    r->reason = why ? g_strdup_printf("%s: %s", why, detected) : g_steal_pointer(&detected);
}

/* Sets the verdict from the detected class and the policy. */
static void mount_report_judge(MountReport *r, const EligibilityPolicy *policy)
{
    switch (r->detected_class) {
    case MOUNT_CLASS_BASIC:
        r->verdict = MOUNT_VERDICT_FREEZE;
        break;
    case MOUNT_CLASS_VOLUME_MANAGED:
    case MOUNT_CLASS_LOOP_BACKED:
        r->verdict = MOUNT_VERDICT_FREEZE;
        if (policy->strict) {
            mount_report_block(r, ELIGIBILITY_REASON_NOT_BASIC_DISK,
                               "strict mode allows basic disks only");
        }
        break;
    case MOUNT_CLASS_DYNAMIC:
        r->verdict = MOUNT_VERDICT_FREEZE;
        if (policy->strict || !policy->allow_dynamic) {
            mount_report_block(r, ELIGIBILITY_REASON_DYNAMIC_DISK,
                               policy->strict ? "strict mode allows basic disks only"
                                              : "dynamic disks are not allowed");
        }
        break;
    case MOUNT_CLASS_NOT_HOST_VISIBLE:
        r->verdict = MOUNT_VERDICT_EXCLUDE_AND_REPORT;
        break;
    case MOUNT_CLASS_UNSUPPORTED_FILESYSTEM:
        mount_report_block(r, ELIGIBILITY_REASON_UNSUPPORTED_FILESYSTEM, NULL);
        break;
    case MOUNT_CLASS_READ_ONLY:
    case MOUNT_CLASS_PSEUDO:
        r->verdict = MOUNT_VERDICT_SKIP;
        break;
    case MOUNT_CLASS_EXCLUDED:
        g_assert_not_reached(); /* never detected, only chosen by the operator */
    }
}

static MountReport *mount_report_new(const InventoryMount *mount,
                                     const EligibilityPolicy *policy)
{
    MountReport *r = g_new0(MountReport, 1);

    r->mount = mount;
    r->detected_class = mount_class_compute(mount, &r->reason);
    r->klass = r->detected_class;
    if (policy_excludes(policy, mount)) {
        g_autofree char *detected = r->reason;
        r->klass = MOUNT_CLASS_EXCLUDED;
        r->verdict = MOUNT_VERDICT_SKIP;
        r->reason = g_strdup_printf("excluded by configuration (found %s: %s)",
                                    mount_class_to_string(r->detected_class), detected);
        return r;
    }
    mount_report_judge(r, policy);
    return r;
}

static void report_add_reason(EligibilityReport *report, const char *code,
                              const char *mountpoint, const char *message)
{
    EligibilityReason *reason = g_new0(EligibilityReason, 1);
    reason->code = code;
    reason->mountpoint = g_strdup(mountpoint);
    reason->message = g_strdup(message);
    g_ptr_array_add(report->reasons, reason);
}

void eligibility_report_block(EligibilityReport *report, const char *code,
                              const char *mountpoint, const char *message)
{
    report_add_reason(report, code, mountpoint, message);
    report->method = SNAPSHOT_METHOD_SAVED_STATE;
}

/* Whether a mount can be frozen at all: frozen, or blocked by policy only. */
static gboolean mount_report_is_freezable(const MountReport *r)
{
    return r->verdict == MOUNT_VERDICT_FREEZE ||
           (r->verdict == MOUNT_VERDICT_BLOCKS_CHILD_SNAPSHOT &&
            g_strcmp0(r->reason_code, ELIGIBILITY_REASON_UNSUPPORTED_FILESYSTEM) != 0);
}

/* Computes both target lists; an ordering failure of the snapshot set is a
 * reason for saved state. */
static void report_order_targets(EligibilityReport *report)
{
    g_autoptr(GPtrArray) set = g_ptr_array_new();
    g_autoptr(GPtrArray) freezable = g_ptr_array_new();
    g_autoptr(GError) error = NULL;
    GPtrArray *ordered;

    for (guint i = 0; i < report->mounts->len; i++) {
        const MountReport *r = report->mounts->pdata[i];
        if (r->verdict == MOUNT_VERDICT_FREEZE) {
            g_ptr_array_add(set, (gpointer)r->mount);
        }
        if (mount_report_is_freezable(r)) {
            g_ptr_array_add(freezable, (gpointer)r->mount);
        }
    }
    ordered = freeze_order_compute(set, &error);
    if (ordered) {
        g_ptr_array_extend_and_steal(report->targets, ordered);
    } else {
        report_add_reason(report, ELIGIBILITY_REASON_FREEZE_ORDER, NULL, error->message);
    }
    g_clear_error(&error);
    ordered = freeze_order_compute(freezable, &error);
    if (ordered) {
        g_ptr_array_extend_and_steal(report->freezable_targets, ordered);
    } else {
        report->freezable_order_error = g_strdup(error->message);
    }
}

EligibilityReport *eligibility_evaluate(Inventory *inventory, const EligibilityPolicy *policy,
                                        const char *system_state)
{
    EligibilityReport *report = g_new0(EligibilityReport, 1);

    report->inventory = inventory_ref(inventory);
    report->system_state = g_strdup(system_state);
    report->running_state = running_state_parse(system_state);
    report->strict = policy->strict;
    report->allow_dynamic = policy->allow_dynamic;
    report->confine = g_strdup(policy->confine);
    report->mounts = g_ptr_array_new_with_free_func((GDestroyNotify)mount_report_free);
    report->reasons = g_ptr_array_new_with_free_func((GDestroyNotify)eligibility_reason_free);
    report->targets = freeze_target_array_new();
    report->freezable_targets = freeze_target_array_new();
    if (!running_state_allows_snapshot(report->running_state)) {
        g_autofree char *state = g_strstrip(g_strdup(system_state));
        g_autofree char *message = g_strdup_printf("the system is %s, not running", state);
        report_add_reason(report, ELIGIBILITY_REASON_NOT_RUNNING, NULL, message);
    }
    for (guint i = 0; i < inventory->mounts->len; i++) {
        const InventoryMount *mount = inventory->mounts->pdata[i];
        MountReport *r;

        if (!policy_confines(policy, mount)) {
            continue;
        }
        r = mount_report_new(mount, policy);
        g_ptr_array_add(report->mounts, r);
        if (r->verdict == MOUNT_VERDICT_BLOCKS_CHILD_SNAPSHOT) {
            report_add_reason(report, r->reason_code, mount->mountpoint, r->reason);
        }
    }
    report_order_targets(report);
    report->method = report->reasons->len ? SNAPSHOT_METHOD_SAVED_STATE
                                          : SNAPSHOT_METHOD_CHILD_SNAPSHOT;
    return report;
}

const MountReport *eligibility_report_find_mount(const EligibilityReport *report,
                                                 const char *path)
{
    for (guint i = 0; i < report->mounts->len; i++) {
        const MountReport *r = report->mounts->pdata[i];
        if (inventory_mount_has_path(r->mount, path)) {
            return r;
        }
    }
    return NULL;
}

const EligibilityReason *eligibility_report_find_reason(const EligibilityReport *report,
                                                        const char *code,
                                                        const char *mountpoint)
{
    for (guint i = 0; i < report->reasons->len; i++) {
        const EligibilityReason *reason = report->reasons->pdata[i];
        if (strcmp(reason->code, code) == 0 &&
            (!mountpoint || g_strcmp0(reason->mountpoint, mountpoint) == 0)) {
            return reason;
        }
    }
    return NULL;
}

GPtrArray *eligibility_report_copy_targets(const EligibilityReport *report)
{
    GPtrArray *copy = freeze_target_array_new();

    for (guint i = 0; i < report->targets->len; i++) {
        g_ptr_array_add(copy, freeze_target_copy(report->targets->pdata[i]));
    }
    return copy;
}
