/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * file-handles.c — the table of guest-file-open's files and the saved
 * counter their ids come from.
 */
#include "agent/commands/file-handles.h"

#include <inttypes.h>

#include "common/quiesce-error.h"

struct FileHandles {
    GHashTable *by_id; /* gint64 * -> FileHandle *, both owned by the entry */
    char *counter_path;
    gint64 next_id;
};

static void file_handle_free(FileHandle *handle)
{
    if (handle->stream) {
        fclose(handle->stream);
    }
    g_free(handle);
}

static gint64 file_handles_load_counter(const char *path)
{
    g_autoptr(GKeyFile) keyfile = g_key_file_new();
    g_autoptr(GError) error = NULL;
    gint64 next;

    if (!g_file_test(path, G_FILE_TEST_EXISTS)) {
        return FILE_HANDLES_FIRST_ID;
    }
    if (!g_key_file_load_from_file(keyfile, path, G_KEY_FILE_NONE, &error)) {
        g_warning("%s: %s; file handles start again at %d", path, error->message,
                  FILE_HANDLES_FIRST_ID);
        return FILE_HANDLES_FIRST_ID;
    }
    next = g_key_file_get_int64(keyfile, "file-handles", "next", &error);
    if (error || next < FILE_HANDLES_FIRST_ID || next == G_MAXINT64) {
        g_warning("%s: no valid next id; file handles start again at %d", path,
                  FILE_HANDLES_FIRST_ID);
        return FILE_HANDLES_FIRST_ID;
    }
    return next;
}

static gboolean file_handles_save_counter(const FileHandles *handles, GError **error)
{
    g_autofree char *text =
        g_strdup_printf("[file-handles]\nnext=%" G_GINT64_FORMAT "\n", handles->next_id);

    /* Atomic (a rename) but not durable: ids need only outlive the agent,
     * not the machine, and the state directory is a tmpfs; an fsync per
     * guest-file-open would cost a disk flush on other filesystems. */
    return g_file_set_contents_full(handles->counter_path, text, -1,
                                    G_FILE_SET_CONTENTS_CONSISTENT, 0600, error);
}

FileHandles *file_handles_new(const char *state_dir)
{
    FileHandles *handles = g_new0(FileHandles, 1);

    handles->by_id =
        g_hash_table_new_full(g_int64_hash, g_int64_equal, NULL, (GDestroyNotify)file_handle_free);
    handles->counter_path = g_build_filename(state_dir, FILE_HANDLES_COUNTER_NAME, NULL);
    handles->next_id = file_handles_load_counter(handles->counter_path);
    return handles;
}

void file_handles_free(FileHandles *handles)
{
    if (!handles) {
        return;
    }
    g_hash_table_unref(handles->by_id);
    g_free(handles->counter_path);
    g_free(handles);
}

gint64 file_handles_add(FileHandles *handles, FILE *stream, GError **error)
{
    g_autoptr(GError) save_error = NULL;
    FileHandle *handle;

    if (g_hash_table_size(handles->by_id) >= FILE_HANDLES_MAX) {
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_BUSY,
                    "too many open file handles (%d): close some with guest-file-close",
                    FILE_HANDLES_MAX);
        return -1;
    }
    /* An id is spent even when saving fails, as in qemu-ga; 2^63 opens
     * cannot happen, but the counter must never wrap to a used id. */
    g_assert(handles->next_id < G_MAXINT64 - 1);
    handles->next_id++;
    if (!file_handles_save_counter(handles, &save_error)) {
        g_warning("cannot save the file handle counter: %s", save_error->message);
        g_set_error_literal(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED,
                            "failed to commit persistent state to disk");
        return -1;
    }
    handle = g_new0(FileHandle, 1);
    handle->id = handles->next_id - 1;
    handle->stream = stream;
    g_hash_table_insert(handles->by_id, &handle->id, handle);
    return handle->id;
}

FileHandle *file_handles_find(FileHandles *handles, gint64 id, GError **error)
{
    FileHandle *handle = g_hash_table_lookup(handles->by_id, &id);

    if (!handle) {
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_NOT_FOUND,
                    "handle '%" PRId64 "' has not been found", id);
    }
    return handle;
}

void file_handles_forget(FileHandles *handles, gint64 id)
{
    FileHandle *handle = g_hash_table_lookup(handles->by_id, &id);

    if (handle) {
        handle->stream = NULL;
        g_hash_table_remove(handles->by_id, &id);
    }
}

guint file_handles_count(const FileHandles *handles)
{
    return g_hash_table_size(handles->by_id);
}
