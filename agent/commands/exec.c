/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * exec.c — qemu-ga's guest-exec and guest-exec-status with its arguments,
 * results and messages (qga/qapi-schema.json, qga/commands.c;
 * docs/qga-reference.md §8), as Proxmox's `qm guest exec` uses them: start
 * a process, then poll its status until it has exited; the status that
 * says so carries the captured output and forgets the process.
 *
 * Bounds qemu-ga does not have (docs/protocol.md): at most EXEC_MAX_CHILDREN
 * processes are tracked, running or exited with their status not yet
 * collected; when all slots are taken a new guest-exec first drops the
 * oldest uncollected result, and is refused only when every slot holds a
 * process still running (no timeout: a child that never exits costs its
 * slot and nothing else). The captured output kept by all of them together
 * is capped at EXEC_CAPTURE_BUDGET; past it, output is dropped and marked
 * truncated as past qemu-ga's 16 MiB per stream.
 */
#include <sys/wait.h>

#include "agent/commands/commands.h"
#include "agent/commands/exec-child.h"
#include "agent/commands/qga-base64.h"
#include "common/quiesce-error.h"

#define EXEC_MAX_CHILDREN 64
#define EXEC_CAPTURE_BUDGET (256u * 1024 * 1024)

typedef struct {
    GPtrArray *children; /* ExecChild *, oldest first */
    gsize captured;      /* bytes kept by all children's streams */
} ExecState;

static ExecState *exec_state(void *context)
{
    return commands_get_state(context, commands_exec);
}

/* A JSON string list as a NULL-terminated vector of borrowed strings, with
 * first in front when given. (transfer container) */
static const char **exec_strv(const char *first, const JsonValue *list)
{
    gsize n = list ? json_array_length(list) : 0;
    gsize at = 0;
    const char **strv = g_new0(const char *, n + 2);

    if (first) {
        strv[at++] = first;
    }
    for (gsize i = 0; i < n; i++) {
        strv[at++] = json_string_get(json_array_get(list, i));
    }
    return strv;
}

/* Makes room for one more child: drops the oldest collected-never result
 * when every slot is taken. */
static gboolean exec_make_room(ExecState *state, GError **error)
{
    if (state->children->len < EXEC_MAX_CHILDREN) {
        return TRUE;
    }
    for (guint i = 0; i < state->children->len; i++) {
        ExecChild *child = g_ptr_array_index(state->children, i);
        if (exec_child_is_done(child)) {
            g_info("guest-exec: dropping the uncollected status of pid %d", (int)child->pid);
            g_ptr_array_remove_index(state->children, i);
            return TRUE;
        }
    }
    g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_BUSY,
                "too many processes started by guest-exec are still running (%d)",
                EXEC_MAX_CHILDREN);
    return FALSE;
}

static bool cmd_exec(void *context, const JsonValue *args, JsonValue **result,
                     ProtoError **error)
{
    ExecState *state = exec_state(context);
    const char *input_text = json_object_get_string(args, "input-data");
    const JsonValue *env = json_object_get(args, "env");
    const JsonValue *capture = json_object_get(args, "capture-output");
    g_autofree const char **argv = NULL;
    g_autofree const char **envp = NULL;
    g_autofree char *command_line = NULL;
    g_autofree guint8 *input = NULL;
    g_autoptr(GError) gerror = NULL;
    ExecChildRequest request = { 0 };
    ExecChild *child;

    if (input_text) {
        input = qga_base64_decode(input_text, &request.input_len, &gerror);
        if (!input) {
            proto_error_take_gerror(error, g_steal_pointer(&gerror));
            return false;
        }
    }
    argv = exec_strv(json_object_get_string(args, "path"), json_object_get(args, "arg"));
    envp = env ? exec_strv(NULL, env) : NULL;
    command_line = g_strjoinv(" ", (char **)argv);
    g_info("guest-exec called: \"%s\"", command_line);
    if (!exec_make_room(state, &gerror)) {
        proto_error_take_gerror(error, g_steal_pointer(&gerror));
        return false;
    }
    request.argv = argv;
    request.envp = envp;
    request.input = input;
    request.has_input = input_text != NULL;
    request.capture = capture && json_bool_get(capture);
    request.budget_used = &state->captured;
    request.budget_max = EXEC_CAPTURE_BUDGET;
    child = exec_child_spawn(&request, &gerror);
    if (!child) {
        proto_error_take_gerror(error, g_steal_pointer(&gerror));
        return false;
    }
    g_ptr_array_add(state->children, child);
    *result = json_object_new();
    json_object_set_int(*result, "pid", child->pid);
    return true;
}

static void exec_status_output(JsonValue *status, const ExecChildStream *stream,
                               const char *data_key, const char *truncated_key)
{
    g_autofree char *encoded = NULL;

    if (stream->data->len == 0) {
        return;
    }
    encoded = g_base64_encode(stream->data->data, stream->data->len);
    json_object_set_string(status, data_key, encoded);
    json_object_set_bool(status, truncated_key, stream->truncated);
}

static bool cmd_exec_status(void *context, const JsonValue *args, JsonValue **result,
                            ProtoError **error)
{
    ExecState *state = exec_state(context);
    int64_t pid = 0;
    ExecChild *child = NULL;
    guint index = 0;
    JsonValue *status;

    json_value_get_int(json_object_get(args, "pid"), &pid);
    g_debug("guest-exec-status called, pid: %u", (guint32)pid);
    /* The oldest first, as qemu-ga searches, should a pid come back. */
    for (guint i = 0; i < state->children->len && !child; i++) {
        ExecChild *candidate = g_ptr_array_index(state->children, i);
        if ((int64_t)candidate->pid == pid) {
            child = candidate;
            index = i;
        }
    }
    if (!child) {
        proto_error_set(error, PROTO_ERROR_CLASS_GENERIC_ERROR, "Invalid parameter 'pid'");
        return false;
    }
    status = json_object_new();
    json_object_set_bool(status, "exited", exec_child_is_done(child));
    *result = status;
    if (!exec_child_is_done(child)) {
        return true;
    }
    if (WIFEXITED(child->wait_status)) {
        json_object_set_int(status, "exitcode", WEXITSTATUS(child->wait_status));
    } else if (WIFSIGNALED(child->wait_status)) {
        json_object_set_int(status, "signal", WTERMSIG(child->wait_status));
    }
    exec_status_output(status, &child->out, "out-data", "out-truncated");
    exec_status_output(status, &child->err, "err-data", "err-truncated");
    g_ptr_array_remove_index(state->children, index);
    return true;
}

gpointer commands_exec_state_new(const CommandContext *context)
{
    ExecState *state = g_new0(ExecState, 1);

    state->children = g_ptr_array_new_with_free_func((GDestroyNotify)exec_child_free);
    return state;
}

/* Children still running are left to run, as qemu-ga leaves them. */
void commands_exec_state_free(gpointer data)
{
    ExecState *state = data;

    g_ptr_array_unref(state->children);
    g_free(state);
}

static const CommandArg exec_args[] = {
    { "path", COMMAND_ARG_STRING, false },
    { "arg", COMMAND_ARG_STRING_LIST, true },
    { "env", COMMAND_ARG_STRING_LIST, true },
    { "input-data", COMMAND_ARG_STRING, true },
    { "capture-output", COMMAND_ARG_BOOL, true },
    { NULL, 0, false },
};
static const CommandArg exec_status_args[] = {
    { "pid", COMMAND_ARG_INT, false },
    { NULL, 0, false },
};

const CommandSpec commands_exec[] = {
    { "guest-exec-status", cmd_exec_status, exec_status_args, 0 },
    { "guest-exec", cmd_exec, exec_args, 0 },
};
const gsize commands_exec_count = G_N_ELEMENTS(commands_exec);
