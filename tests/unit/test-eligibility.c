/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-eligibility.c — verdicts, snapshot method and reason codes, freeze
 * order, strict mode, dynamic disks, exclusions, confinement, running state
 * and the --check table, on the synthesized fixtures and the recorded one (the
 * table the live probe printed in that guest); plus one read-only probe
 * of the machine the tests run on (nothing is ever frozen here).
 */
#include "fsfreeze/eligibility.h"
#include "fsfreeze/freeze-order.h"
#include "fsfreeze/report-table.h"

#include "common/quiesce-error.h"
#include "tests/support/inventory-fixture.h"
#include "tests/support/test-run.h"

#include <string.h>
#include <sys/sysmacros.h>

static EligibilityReport *evaluate(const char *fixture, const EligibilityPolicy *policy,
                                   const char *state)
{
    g_autoptr(Inventory) inventory = inventory_fixture_load(fixture);
    g_autoptr(EligibilityPolicy) fallback = eligibility_policy_new();

    return eligibility_evaluate(inventory, policy ? policy : fallback, state);
}

static EligibilityReport *evaluate_default(const char *fixture)
{
    return evaluate(fixture, NULL, "running");
}

/* The targets' mountpoints joined with spaces, for one-line comparisons;
 * ":N" after those of dependency level N > 0 (freeze-order.h). */
static char *targets_text(GPtrArray *targets)
{
    GString *text = g_string_new(NULL);

    for (guint i = 0; i < targets->len; i++) {
        const FreezeTarget *target = targets->pdata[i];
        g_string_append_printf(text, "%s%s", i ? " " : "", target->mountpoint);
        if (target->level > 0) {
            g_string_append_printf(text, ":%u", target->level);
        }
    }
    return g_string_free(text, FALSE);
}

static void assert_targets(GPtrArray *targets, const char *expected)
{
    g_autofree char *text = targets_text(targets);
    g_assert_cmpstr(text, ==, expected);
}

static const MountReport *must_find(const EligibilityReport *report, const char *path)
{
    const MountReport *r = eligibility_report_find_mount(report, path);
    if (!r) {
        g_error("no report for %s", path);
    }
    return r;
}

static void assert_verdict(const EligibilityReport *report, const char *path, MountClass klass,
                           MountVerdict verdict)
{
    const MountReport *r = must_find(report, path);
    g_test_message("%s: %s %s (%s)", path, mount_class_to_string(r->klass),
                   mount_verdict_to_string(r->verdict), r->reason);
    g_assert_cmpstr(mount_class_to_string(r->klass), ==, mount_class_to_string(klass));
    g_assert_cmpstr(mount_verdict_to_string(r->verdict), ==, mount_verdict_to_string(verdict));
}

static void test_basic_disk_allows_child_snapshot(void)
{
    g_autoptr(EligibilityReport) report = evaluate_default("virtio-blk");
    const FreezeTarget *root;

    g_assert_cmpint(report->method, ==, SNAPSHOT_METHOD_CHILD_SNAPSHOT);
    g_assert_cmpuint(report->reasons->len, ==, 0);
    assert_verdict(report, "/", MOUNT_CLASS_BASIC, MOUNT_VERDICT_FREEZE);
    assert_verdict(report, "/proc", MOUNT_CLASS_PSEUDO, MOUNT_VERDICT_SKIP);
    assert_verdict(report, "/run", MOUNT_CLASS_PSEUDO, MOUNT_VERDICT_SKIP);
    assert_targets(report->targets, "/");
    root = report->targets->pdata[0];
    g_assert_cmpstr(root->fstype, ==, "ext4");
    g_assert_cmpuint(major(root->dev), ==, 252);
    g_assert_cmpuint(minor(root->dev), ==, 1);
}

static void test_volume_managed_default_and_strict(void)
{
    g_autoptr(EligibilityPolicy) strict = eligibility_policy_new();
    g_autoptr(EligibilityReport) report = evaluate_default("lvm-on-crypt");

    g_assert_cmpint(report->method, ==, SNAPSHOT_METHOD_CHILD_SNAPSHOT);
    assert_verdict(report, "/", MOUNT_CLASS_VOLUME_MANAGED, MOUNT_VERDICT_FREEZE);
    assert_verdict(report, "/home", MOUNT_CLASS_VOLUME_MANAGED, MOUNT_VERDICT_FREEZE);
    assert_targets(report->targets, "/home /boot /");

    strict->strict = TRUE;
    g_autoptr(EligibilityReport) strict_report = evaluate("lvm-on-crypt", strict, "running");
    g_assert_cmpint(strict_report->method, ==, SNAPSHOT_METHOD_SAVED_STATE);
    assert_verdict(strict_report, "/", MOUNT_CLASS_VOLUME_MANAGED,
                   MOUNT_VERDICT_BLOCKS_CHILD_SNAPSHOT);
    assert_verdict(strict_report, "/boot", MOUNT_CLASS_BASIC, MOUNT_VERDICT_FREEZE);
    const EligibilityReason *reason =
        eligibility_report_find_reason(strict_report, ELIGIBILITY_REASON_NOT_BASIC_DISK, "/home");
    g_assert_nonnull(reason);
    g_assert_nonnull(strstr(reason->message, "strict mode"));
    g_assert_cmpuint(strict_report->reasons->len, ==, 2);
    /* guest-fsfreeze-freeze still freezes everything it can. */
    assert_targets(strict_report->targets, "/boot");
    assert_targets(strict_report->freezable_targets, "/home /boot /");
}

static void test_dynamic_disks(void)
{
    g_autoptr(EligibilityPolicy) allow = eligibility_policy_new();
    g_autoptr(EligibilityReport) report = evaluate_default("md-raid1");

    g_assert_cmpint(report->method, ==, SNAPSHOT_METHOD_SAVED_STATE);
    const MountReport *data = must_find(report, "/data");
    g_assert_cmpint(data->verdict, ==, MOUNT_VERDICT_BLOCKS_CHILD_SNAPSHOT);
    g_assert_cmpstr(data->reason_code, ==, ELIGIBILITY_REASON_DYNAMIC_DISK);
    g_assert_nonnull(eligibility_report_find_reason(report, "dynamic-disk", "/data"));
    assert_targets(report->targets, "/");
    assert_targets(report->freezable_targets, "/data /");

    allow->allow_dynamic = TRUE;
    g_autoptr(EligibilityReport) allowed = evaluate("md-raid1", allow, "running");
    g_assert_cmpint(allowed->method, ==, SNAPSHOT_METHOD_CHILD_SNAPSHOT);
    assert_verdict(allowed, "/data", MOUNT_CLASS_DYNAMIC, MOUNT_VERDICT_FREEZE);
    assert_targets(allowed->targets, "/data /");

    allow->strict = TRUE; /* strict wins over allow_dynamic */
    g_autoptr(EligibilityReport) strict = evaluate("md-raid1", allow, "running");
    g_assert_nonnull(eligibility_report_find_reason(strict, "dynamic-disk", "/data"));

    g_clear_pointer(&report, eligibility_report_free);
    report = evaluate_default("btrfs-raid1");
    g_assert_nonnull(eligibility_report_find_reason(report, "dynamic-disk", "/pool"));
    g_clear_pointer(&report, eligibility_report_free);
    report = evaluate_default("lvm");
    g_assert_nonnull(eligibility_report_find_reason(report, "dynamic-disk", "/var"));
    assert_verdict(report, "/srv", MOUNT_CLASS_VOLUME_MANAGED, MOUNT_VERDICT_FREEZE);
}

static void test_unsupported_filesystem_and_exclusion(void)
{
    g_autoptr(EligibilityPolicy) policy = eligibility_policy_new();
    g_autoptr(EligibilityReport) report = evaluate_default("vfat-efi");

    g_assert_cmpint(report->method, ==, SNAPSHOT_METHOD_SAVED_STATE);
    g_assert_nonnull(
        eligibility_report_find_reason(report, "unsupported-filesystem", "/boot/efi"));
    assert_verdict(report, "/boot/efi", MOUNT_CLASS_UNSUPPORTED_FILESYSTEM,
                   MOUNT_VERDICT_BLOCKS_CHILD_SNAPSHOT);
    assert_targets(report->freezable_targets, "/");

    g_assert_true(eligibility_policy_add_exclude(policy, "/boot/efi/", NULL));
    g_autoptr(EligibilityReport) excluded = evaluate("vfat-efi", policy, "running");
    g_assert_cmpint(excluded->method, ==, SNAPSHOT_METHOD_CHILD_SNAPSHOT);
    const MountReport *efi = must_find(excluded, "/boot/efi");
    g_assert_cmpint(efi->klass, ==, MOUNT_CLASS_EXCLUDED);
    g_assert_cmpint(efi->detected_class, ==, MOUNT_CLASS_UNSUPPORTED_FILESYSTEM);
    g_assert_cmpint(efi->verdict, ==, MOUNT_VERDICT_SKIP);
    g_assert_nonnull(strstr(efi->reason, "excluded by configuration"));
    assert_targets(excluded->targets, "/");
}

/* Excluding any mountpoint of a filesystem excludes the filesystem. */
static void test_exclude_by_alias(void)
{
    g_autoptr(EligibilityPolicy) policy = eligibility_policy_new();
    g_autoptr(EligibilityReport) report = NULL;

    g_assert_true(eligibility_policy_add_exclude(policy, "/var/www", NULL));
    report = evaluate("bind-mounts", policy, "running");
    assert_verdict(report, "/data", MOUNT_CLASS_EXCLUDED, MOUNT_VERDICT_SKIP);
    assert_targets(report->targets, "/");
}

static void test_not_host_visible_is_reported_not_frozen(void)
{
    const char *cases[][2] = {
        { "iscsi", "/mnt/iscsi" },    { "nfs", "/home" },        { "cifs", "/mnt/share" },
        { "fuse-sshfs", "/mnt/remote" }, { "usb", "/media/usb" }, { "controllers", "/mnt/nbd" },
        { "controllers", "/mnt/nvme-tcp" },
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(EligibilityReport) report = evaluate_default(cases[i][0]);
        g_autofree char *targets = targets_text(report->targets);

        assert_verdict(report, cases[i][1], MOUNT_CLASS_NOT_HOST_VISIBLE,
                       MOUNT_VERDICT_EXCLUDE_AND_REPORT);
        g_assert_cmpint(report->method, ==, SNAPSHOT_METHOD_CHILD_SNAPSHOT);
        g_assert_null(strstr(targets, cases[i][1]));
    }
}

static void test_read_only_and_pseudo_are_skipped(void)
{
    g_autoptr(EligibilityReport) report = evaluate_default("read-only");
    g_autoptr(EligibilityReport) pseudo = evaluate_default("pseudo");

    assert_verdict(report, "/srv/reference", MOUNT_CLASS_READ_ONLY, MOUNT_VERDICT_SKIP);
    assert_verdict(report, "/media/cdrom", MOUNT_CLASS_READ_ONLY, MOUNT_VERDICT_SKIP);
    assert_targets(report->targets, "/");
    g_assert_cmpint(pseudo->method, ==, SNAPSHOT_METHOD_CHILD_SNAPSHOT);
    assert_targets(pseudo->targets, "/");
    for (guint i = 0; i < pseudo->mounts->len; i++) {
        const MountReport *r = pseudo->mounts->pdata[i];
        if (strcmp(r->mount->mountpoint, "/") != 0) {
            g_assert_cmpint(r->verdict, ==, MOUNT_VERDICT_SKIP);
        }
    }
}

/* docs/design.md §5: read-only is the superblock's flag. Under
 * ProtectSystem=strict the agent's own namespace has / remounted read-only;
 * the guest still writes to it, so it is frozen like any basic disk. */
static void test_read_only_in_namespace_only_is_frozen(void)
{
    g_autoptr(EligibilityReport) report = evaluate_default("sandboxed");

    assert_verdict(report, "/", MOUNT_CLASS_BASIC, MOUNT_VERDICT_FREEZE);
    assert_verdict(report, "/srv/reference", MOUNT_CLASS_READ_ONLY, MOUNT_VERDICT_SKIP);
    assert_targets(report->targets, "/");
    g_assert_cmpint(report->method, ==, SNAPSHOT_METHOD_CHILD_SNAPSHOT);
}

static void test_freeze_order_loop_in_loop(void)
{
    g_autoptr(EligibilityReport) report = evaluate_default("loop-in-loop");

    g_assert_cmpint(report->method, ==, SNAPSHOT_METHOD_CHILD_SNAPSHOT);
    assert_verdict(report, "/data/img", MOUNT_CLASS_LOOP_BACKED, MOUNT_VERDICT_FREEZE);
    assert_targets(report->targets, "/data/img/inner / /data/img:1 /data:2");
}

/* The loop image's filesystem goes first even though the filesystem
 * holding the image is mounted deeper; an image on tmpfs is not frozen. */
static void test_freeze_order_loop_elsewhere(void)
{
    g_autoptr(EligibilityReport) report = evaluate_default("loop-elsewhere");

    assert_verdict(report, "/mnt/scratch", MOUNT_CLASS_NOT_HOST_VISIBLE,
                   MOUNT_VERDICT_EXCLUDE_AND_REPORT);
    assert_targets(report->targets, "/mnt/orphan /vm / /srv/images:1");
}

static void test_freeze_order_nested_and_aliases(void)
{
    g_autoptr(EligibilityReport) btrfs = evaluate_default("btrfs-subvolumes");
    g_autoptr(EligibilityReport) binds = evaluate_default("bind-mounts");
    g_autoptr(EligibilityReport) nvme = evaluate_default("nvme");
    const FreezeTarget *root;

    /* "/" is a btrfs subvolume with /home as an alias: frozen once, last. */
    assert_targets(btrfs->targets, "/boot /");
    root = btrfs->targets->pdata[1];
    g_assert_cmpstr(root->fstype, ==, "btrfs");
    g_assert_cmpuint(major(root->dev), ==, 0);
    g_assert_cmpuint(minor(root->dev), ==, 31);
    assert_targets(binds->targets, "/data /");
    assert_targets(nvme->targets, "/boot /");
}

static void test_freeze_order_cycle(void)
{
    g_autoptr(EligibilityReport) report = evaluate_default("loop-cycle");
    const EligibilityReason *reason;
    g_autoptr(Inventory) inventory = inventory_fixture_load("loop-cycle");
    g_autoptr(GPtrArray) set = g_ptr_array_new();
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) order = NULL;

    g_assert_cmpint(report->method, ==, SNAPSHOT_METHOD_SAVED_STATE);
    reason = eligibility_report_find_reason(report, ELIGIBILITY_REASON_FREEZE_ORDER, NULL);
    g_assert_nonnull(reason);
    g_assert_nonnull(strstr(reason->message, "/a, /b"));
    g_assert_cmpuint(report->targets->len, ==, 0);
    /* guest-fsfreeze-freeze's set cannot be ordered either: it must say so
     * rather than freeze nothing and answer 0. */
    g_assert_cmpuint(report->freezable_targets->len, ==, 0);
    g_assert_nonnull(report->freezable_order_error);
    g_assert_nonnull(strstr(report->freezable_order_error, "/a, /b"));

    g_ptr_array_add(set, (gpointer)inventory_find_mount(inventory, "/a"));
    g_ptr_array_add(set, (gpointer)inventory_find_mount(inventory, "/b"));
    order = freeze_order_compute(set, &error);
    g_assert_null(order);
    g_assert_error(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED);
    /* One of them alone is fine: its image's holder is not in the set. */
    g_ptr_array_remove_index(set, 1);
    g_clear_error(&error);
    order = freeze_order_compute(set, &error);
    g_assert_no_error(error);
    assert_targets(order, "/a");
}

static void test_confinement(void)
{
    g_autoptr(EligibilityPolicy) policy = eligibility_policy_new();
    g_autoptr(EligibilityReport) report = NULL;

    g_assert_true(eligibility_policy_set_confine(policy, "/data/", NULL));
    report = evaluate("loop-in-loop", policy, "running");
    g_assert_cmpuint(report->mounts->len, ==, 2);
    g_assert_null(eligibility_report_find_mount(report, "/"));
    g_assert_null(eligibility_report_find_mount(report, "/data"));
    assert_targets(report->targets, "/data/img/inner /data/img:1");
    g_clear_pointer(&report, eligibility_report_free);

    /* Strictly below: the filesystem mounted on the directory is outside,
     * as the freezer's guard (freezer.h) wants it. */
    g_assert_true(eligibility_policy_set_confine(policy, "/data/img", NULL));
    report = evaluate("loop-in-loop", policy, "running");
    g_assert_cmpuint(report->mounts->len, ==, 1);
    g_assert_null(eligibility_report_find_mount(report, "/data/img"));
    assert_targets(report->targets, "/data/img/inner");
    g_clear_pointer(&report, eligibility_report_free);

    /* A filesystem also mounted outside the directory stays out entirely. */
    g_assert_true(eligibility_policy_set_confine(policy, "/data", NULL));
    report = evaluate("bind-mounts", policy, "running");
    g_assert_cmpuint(report->mounts->len, ==, 0);
    g_assert_cmpint(report->method, ==, SNAPSHOT_METHOD_CHILD_SNAPSHOT);
    g_assert_cmpuint(report->targets->len, ==, 0);
    g_clear_pointer(&report, eligibility_report_free);

    /* Ignored mounts are not reported as blocking either. */
    g_assert_true(eligibility_policy_set_confine(policy, "/srv", NULL));
    report = evaluate("vfat-efi", policy, "running");
    g_assert_cmpint(report->method, ==, SNAPSHOT_METHOD_CHILD_SNAPSHOT);
    g_assert_cmpuint(report->mounts->len, ==, 0);
    g_clear_pointer(&report, eligibility_report_free);

    g_assert_true(eligibility_policy_set_confine(policy, NULL, NULL));
    report = evaluate("vfat-efi", policy, "running");
    g_assert_cmpint(report->method, ==, SNAPSHOT_METHOD_SAVED_STATE);
}

static void test_policy_rejects_relative_paths(void)
{
    g_autoptr(EligibilityPolicy) policy = eligibility_policy_new();
    g_autoptr(GError) error = NULL;

    g_assert_false(eligibility_policy_add_exclude(policy, "boot/efi", &error));
    g_assert_error(error, QUIESCE_ERROR, QUIESCE_ERROR_INVALID_ARGUMENT);
    g_clear_error(&error);
    g_assert_false(eligibility_policy_set_confine(policy, "tmp", &error));
    g_assert_error(error, QUIESCE_ERROR, QUIESCE_ERROR_INVALID_ARGUMENT);
    g_assert_cmpuint(policy->exclude->len, ==, 0);
    g_assert_null(policy->confine);
}

static void test_running_state(void)
{
    const struct {
        const char *state;
        RunningState parsed;
        gboolean allowed;
    } cases[] = {
        { NULL, RUNNING_STATE_NO_SYSTEMD, TRUE },
        { "running\n", RUNNING_STATE_RUNNING, TRUE },
        { "degraded", RUNNING_STATE_DEGRADED, TRUE },
        { "offline", RUNNING_STATE_NO_SYSTEMD, TRUE },
        { "initializing", RUNNING_STATE_STARTING, FALSE },
        { "starting", RUNNING_STATE_STARTING, FALSE },
        { "stopping", RUNNING_STATE_STOPPING, FALSE },
        { "maintenance", RUNNING_STATE_MAINTENANCE, FALSE },
        { "unknown", RUNNING_STATE_UNKNOWN, FALSE },
        { "bogus", RUNNING_STATE_UNKNOWN, FALSE },
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(EligibilityReport) report = evaluate("virtio-blk", NULL, cases[i].state);
        const EligibilityReason *reason =
            eligibility_report_find_reason(report, ELIGIBILITY_REASON_NOT_RUNNING, NULL);

        g_assert_cmpint(running_state_parse(cases[i].state), ==, cases[i].parsed);
        g_assert_cmpint(running_state_allows_snapshot(cases[i].parsed), ==, cases[i].allowed);
        g_assert_cmpint(report->method, ==,
                        cases[i].allowed ? SNAPSHOT_METHOD_CHILD_SNAPSHOT
                                         : SNAPSHOT_METHOD_SAVED_STATE);
        g_assert_true((reason != NULL) == !cases[i].allowed);
        if (reason) {
            g_assert_null(reason->mountpoint);
            g_assert_nonnull(strstr(reason->message, cases[i].state));
        }
        /* The freeze set does not depend on the running state. */
        assert_targets(report->targets, "/");
    }
}

static void test_copy_targets(void)
{
    g_autoptr(EligibilityReport) report = evaluate_default("loop-in-loop");
    g_autoptr(GPtrArray) copy = eligibility_report_copy_targets(report);

    g_clear_pointer(&report, eligibility_report_free);
    assert_targets(copy, "/data/img/inner / /data/img:1 /data:2");
}

static void test_table(void)
{
    g_autoptr(EligibilityReport) report = evaluate_default("vfat-efi");
    g_autoptr(GString) table = g_string_new(NULL);
    g_autoptr(GString) all = g_string_new(NULL);

    report_table_render(report, REPORT_TABLE_FLAG_DISKS, table);
    g_test_message("\n%s", table->str);
    g_assert_nonnull(strstr(table->str, "Method:        saved-state\n"));
    g_assert_nonnull(strstr(table->str, "unsupported-filesystem (/boot/efi): vfat does not"));
    g_assert_nonnull(strstr(table->str, "MOUNTPOINT  TYPE  DEVICE  CLASS"));
    g_assert_nonnull(strstr(table->str, "blocks-child-snapshot"));
    g_assert_nonnull(strstr(table->str,
                            "disk vda: virtio-blk (virtio), pci 0000:00:04.0, serial SYSDISK01"));
    g_assert_nonnull(strstr(table->str, "Skipped 6 pseudo filesystems: /sys, /proc"));
    g_assert_null(strstr(table->str, "\n/proc "));
    g_assert_nonnull(strstr(table->str, "Freeze order:  /\n"));

    report_table_render(report, REPORT_TABLE_FLAG_ALL, all);
    g_assert_nonnull(strstr(all->str, "\n/proc "));
    g_assert_null(strstr(all->str, "disk vda:"));
}

/* The recorded fixture probed here (no libblkid, no stat) gives the --check
 * table the live probe printed in the guest it was recorded in
 * (recorded-qemu-stacks/recorded.txt): every line but those naming /dev
 * nodes (here under the fixture) and the running state. */
static void test_table_matches_recorded_guest(void)
{
    g_autoptr(EligibilityReport) report = evaluate_default("recorded-qemu-stacks");
    g_autoptr(GString) table = g_string_new(NULL);
    g_autofree char *path = g_build_filename(g_getenv("QUIESCE_FIXTURES"),
                                             "recorded-qemu-stacks", "recorded.txt", NULL);
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;
    gboolean in_check = FALSE;
    guint compared = 0;

    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    report_table_render(report, REPORT_TABLE_FLAG_DISKS, table);
    g_test_message("\n%s", table->str);
    lines = g_strsplit(text, "\n", -1);
    for (guint i = 0; lines[i]; i++) {
        const char *line = g_str_has_prefix(lines[i], "  ") ? lines[i] + 2 : NULL;

        in_check = in_check || g_str_has_prefix(lines[i], "quiesced --check");
        if (!in_check || !line || line[strspn(line, " ")] == '\0' || strstr(line, "/dev/") ||
            g_str_has_prefix(line, "System state:")) {
            continue;
        }
        if (!strstr(table->str, line)) {
            g_error("recorded.txt:%u not in the fixture's table: %s", i + 1, line);
        }
        compared++;
    }
    g_assert_cmpuint(compared, >=, 14);
}

static void test_table_aliases_and_confinement(void)
{
    g_autoptr(EligibilityPolicy) policy = eligibility_policy_new();
    g_autoptr(EligibilityReport) report = evaluate_default("bind-mounts");
    g_autoptr(GString) table = g_string_new(NULL);

    report_table_render(report, REPORT_TABLE_FLAG_NONE, table);
    g_test_message("\n%s", table->str);
    g_assert_nonnull(strstr(table->str, "also mounted at /srv/my share\n"));
    g_assert_nonnull(strstr(table->str, "Freeze order:  /data, /\n"));

    g_string_truncate(table, 0);
    g_clear_pointer(&report, eligibility_report_free);
    g_assert_true(eligibility_policy_set_confine(policy, "/nothing", NULL));
    report = evaluate("bind-mounts", policy, NULL);
    report_table_render(report, REPORT_TABLE_FLAG_NONE, table);
    g_assert_nonnull(strstr(table->str, "confined to /nothing"));
    g_assert_nonnull(strstr(table->str, "running (no systemd)"));
    g_assert_nonnull(strstr(table->str, "(nothing to freeze)"));
}

/* The live system, read-only: /proc/self/mountinfo, /sys and libblkid. */
static void test_this_machine(void)
{
    g_autoptr(InventoryOptions) options = inventory_options_new();
    g_autoptr(EligibilityPolicy) policy = eligibility_policy_new();
    g_autoptr(GError) error = NULL;
    g_autoptr(Inventory) inventory = inventory_probe(options, &error);
    g_autoptr(EligibilityReport) report = NULL;
    g_autoptr(GString) table = g_string_new(NULL);
    const MountReport *root;

    g_assert_no_error(error);
    report = eligibility_evaluate(inventory, policy, NULL);
    report_table_render(report, REPORT_TABLE_FLAG_DISKS, table);
    g_test_message("\n%s", table->str);
    root = eligibility_report_find_mount(report, "/");
    if (!root) {
        quiesce_test_skip("no / in this mount namespace");
        return;
    }
    g_assert_nonnull(root->reason);
    g_assert_cmpint(root->klass, !=, MOUNT_CLASS_EXCLUDED);
    g_test_message("/ is %s; libblkid saw %s", mount_class_to_string(root->klass),
                   root->mount->signature ? root->mount->signature->type
                                          : "nothing (not probed or not readable)");
}

static const QuiesceTestFunc tests[] = {
    { "/eligibility/basic", test_basic_disk_allows_child_snapshot },
    { "/eligibility/volume-managed-and-strict", test_volume_managed_default_and_strict },
    { "/eligibility/dynamic", test_dynamic_disks },
    { "/eligibility/unsupported-and-exclusion", test_unsupported_filesystem_and_exclusion },
    { "/eligibility/exclude-by-alias", test_exclude_by_alias },
    { "/eligibility/not-host-visible", test_not_host_visible_is_reported_not_frozen },
    { "/eligibility/read-only-and-pseudo", test_read_only_and_pseudo_are_skipped },
    { "/eligibility/read-only-in-namespace-only", test_read_only_in_namespace_only_is_frozen },
    { "/eligibility/order/loop-in-loop", test_freeze_order_loop_in_loop },
    { "/eligibility/order/loop-elsewhere", test_freeze_order_loop_elsewhere },
    { "/eligibility/order/nested-and-aliases", test_freeze_order_nested_and_aliases },
    { "/eligibility/order/cycle", test_freeze_order_cycle },
    { "/eligibility/table/recorded-guest", test_table_matches_recorded_guest },
    { "/eligibility/confinement", test_confinement },
    { "/eligibility/policy-paths", test_policy_rejects_relative_paths },
    { "/eligibility/running-state", test_running_state },
    { "/eligibility/copy-targets", test_copy_targets },
    { "/eligibility/table", test_table },
    { "/eligibility/table-aliases-and-confinement", test_table_aliases_and_confinement },
    { "/eligibility/this-machine", test_this_machine },
};

QUIESCE_TEST_MAIN(tests)
