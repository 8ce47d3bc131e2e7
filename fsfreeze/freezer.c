/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * freezer.c — all-or-nothing FIFREEZE over a target set and FITHAW of
 * exactly what we froze; see freezer.h for the policy and how it differs
 * from qemu-ga.
 *
 * Kernel behaviours relied on (fs/ioctl.c ioctl_fsfreeze()/ioctl_fsthaw(),
 * fs/super.c freeze_super()/thaw_super(), Linux 6.1-6.18):
 *   - FIFREEZE on a superblock that userspace already froze fails EBUSY,
 *     whoever froze it. Userspace freezes do not nest, so an EBUSY target
 *     is someone else's freeze (or the same superblock listed twice, which
 *     we refuse up front) and must neither count as ours nor be thawed.
 *   - FITHAW on a superblock that is not frozen (by userspace) fails EINVAL:
 *     someone else thawed it. The filesystem is thawed, which is what we
 *     wanted, so it is a note, not a failure.
 *   - FIFREEZE fails EOPNOTSUPP when the filesystem has no freeze support
 *     (vfat, exfat, ...).
 *   - Freezing works through any fd on any mount of the superblock; bind
 *     mounts and btrfs subvolumes of one filesystem share it, so a second
 *     mount of a frozen superblock reports EBUSY (and a thaw through it
 *     EINVAL once thawed). The probe must list each superblock once.
 *   - Opening a directory O_RDONLY does not write, even on a frozen
 *     filesystem (atime updates skip frozen superblocks), so the recovery
 *     path may open mountpoints of frozen filesystems.
 */
#include "fsfreeze/freezer.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "common/quiesce-error.h"
#include "fsfreeze/freeze-parallel.h"
#include "fsfreeze/freezer-private.h"
#include "fsfreeze/fs-type.h"
#include "fsfreeze/mountinfo.h"

static void fs_frozen_entry_free(FsFrozenEntry *entry)
{
    if (!entry) {
        return;
    }
    if (entry->fd >= 0) {
        close(entry->fd);
    }
    freeze_target_free(entry->target);
    g_free(entry);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(FsFrozenEntry, fs_frozen_entry_free)

/*
 * The kernel ignores the argument of FIFREEZE/FITHAW, but both are declared
 * _IOWR(..., int), so valgrind checks it as an int pointer: pass a real one.
 */
static int fs_freeze_real(int fd, gpointer user_data)
{
    int unused = 0;
    return ioctl(fd, FIFREEZE, &unused) == 0 ? 0 : errno;
}

static int fs_thaw_real(int fd, gpointer user_data)
{
    int unused = 0;
    return ioctl(fd, FITHAW, &unused) == 0 ? 0 : errno;
}

const FsFreezeOps *fs_freeze_ops_default(void)
{
    static const FsFreezeOps real = { .freeze = fs_freeze_real, .thaw = fs_thaw_real };
    return &real;
}

/* The rules of freezer.h: a synthetic machine (mount_root, fd_dev) only
 * with fake ioctls, and so are ops run in the caller (in_caller): a real
 * FIFREEZE can block on a hung device, past any deadline. */
static gboolean ops_check(const FsFreezeOps *ops, GError **error)
{
    if (ops && (ops->mount_root || ops->fd_dev || ops->in_caller) &&
        (!ops->freeze || !ops->thaw || ops->freeze == fs_freeze_real ||
         ops->thaw == fs_thaw_real)) {
        g_set_error_literal(error, QUIESCE_ERROR, QUIESCE_ERROR_INVALID_ARGUMENT,
                            ops->in_caller && !ops->mount_root && !ops->fd_dev
                                ? "refusing to run the real FIFREEZE/FITHAW without threads"
                                : "refusing a synthetic mount table with the real FIFREEZE/FITHAW");
        return FALSE;
    }
    return TRUE;
}

/* The device of an opened mountpoint: fstat(), or the seam's. */
static int ops_fd_dev(const FsFreezeOps *ops, int fd, dev_t *out_dev)
{
    struct stat st;

    if (ops && ops->fd_dev) {
        return ops->fd_dev(fd, out_dev, ops->user_data);
    }
    if (fstat(fd, &st) != 0) {
        return errno;
    }
    *out_dev = st.st_dev;
    return 0;
}

static FsFrozenSet *fs_frozen_set_new(const FsFreezeOps *ops)
{
    FsFrozenSet *set = g_new0(FsFrozenSet, 1);
    set->entries = g_ptr_array_new_with_free_func((GDestroyNotify)fs_frozen_entry_free);
    set->ops = ops ? *ops : *fs_freeze_ops_default();
    set->timings.dirty_kib = -1;
    return set;
}

void fs_frozen_set_free(FsFrozenSet *set)
{
    if (!set) {
        return;
    }
    g_ptr_array_unref(set->entries);
    if (set->knob_notes) {
        g_string_free(set->knob_notes, TRUE);
    }
    g_free(set);
}

guint fs_frozen_set_get_length(const FsFrozenSet *set)
{
    return set->entries->len;
}

const FreezeTarget *fs_frozen_set_get_target(const FsFrozenSet *set, guint index)
{
    g_return_val_if_fail(index < set->entries->len, NULL);
    FsFrozenEntry *entry = g_ptr_array_index(set->entries, index);
    return entry->target;
}

GPtrArray *fs_frozen_set_dup_targets(const FsFrozenSet *set)
{
    GPtrArray *targets = freeze_target_array_new();
    for (guint i = 0; i < set->entries->len; i++) {
        FsFrozenEntry *entry = g_ptr_array_index(set->entries, i);
        g_ptr_array_add(targets, freeze_target_copy(entry->target));
    }
    return targets;
}

const FsFreezeTimings *fs_frozen_set_get_timings(const FsFrozenSet *set)
{
    return &set->timings;
}

char *fs_frozen_set_describe_timings(const FsFrozenSet *set)
{
    const FsFreezeTimings *t = &set->timings;
    GString *text = g_string_new(NULL);

    g_string_append_printf(text, "open %.1f ms, pre-sync %.1f ms in %u pass%s", t->open_us / 1000.0,
                           t->presync_us / 1000.0, t->presync_passes,
                           t->presync_passes == 1 ? "" : "es");
    if (t->dirty_kib >= 0) {
        g_string_append_printf(text, " (%.1f MiB dirty)", t->dirty_kib / 1024.0);
    }
    g_string_append_printf(text, ", FIFREEZE %.1f ms in %u level%s", t->freeze_us / 1000.0,
                           t->levels, t->levels == 1 ? "" : "s");
    for (guint i = 0; i < set->entries->len; i++) {
        const FsFrozenEntry *entry = g_ptr_array_index(set->entries, i);
        g_string_append_printf(text, "%s%s %.1f", i == 0 ? " (" : ", ",
                               entry->target->mountpoint, entry->freeze_us / 1000.0);
    }
    g_string_append(text, set->entries->len > 0 ? ")" : "");
    if (t->writeback_prioritized) {
        g_string_append(text, ", writeback prioritized");
    }
    if (t->rcu_expedited) {
        g_string_append(text, ", RCU expedited");
    }
    if (t->writeback_prioritized || t->rcu_expedited) {
        g_string_append_printf(text, " (knobs %.1f ms)", t->knobs_us / 1000.0);
    }
    if (set->knob_notes) {
        g_string_append(text, set->knob_notes->str);
    }
    if (t->thaw_us > 0) {
        g_string_append_printf(text, ", FITHAW %.1f ms", t->thaw_us / 1000.0);
    }
    return g_string_free(text, FALSE);
}

gboolean fs_freezer_check_confined(const char *confine_dir, const char *mountpoint, int fd,
                                   GError **error)
{
    g_autoptr(Confinement) confinement = confinement_new(confine_dir, error);
    struct stat st;

    if (!confinement || !confinement_check_path(confinement, mountpoint, error)) {
        return FALSE;
    }
    if (fstat(fd, &st) != 0) {
        int saved = errno;
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_INVALID_ARGUMENT,
                    "refusing to touch %s: %s", mountpoint, g_strerror(saved));
        return FALSE;
    }
    return confinement_check_fd(confinement, fd, mountpoint, st.st_dev, error);
}

/* ---- Freeze. ---- */

static gboolean validate_targets(GPtrArray *targets, const Confinement *confinement,
                                 GError **error)
{
    g_autoptr(GHashTable) devs = g_hash_table_new_full(g_int64_hash, g_int64_equal,
                                                       g_free, NULL);
    for (guint i = 0; i < targets->len; i++) {
        const FreezeTarget *target = g_ptr_array_index(targets, i);
        const FreezeTarget *previous = i > 0 ? g_ptr_array_index(targets, i - 1) : NULL;
        if (previous && target->level < previous->level) {
            g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_INVALID_ARGUMENT,
                        "%s (level %u) comes after %s (level %u): not in freeze order",
                        target->mountpoint, target->level, previous->mountpoint,
                        previous->level);
            return FALSE;
        }
        if (!target->mountpoint || !g_path_is_absolute(target->mountpoint)) {
            g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_INVALID_ARGUMENT,
                        "mountpoint %s is not an absolute path",
                        target->mountpoint ? target->mountpoint : "(null)");
            return FALSE;
        }
        /* A superblock listed twice would fail EBUSY on its second FIFREEZE
         * and be misreported as "frozen by another process". */
        gint64 key = (gint64)target->dev;
        if (!g_hash_table_add(devs, g_memdup2(&key, sizeof(key)))) {
            g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_INVALID_ARGUMENT,
                        "%s: device %u:%u is already in the set under another mountpoint",
                        target->mountpoint, major(target->dev), minor(target->dev));
            return FALSE;
        }
        if (confinement && !confinement_check_path(confinement, target->mountpoint, error)) {
            return FALSE;
        }
    }
    return TRUE;
}

/*
 * Opens @target's mountpoint and checks it is still the probed filesystem.
 * Returns: (transfer full) an entry holding the fd, or NULL.
 */
static FsFrozenEntry *open_target(const FreezeTarget *target, const Confinement *confinement,
                                  const FsFreezeOps *ops, GError **error)
{
    /* O_DIRECTORY: a mountpoint is a directory; anything else was swapped in. */
    int fd = open(target->mountpoint, O_RDONLY | O_CLOEXEC | O_DIRECTORY);
    if (fd < 0) {
        int saved = errno;
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED, "failed to open %s: %s",
                    target->mountpoint, g_strerror(saved));
        return NULL;
    }
    g_autoptr(FsFrozenEntry) entry = g_new0(FsFrozenEntry, 1);
    entry->fd = fd;
    entry->target = freeze_target_copy(target);

    dev_t dev = 0;
    int err = ops_fd_dev(ops, fd, &dev);
    if (err != 0) {
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED, "failed to stat %s: %s",
                    target->mountpoint, g_strerror(err));
        return NULL;
    }
    if (dev != target->dev) {
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_NOT_FOUND,
                    "%s is no longer the probed mount (device %u:%u, expected %u:%u)",
                    target->mountpoint, major(dev), minor(dev),
                    major(target->dev), minor(target->dev));
        return NULL;
    }
    if (confinement && !confinement_check_fd(confinement, fd, target->mountpoint, dev,
                                             error)) {
        return NULL;
    }
    return g_steal_pointer(&entry);
}

static GPtrArray *open_targets(GPtrArray *targets, const Confinement *confinement,
                               const FsFreezeOps *ops, GError **error)
{
    g_autoptr(GPtrArray) opened =
        g_ptr_array_new_with_free_func((GDestroyNotify)fs_frozen_entry_free);
    for (guint i = 0; i < targets->len; i++) {
        FsFrozenEntry *entry = open_target(g_ptr_array_index(targets, i), confinement, ops,
                                           error);
        if (!entry) {
            return NULL;
        }
        g_ptr_array_add(opened, entry);
    }
    return g_steal_pointer(&opened);
}

void freezer_set_freeze_error(GError **error, const FreezeTarget *target, int err)
{
    switch (err) {
    case EBUSY:
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_BUSY,
                    "%s is already frozen by another process", target->mountpoint);
        break;
    case EOPNOTSUPP:
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_NOT_SUPPORTED,
                    "failed to freeze %s: %s (%s cannot be frozen)", target->mountpoint,
                    g_strerror(err), target->fstype ? target->fstype : "this filesystem");
        break;
    default:
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED, "failed to freeze %s: %s",
                    target->mountpoint, g_strerror(err));
        break;
    }
}

static void thaw_entries(FsFrozenSet *set, gboolean parallel, guint *thawed, GPtrArray *notes,
                         GString *failures);

/*
 * Thaws all of @set after a failed freeze. Rollback failures are appended
 * to @error's message, after the original failure, which is what the host
 * must see first.
 */
static void rollback(FsFrozenSet *set, GError **error)
{
    guint thawed = 0;
    g_autoptr(GPtrArray) notes = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GString) failures = g_string_new(NULL);
    thaw_entries(set, TRUE, &thawed, notes, failures);
    if (failures->len > 0 && error && *error) {
        char *message = g_strdup_printf("%s; rollback: %s", (*error)->message, failures->str);
        g_free((*error)->message);
        (*error)->message = message;
    }
}

gboolean fs_freezer_freeze(GPtrArray *targets, const FsFreezeOptions *options,
                           FsFrozenSet **out_frozen, GError **error)
{
    g_return_val_if_fail(targets != NULL && options != NULL && out_frozen != NULL, FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

    g_autoptr(FsFrozenSet) set = fs_frozen_set_new(options->ops);
    g_autoptr(Confinement) confinement = NULL;
    if (!ops_check(options->ops, error)) {
        *out_frozen = g_steal_pointer(&set);
        return FALSE;
    }
    if (options->confine_dir) {
        confinement = confinement_new(options->confine_dir, error);
        if (!confinement) {
            *out_frozen = g_steal_pointer(&set);
            return FALSE;
        }
    }
    /* Everything that can fail without freezing happens first. */
    g_autoptr(GPtrArray) opened = NULL;
    gint64 start = g_get_monotonic_time();
    if (!validate_targets(targets, confinement, error) ||
        !(opened = open_targets(targets, confinement, &set->ops, error))) {
        *out_frozen = g_steal_pointer(&set);
        return FALSE;
    }
    set->timings.open_us = g_get_monotonic_time() - start;
    gboolean synced = FALSE;
    if (!freezer_flush_and_freeze(set, opened, options, &synced, error)) {
        if (synced) {
            rollback(set, error);
        }
        *out_frozen = g_steal_pointer(&set);
        return FALSE;
    }
    *out_frozen = g_steal_pointer(&set);
    return TRUE;
}

/* ---- Thaw. ---- */

/* What one FITHAW answered: thawed and not-frozen entries leave the set. */
static void thaw_account(FsFrozenSet *set, guint i, int err, guint *thawed, GPtrArray *notes,
                         GString *failures)
{
    FsFrozenEntry *entry = g_ptr_array_index(set->entries, i);

    if (err == 0) {
        (*thawed)++;
        g_ptr_array_remove_index(set->entries, i);
    } else if (err == EINVAL) {
        g_ptr_array_add(notes, g_strdup_printf("%s was no longer frozen when thawed "
                                               "(someone else thawed it)",
                                               entry->target->mountpoint));
        g_ptr_array_remove_index(set->entries, i);
    } else {
        g_string_append_printf(failures, "%sfailed to thaw %s: %s", failures->len > 0 ? "; " : "",
                               entry->target->mountpoint, g_strerror(err));
    }
}

/*
 * FITHAW on every entry, last level first (@parallel: a level's entries
 * concurrently; else last entry first, one by one). Thawed and not-frozen
 * entries leave the set; failed ones stay. Never stops early: a filesystem
 * left frozen because another one failed to thaw would hang the guest for
 * nothing. Notes and failures are listed last entry first either way.
 */
/*
 * The order of a parallel thaw's items, as entry indexes: levels kept, and
 * within each level the filesystems whose FITHAW writes
 * (fs_type_thaw_writes()) first. fs_parallel_run() wakes its threads and
 * the caller takes a level's first FITHAW at once: the one that waits for
 * a disk write starts without waiting for a thread to wake, and the quick
 * ones go to the threads. (transfer full)
 */
static guint *thaw_order(GPtrArray *entries)
{
    guint *order = g_new(guint, entries->len + 1);
    guint k = 0;

    for (guint lo = 0, hi; lo < entries->len; lo = hi) {
        const FsFrozenEntry *first = g_ptr_array_index(entries, lo);
        for (hi = lo; hi < entries->len; hi++) {
            const FsFrozenEntry *entry = g_ptr_array_index(entries, hi);
            if (entry->target->level != first->target->level) {
                break;
            }
        }
        for (int writes = 1; writes >= 0; writes--) {
            for (guint i = lo; i < hi; i++) {
                const FsFrozenEntry *entry = g_ptr_array_index(entries, i);
                if (fs_type_thaw_writes(entry->target->fstype) == (gboolean)writes) {
                    order[k++] = i;
                }
            }
        }
    }
    return order;
}

static void thaw_entries(FsFrozenSet *set, gboolean parallel, guint *thawed, GPtrArray *notes,
                         GString *failures)
{
    gint64 start = g_get_monotonic_time();

    if (!parallel) {
        for (guint i = set->entries->len; i-- > 0;) {
            FsFrozenEntry *entry = g_ptr_array_index(set->entries, i);
            thaw_account(set, i, set->ops.thaw(entry->fd, set->ops.user_data), thawed, notes,
                         failures);
        }
        return;
    }
    g_autofree FsParallelItem *items = freezer_items_of(set->entries);
    g_autofree guint *order = thaw_order(set->entries);
    g_autofree FsParallelItem *ordered = g_new0(FsParallelItem, set->entries->len + 1);
    for (guint k = 0; k < set->entries->len; k++) {
        ordered[k] = items[order[k]];
    }
    fs_parallel_run(FS_PARALLEL_THAW, ordered, set->entries->len, &set->ops, 0, FALSE);
    for (guint k = 0; k < set->entries->len; k++) {
        items[order[k]] = ordered[k];
    }
    for (guint i = set->entries->len; i-- > 0;) {
        thaw_account(set, i, items[i].result, thawed, notes, failures);
    }
    set->timings.thaw_us = g_get_monotonic_time() - start;
}

static gboolean finish_thaw(guint thawed, GPtrArray *notes, GString *failures,
                            guint *out_thawed, GStrv *out_notes, GError **error)
{
    if (out_thawed) {
        *out_thawed = thawed;
    }
    if (out_notes) {
        g_ptr_array_add(notes, NULL);
        *out_notes = (GStrv)g_ptr_array_steal(notes, NULL);
    }
    if (failures->len > 0) {
        g_set_error_literal(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED, failures->str);
        return FALSE;
    }
    return TRUE;
}

gboolean fs_freezer_thaw(FsFrozenSet *frozen, guint *out_thawed, GStrv *out_notes,
                         GError **error)
{
    g_return_val_if_fail(frozen != NULL, FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

    guint thawed = 0;
    g_autoptr(GPtrArray) notes = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GString) failures = g_string_new(NULL);
    thaw_entries(frozen, TRUE, &thawed, notes, failures);
    return finish_thaw(thawed, notes, failures, out_thawed, out_notes, error);
}

/*
 * Opens @target for a thaw by path. Returns NULL with a note (nothing to
 * thaw: gone or replaced), or NULL with @failures extended (refused).
 */
static FsFrozenEntry *open_target_for_thaw(const FreezeTarget *target,
                                           const Confinement *confinement,
                                           const FsFreezeOps *ops, GPtrArray *notes,
                                           GString *failures)
{
    g_autoptr(GError) local = NULL;
    if (confinement && !confinement_check_path(confinement, target->mountpoint, &local)) {
        g_string_append_printf(failures, "%s%s", failures->len > 0 ? "; " : "",
                               local->message);
        return NULL;
    }
    FsFrozenEntry *entry = open_target(target, confinement, ops, &local);
    if (!entry) {
        if (g_error_matches(local, QUIESCE_ERROR, QUIESCE_ERROR_INVALID_ARGUMENT)) {
            g_string_append_printf(failures, "%s%s", failures->len > 0 ? "; " : "",
                                   local->message);
        } else {
            g_ptr_array_add(notes, g_strdup_printf("skipped thaw: %s", local->message));
        }
    }
    return entry;
}

gboolean fs_freezer_thaw_targets(GPtrArray *targets, const FsFreezeOptions *options,
                                 guint *out_thawed, GStrv *out_notes, GError **error)
{
    g_return_val_if_fail(targets != NULL && options != NULL, FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

    guint thawed = 0;
    g_autoptr(GPtrArray) notes = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GString) failures = g_string_new(NULL);
    g_autoptr(FsFrozenSet) set = fs_frozen_set_new(options->ops);
    g_autoptr(Confinement) confinement = NULL;
    if (!ops_check(options->ops, error) ||
        (options->confine_dir && !(confinement = confinement_new(options->confine_dir, error)))) {
        finish_thaw(0, notes, failures, out_thawed, out_notes, NULL);
        return FALSE;
    }
    for (guint i = 0; i < targets->len; i++) {
        FsFrozenEntry *entry = open_target_for_thaw(g_ptr_array_index(targets, i),
                                                    confinement, &set->ops, notes, failures);
        if (entry) {
            g_ptr_array_add(set->entries, entry);
        }
    }
    /* One by one: recovery is not on the hot path, and its targets carry
     * no levels (the state file does not keep them). */
    thaw_entries(set, FALSE, &thawed, notes, failures);
    return finish_thaw(thawed, notes, failures, out_thawed, out_notes, error);
}

/* ---- One target by path, for recovery. ---- */

/* Whether @target may still be mounted, unreachable through its path:
 * the path is a mountpoint more than once (a later mount covers it) or
 * one entry there has the target's device. */
static gboolean target_still_mounted(const FreezeTarget *target, const FsFreezeOps *ops)
{
    g_autofree char *path = ops->mount_root
                                ? g_build_filename(ops->mount_root, "mountinfo", NULL)
                                : g_strdup("/proc/self/mountinfo");
    g_autoptr(GPtrArray) entries = mountinfo_read(path, NULL);
    g_autofree char *canonical = g_canonicalize_filename(target->mountpoint, "/");
    guint at_path = 0;

    for (guint i = 0; entries && i < entries->len; i++) {
        const MountEntry *entry = g_ptr_array_index(entries, i);
        if (strcmp(entry->mountpoint, canonical) == 0) {
            at_path++;
            if (entry->dev == target->dev) {
                return TRUE;
            }
        }
    }
    /* mountinfo unreadable: assume the worst, it may still be frozen. */
    return !entries || at_path > 1;
}

FsThawOutcome fs_freezer_thaw_target(const FreezeTarget *target, const FsFreezeOptions *options,
                                     char **out_message)
{
    g_autoptr(Confinement) confinement = NULL;
    g_autoptr(FsFrozenEntry) entry = NULL;
    g_autoptr(GError) local = NULL;
    FsFreezeOps ops = options->ops ? *options->ops : *fs_freeze_ops_default();
    int err;

    if (!ops_check(options->ops, &local) ||
        (options->confine_dir &&
         (!(confinement = confinement_new(options->confine_dir, &local)) ||
          !confinement_check_path(confinement, target->mountpoint, &local)))) {
        *out_message = g_strdup(local->message);
        return FS_THAW_REFUSED;
    }
    entry = open_target(target, confinement, &ops, &local);
    if (!entry) {
        if (g_error_matches(local, QUIESCE_ERROR, QUIESCE_ERROR_INVALID_ARGUMENT)) {
            *out_message = g_strdup(local->message);
            return FS_THAW_REFUSED;
        }
        if (target_still_mounted(target, &ops)) {
            *out_message = g_strdup_printf("cannot reach %s yet (covered by another mount?): %s",
                                           target->mountpoint, local->message);
            return FS_THAW_COVERED;
        }
        *out_message = g_strdup_printf("skipped thaw: %s", local->message);
        return FS_THAW_GONE;
    }
    err = ops.thaw(entry->fd, ops.user_data);
    if (err == 0) {
        *out_message = g_strdup_printf("thawed %s", target->mountpoint);
        return FS_THAW_THAWED;
    }
    if (err == EINVAL) {
        *out_message = g_strdup_printf("%s was not frozen", target->mountpoint);
        return FS_THAW_NOT_FROZEN;
    }
    *out_message = g_strdup_printf("failed to thaw %s: %s", target->mountpoint, g_strerror(err));
    return FS_THAW_FAILED;
}
