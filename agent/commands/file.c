/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * file.c — qemu-ga's file family: guest-file-open, -close, -read, -write,
 * -seek and -flush, with qemu-ga's arguments, results, limits and messages
 * (qga/qapi-schema.json, qga/commands-posix.c, qga/commands.c;
 * docs/qga-reference.md §8). Files are stdio streams on non-blocking,
 * close-on-exec fds, as in qemu-ga, so counts, eof flags and positions are
 * the ones qemu-ga reports, buffering included. All six are refused while
 * frozen (none is on qemu-ga's frozen allow-list).
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "agent/commands/commands.h"
#include "agent/commands/file-handles.h"
#include "agent/commands/file-open.h"
#include "agent/commands/qga-base64.h"
#include "common/quiesce-error.h"

#define FILE_READ_COUNT_DEFAULT 4096           /* QGA_READ_COUNT_DEFAULT */
#define FILE_READ_COUNT_MAX (48 * 1024 * 1024) /* 48 MiB: 64 MiB once in base64 */

static FileHandles *file_state(void *context)
{
    return commands_get_state(context, commands_file);
}

static bool file_fail(ProtoError **error, GError *gerror /* transfer full */)
{
    proto_error_take_gerror(error, gerror);
    return false;
}

/* "message: strerror(errno)", as QEMU's error_setg_errno(). */
static bool file_fail_errno(ProtoError **error, int errsv, const char *format, ...)
    G_GNUC_PRINTF(3, 4);
static bool file_fail_errno(ProtoError **error, int errsv, const char *format, ...)
{
    va_list ap;
    g_autofree char *message = NULL;

    va_start(ap, format);
    message = g_strdup_vprintf(format, ap);
    va_end(ap);
    return file_fail(error, g_error_new(QUIESCE_ERROR, QUIESCE_ERROR_FAILED, "%s: %s", message,
                                        g_strerror(errsv)));
}

static FileHandle *file_lookup(void *context, const JsonValue *args, ProtoError **error)
{
    GError *gerror = NULL;
    int64_t id = 0;
    FileHandle *handle;

    json_value_get_int(json_object_get(args, "handle"), &id);
    handle = file_handles_find(file_state(context), id, &gerror);
    if (!handle) {
        file_fail(error, gerror);
    }
    return handle;
}

/* Every answer's "eof" is whether this call met the end of the file: the
 * stream's flags are reset after each call, as qemu-ga resets them. */
static void file_answer_done(FileHandle *handle, JsonValue *result, FileHandleRw rw)
{
    json_object_set_bool(result, "eof", feof(handle->stream));
    handle->rw = rw;
    clearerr(handle->stream);
}

static bool cmd_file_open(void *context, const JsonValue *args, JsonValue **result,
                          ProtoError **error)
{
    const char *path = json_object_get_string(args, "path");
    const char *mode = json_object_get_string(args, "mode");
    GError *gerror = NULL;
    FILE *stream;
    gint64 id;

    mode = mode ? mode : "r";
    g_info("guest-file-open called, filepath: %s, mode: %s", path, mode);
    stream = file_open_stream(path, mode, &gerror);
    if (!stream) {
        return file_fail(error, gerror);
    }
    id = file_handles_add(file_state(context), stream, &gerror);
    if (id < 0) {
        fclose(stream);
        return file_fail(error, gerror);
    }
    *result = json_int_new(id);
    return true;
}

static bool cmd_file_close(void *context, const JsonValue *args, JsonValue **result,
                           ProtoError **error)
{
    FileHandle *handle = file_lookup(context, args, error);
    int rc;

    if (!handle) {
        return false;
    }
    g_info("guest-file-close called, handle: %" PRId64, handle->id);
    /* fclose() releases the stream even when it fails; qemu-ga keeps the
     * dead stream listed, we forget it (docs/protocol.md). */
    rc = fclose(handle->stream);
    file_handles_forget(file_state(context), handle->id);
    if (rc == EOF) {
        return file_fail_errno(error, errno, "failed to close handle");
    }
    return true;
}

static bool cmd_file_read(void *context, const JsonValue *args, JsonValue **result,
                          ProtoError **error)
{
    FileHandle *handle = file_lookup(context, args, error);
    const JsonValue *count_arg = json_object_get(args, "count");
    int64_t count = FILE_READ_COUNT_DEFAULT;
    g_autofree guchar *buf = NULL;
    g_autofree char *encoded = NULL;
    size_t got;

    if (!handle) {
        return false;
    }
    if (count_arg) {
        json_value_get_int(count_arg, &count);
        if (count < 0 || count > FILE_READ_COUNT_MAX) {
            return file_fail(error, g_error_new(QUIESCE_ERROR, QUIESCE_ERROR_INVALID_ARGUMENT,
                                                "value '%" PRId64 "' is invalid for argument count",
                                                count));
        }
    }
    if (handle->rw == FILE_HANDLE_RW_WRITING) {
        if (fflush(handle->stream) == EOF) {
            return file_fail_errno(error, errno, "failed to flush file");
        }
        handle->rw = FILE_HANDLE_RW_NEW;
    }
    buf = g_malloc0((gsize)count + 1);
    got = fread(buf, 1, (size_t)count, handle->stream);
    if (ferror(handle->stream)) {
        int errsv = errno;
        clearerr(handle->stream);
        return file_fail_errno(error, errsv, "failed to read file");
    }
    *result = json_object_new();
    json_object_set_int(*result, "count", (int64_t)got);
    encoded = got ? g_base64_encode(buf, got) : NULL;
    json_object_set_string(*result, "buf-b64", encoded ? encoded : "");
    file_answer_done(handle, *result, FILE_HANDLE_RW_READING);
    return true;
}

static bool cmd_file_write(void *context, const JsonValue *args, JsonValue **result,
                           ProtoError **error)
{
    FileHandle *handle = file_lookup(context, args, error);
    const JsonValue *count_arg = json_object_get(args, "count");
    GError *gerror = NULL;
    g_autofree guint8 *buf = NULL;
    gsize len = 0;
    int64_t count;
    size_t written;

    if (!handle) {
        return false;
    }
    if (handle->rw == FILE_HANDLE_RW_READING) {
        if (fseek(handle->stream, 0, SEEK_CUR) == -1) {
            return file_fail_errno(error, errno, "failed to seek file");
        }
        handle->rw = FILE_HANDLE_RW_NEW;
    }
    buf = qga_base64_decode(json_object_get_string(args, "buf-b64"), &len, &gerror);
    if (!buf) {
        return file_fail(error, gerror);
    }
    count = (int64_t)len;
    if (count_arg) {
        json_value_get_int(count_arg, &count);
        if (count < 0 || (guint64)count > len) {
            return file_fail(error, g_error_new(QUIESCE_ERROR, QUIESCE_ERROR_INVALID_ARGUMENT,
                                                "value '%" PRId64 "' is invalid for argument count",
                                                count));
        }
    }
    written = fwrite(buf, 1, (size_t)count, handle->stream);
    if (ferror(handle->stream)) {
        int errsv = errno;
        clearerr(handle->stream);
        g_info("guest-file-write failed, handle: %" PRId64, handle->id);
        return file_fail_errno(error, errsv, "failed to write to file");
    }
    *result = json_object_new();
    json_object_set_int(*result, "count", (int64_t)written);
    file_answer_done(handle, *result, FILE_HANDLE_RW_WRITING);
    return true;
}

/* qemu-ga's whence codes are its own (QGA_SEEK_SET = 0, CUR = 1, END = 2),
 * by number or by name. */
static const char *const file_whence_names[] = { "set", "cur", "end" };

/*
 * whence is a QAPI alternate (GuestFileWhence: an integer or a QGASeek
 * name), which QAPI checks before the command runs, so before the handle
 * is looked up; its messages are QAPI's.
 */
static bool file_whence_parse(const JsonValue *whence, int64_t *code, ProtoError **error)
{
    switch (json_value_type(whence)) {
    case JSON_TYPE_STRING:
        for (int64_t i = 0; i < (int64_t)G_N_ELEMENTS(file_whence_names); i++) {
            if (g_str_equal(file_whence_names[i], json_string_get(whence))) {
                *code = i;
                return true;
            }
        }
        proto_error_set(error, PROTO_ERROR_CLASS_GENERIC_ERROR,
                        "Parameter 'whence' does not accept value '%s'", json_string_get(whence));
        return false;
    case JSON_TYPE_INT:
    case JSON_TYPE_UINT:
    case JSON_TYPE_DOUBLE:
        if (json_value_get_int(whence, code)) {
            return true;
        }
        proto_error_set(error, PROTO_ERROR_CLASS_GENERIC_ERROR,
                        "Invalid parameter type for 'whence', expected: integer");
        return false;
    case JSON_TYPE_NULL:
    case JSON_TYPE_BOOL:
    case JSON_TYPE_ARRAY:
    case JSON_TYPE_OBJECT:
        break;
    }
    proto_error_set(error, PROTO_ERROR_CLASS_GENERIC_ERROR,
                    "Invalid parameter type for 'whence', expected: GuestFileWhence");
    return false;
}

static bool cmd_file_seek(void *context, const JsonValue *args, JsonValue **result,
                          ProtoError **error)
{
    static const int whences[] = { SEEK_SET, SEEK_CUR, SEEK_END };
    FileHandle *handle;
    int64_t offset = 0;
    int64_t code = -1;

    if (!file_whence_parse(json_object_get(args, "whence"), &code, error)) {
        return false;
    }
    handle = file_lookup(context, args, error);
    if (!handle) {
        return false;
    }
    if (code < 0 || code >= (int64_t)G_N_ELEMENTS(whences)) {
        return file_fail(error, g_error_new(QUIESCE_ERROR, QUIESCE_ERROR_INVALID_ARGUMENT,
                                            "invalid whence code %" PRId64, code));
    }
    json_value_get_int(json_object_get(args, "offset"), &offset);
    if (fseeko(handle->stream, (off_t)offset, whences[code]) == -1) {
        int errsv = errno;
        if (errsv == ESPIPE) {
            handle->rw = FILE_HANDLE_RW_NEW; /* not seekable: stdio does not buffer */
        }
        clearerr(handle->stream);
        return file_fail_errno(error, errsv, "failed to seek file");
    }
    *result = json_object_new();
    json_object_set_int(*result, "position", (int64_t)ftello(handle->stream));
    file_answer_done(handle, *result, FILE_HANDLE_RW_NEW);
    return true;
}

static bool cmd_file_flush(void *context, const JsonValue *args, JsonValue **result,
                           ProtoError **error)
{
    FileHandle *handle = file_lookup(context, args, error);

    if (!handle) {
        return false;
    }
    if (fflush(handle->stream) == EOF) {
        return file_fail_errno(error, errno, "failed to flush file");
    }
    handle->rw = FILE_HANDLE_RW_NEW;
    return true;
}

gpointer commands_file_state_new(const CommandContext *context)
{
    return file_handles_new(engine_get_config(context->engine)->state_dir);
}

void commands_file_state_free(gpointer state)
{
    file_handles_free(state);
}

static const CommandArg open_args[] = {
    { "path", COMMAND_ARG_STRING, false },
    { "mode", COMMAND_ARG_STRING, true },
    { NULL, 0, false },
};
static const CommandArg handle_args[] = {
    { "handle", COMMAND_ARG_INT, false },
    { NULL, 0, false },
};
static const CommandArg read_args[] = {
    { "handle", COMMAND_ARG_INT, false },
    { "count", COMMAND_ARG_INT, true },
    { NULL, 0, false },
};
static const CommandArg write_args[] = {
    { "handle", COMMAND_ARG_INT, false },
    { "buf-b64", COMMAND_ARG_STRING, false },
    { "count", COMMAND_ARG_INT, true },
    { NULL, 0, false },
};
static const CommandArg seek_args[] = {
    { "handle", COMMAND_ARG_INT, false },
    { "offset", COMMAND_ARG_INT, false },
    { "whence", COMMAND_ARG_ANY, false },
    { NULL, 0, false },
};

const CommandSpec commands_file[] = {
    { "guest-file-open", cmd_file_open, open_args, 0 },
    { "guest-file-close", cmd_file_close, handle_args, 0 },
    { "guest-file-read", cmd_file_read, read_args, 0 },
    { "guest-file-write", cmd_file_write, write_args, 0 },
    { "guest-file-seek", cmd_file_seek, seek_args, 0 },
    { "guest-file-flush", cmd_file_flush, handle_args, 0 },
};
const gsize commands_file_count = G_N_ELEMENTS(commands_file);
