/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * disk-set.c — see the header.
 */
#include "host/disk-set.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/quiesce-error.h"

#define DISK_JOB_POLL_MS 50

static void disk_free(Disk *disk)
{
    g_free(disk->device);
    g_free(disk->image);
    g_free(disk->node);
    g_free(disk->overlay);
    g_free(disk);
}

void disk_set_free(DiskSet *set)
{
    if (!set) {
        return;
    }
    g_ptr_array_unref(set->disks);
    g_free(set);
}

DiskSet *disk_set_query(QmpClient *qmp, int timeout_ms, GError **error)
{
    g_autoptr(JsonValue) blocks = qmp_client_execute(qmp, "query-block", NULL, timeout_ms, error);
    g_autoptr(DiskSet) set = g_new0(DiskSet, 1);

    if (!blocks) {
        return NULL;
    }
    set->disks = g_ptr_array_new_with_free_func((GDestroyNotify)disk_free);
    for (size_t i = 0; i < json_array_length(blocks); i++) {
        JsonValue *block = json_array_get(blocks, i);
        JsonValue *inserted = json_object_get(block, "inserted");
        JsonValue *ro = inserted ? json_object_get(inserted, "ro") : NULL;
        const char *device = json_object_get_string(block, "device");
        Disk *disk;

        if (!inserted || !device || !*device || (ro && json_bool_get(ro))) {
            continue;
        }
        disk = g_new0(Disk, 1);
        disk->device = g_strdup(device);
        disk->image = g_strdup(json_object_get_string(inserted, "file"));
        disk->node = g_strdup(json_object_get_string(inserted, "node-name"));
        g_ptr_array_add(set->disks, disk);
    }
    if (set->disks->len == 0) {
        g_set_error_literal(error, QUIESCE_ERROR, QUIESCE_ERROR_NOT_FOUND,
                            "the VM has no writable disk to snapshot");
        return NULL;
    }
    return g_steal_pointer(&set);
}

char *disk_set_describe(const DiskSet *set)
{
    g_autoptr(GString) names = g_string_new(NULL);

    for (guint i = 0; i < set->disks->len; i++) {
        const Disk *disk = g_ptr_array_index(set->disks, i);
        g_string_append_printf(names, "%s%s", i ? " " : "", disk->device);
    }
    return g_string_free(g_steal_pointer(&names), FALSE);
}

gboolean disk_set_snapshot(DiskSet *set, QmpClient *qmp, const char *overlay_dir,
                           const char *tag, int timeout_ms, GError **error)
{
    g_autoptr(JsonValue) arguments = json_object_new();
    g_autoptr(JsonValue) result = NULL;
    JsonValue *actions = json_array_new();
    g_autoptr(GPtrArray) overlays = g_ptr_array_new_with_free_func(g_free);

    for (guint i = 0; i < set->disks->len; i++) {
        const Disk *disk = g_ptr_array_index(set->disks, i);
        g_autofree char *dir = overlay_dir ? g_strdup(overlay_dir) : g_path_get_dirname(disk->image);
        g_autofree char *name = g_strdup_printf("%s-%s.qcow2", disk->device, tag);
        JsonValue *action = json_object_new();
        JsonValue *data = json_object_new();

        g_ptr_array_add(overlays, g_build_filename(dir, name, NULL));
        json_object_set_string(data, "device", disk->device);
        json_object_set_string(data, "snapshot-file", g_ptr_array_index(overlays, i));
        json_object_set_string(data, "format", "qcow2");
        json_object_set_string(action, "type", "blockdev-snapshot-sync");
        json_object_set(action, "data", data);
        json_array_append(actions, action);
    }
    json_object_set(arguments, "actions", actions);
    result = qmp_client_execute(qmp, "transaction", g_steal_pointer(&arguments), timeout_ms, error);
    if (!result) {
        return FALSE; /* a transaction is all or nothing: no overlay exists */
    }
    for (guint i = 0; i < set->disks->len; i++) {
        Disk *disk = g_ptr_array_index(set->disks, i);
        disk->overlay = g_strdup(g_ptr_array_index(overlays, i));
    }
    return TRUE;
}

/* Copies [offset, offset+len) of in to out at the same offset. */
static gboolean disk_copy_range(int in, int out, off_t offset, off_t len, GError **error)
{
    while (len > 0) {
        off_t in_off = offset, out_off = offset;
        ssize_t n = copy_file_range(in, &in_off, out, &out_off, (size_t)MIN(len, 1 << 30), 0);

        if (n <= 0) {
            g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED, "copy_file_range: %s",
                        n == 0 ? "unexpected end of file" : g_strerror(errno));
            return FALSE;
        }
        offset += n;
        len -= n;
    }
    return TRUE;
}

/* A sparse copy: only the data extents (SEEK_DATA/SEEK_HOLE). */
static gboolean disk_copy_file(const char *from, const char *to, GError **error)
{
    int in = open(from, O_RDONLY | O_CLOEXEC);
    int out = -1;
    struct stat st;
    gboolean ok = FALSE;

    if (in < 0 || fstat(in, &st) < 0) {
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED, "%s: %s", from, g_strerror(errno));
    } else if ((out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0 ||
               ftruncate(out, st.st_size) < 0) {
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED, "%s: %s", to, g_strerror(errno));
    } else {
        off_t data = 0;
        ok = TRUE;
        while (ok && (data = lseek(in, data, SEEK_DATA)) >= 0) {
            off_t hole = lseek(in, data, SEEK_HOLE);
            ok = disk_copy_range(in, out, data, hole - data, error);
            data = hole;
        }
        if (ok && fsync(out) < 0) {
            g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED, "%s: %s", to, g_strerror(errno));
            ok = FALSE;
        }
    }
    if (in >= 0) {
        close(in);
    }
    if (out >= 0) {
        close(out);
    }
    return ok;
}

gboolean disk_set_copy(const DiskSet *set, const char *backup_dir, GError **error)
{
    if (g_mkdir_with_parents(backup_dir, 0700) < 0) {
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED, "%s: %s", backup_dir,
                    g_strerror(errno));
        return FALSE;
    }
    for (guint i = 0; i < set->disks->len; i++) {
        const Disk *disk = g_ptr_array_index(set->disks, i);
        g_autofree char *name = g_strdup_printf("%s.img", disk->device);
        g_autofree char *to = g_build_filename(backup_dir, name, NULL);

        if (!disk_copy_file(disk->image, to, error)) {
            return FALSE;
        }
    }
    return TRUE;
}

/* The job's entry in query-block-jobs (transfer full), or NULL when gone. */
static JsonValue *disk_find_job(QmpClient *qmp, const char *job_id, int timeout_ms, GError **error)
{
    g_autoptr(JsonValue) jobs = qmp_client_execute(qmp, "query-block-jobs", NULL, timeout_ms, error);

    for (size_t i = 0; jobs && i < json_array_length(jobs); i++) {
        JsonValue *job = json_array_get(jobs, i);
        const char *device = json_object_get_string(job, "device");

        if (device && strcmp(device, job_id) == 0) {
            return json_value_copy(job);
        }
    }
    return NULL;
}

/* Active-layer commit: runs until "ready", then block-job-complete pivots
 * the drive onto the base and the job ends. */
static gboolean disk_merge_one(Disk *disk, QmpClient *qmp, int timeout_ms, GError **error)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    g_autofree char *job_id = g_strdup_printf("qb-commit-%s", disk->device);
    g_autoptr(JsonValue) arguments = json_object_new();
    g_autoptr(JsonValue) started = NULL;
    gboolean completing = FALSE;

    json_object_set_string(arguments, "device", disk->device);
    json_object_set_string(arguments, "job-id", job_id);
    if (disk->node) {
        json_object_set_string(arguments, "base-node", disk->node);
    }
    started = qmp_client_execute(qmp, "block-commit", g_steal_pointer(&arguments), timeout_ms, error);
    if (!started) {
        return FALSE;
    }
    for (;;) {
        g_autoptr(GError) local = NULL;
        g_autoptr(JsonValue) job = disk_find_job(qmp, job_id, timeout_ms, &local);
        JsonValue *ready;

        if (local) {
            g_propagate_error(error, g_steal_pointer(&local));
            return FALSE;
        }
        if (!job) {
            if (!completing) {
                g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED,
                            "block-commit of %s ended before it was ready", disk->device);
                return FALSE;
            }
            break;
        }
        ready = json_object_get(job, "ready");
        if (!completing && ready && json_bool_get(ready)) {
            g_autoptr(JsonValue) complete_args = json_object_new();
            g_autoptr(JsonValue) done = NULL;

            json_object_set_string(complete_args, "device", job_id);
            done = qmp_client_execute(qmp, "block-job-complete", g_steal_pointer(&complete_args),
                                      timeout_ms, error);
            if (!done) {
                return FALSE;
            }
            completing = TRUE;
        }
        if (g_get_monotonic_time() > deadline) {
            g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_TIMED_OUT,
                        "block-commit of %s did not finish in %d ms", disk->device, timeout_ms);
            return FALSE;
        }
        g_usleep(DISK_JOB_POLL_MS * 1000);
    }
    if (unlink(disk->overlay) < 0) {
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED, "%s: %s", disk->overlay,
                    g_strerror(errno));
        return FALSE;
    }
    g_clear_pointer(&disk->overlay, g_free);
    return TRUE;
}

gboolean disk_set_merge_back(DiskSet *set, QmpClient *qmp, int timeout_ms, GError **error)
{
    gboolean ok = TRUE;

    for (guint i = 0; i < set->disks->len; i++) {
        Disk *disk = g_ptr_array_index(set->disks, i);
        g_autoptr(GError) local = NULL;

        if (!disk->overlay) {
            continue;
        }
        if (!disk_merge_one(disk, qmp, timeout_ms, &local)) {
            if (ok) {
                g_propagate_error(error, g_steal_pointer(&local));
            }
            ok = FALSE;
        }
    }
    return ok;
}
