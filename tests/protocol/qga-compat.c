/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * qga-compat.c — runs the byte-exact cases of qga-compat.cases against an
 * agent started on a unix socket: quiesced, or Debian's qemu-ga as the
 * reference (the proof of compatibility). A case may instead name a shape
 * check for a reply that varies (guest-info's version and command list).
 * Usage:
 *   qga-compat CASES-FILE quiesced|qemu-ga AGENT-BINARY
 * Exit 0 when every case matches, 1 otherwise, 77 (ctest skip) when the
 * reference binary is not installed. The cases files' headers describe
 * their syntax; the @{...} tokens and retry= are expanded here.
 *
 * A case whose expected reply is "<=" expects, byte for byte, the one-line
 * reply of the reference agent named by QGA_COMPAT_REFERENCE (Debian's
 * qemu-ga), asked the same on this machine: for read-only commands whose
 * answer depends on the machine. Against qemu-ga itself, or without the
 * reference installed, such cases are skipped.
 */
#include <errno.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/commands/commands.h"
#include "protocol/dispatcher.h"
#include "protocol/json-stream.h"
#include "tests/support/agent-process.h"

#define SKIP_EXIT 77

typedef struct {
    char *name;
    char *only;
    GByteArray *input;
    GByteArray *expected;
    gboolean prefix_only;
    char *shape; /* "<? NAME": the one-line reply is checked by that shape check */
    gboolean from_reference;
    guint retries; /* retry=N: sent again, 100 ms apart, until it matches */
} CompatCase;

/* Values bound by @{name} tokens, shared by the cases of one run. */
typedef GHashTable CompatBindings;

static void compat_case_free(CompatCase *c)
{
    g_free(c->name);
    g_free(c->only);
    g_free(c->shape);
    g_byte_array_unref(c->input);
    g_byte_array_unref(c->expected);
    g_free(c);
}

/* @{N*TEXT} is TEXT repeated N times, for replies of many megabytes. */
static char *expand_repeats(const char *text)
{
    GString *out = g_string_new(NULL);
    const char *p = text;

    for (const char *at; (at = strstr(p, "@{")); ) {
        char *end = NULL;
        guint64 n = g_ascii_strtoull(at + 2, &end, 10);
        const char *close = strchr(at, '}');
        if (end == at + 2 || *end != '*' || !close) {
            g_string_append_len(out, p, at + 2 - p);
            p = at + 2;
            continue;
        }
        g_string_append_len(out, p, at - p);
        for (guint64 i = 0; i < n; i++) {
            g_string_append_len(out, end + 1, close - (end + 1));
        }
        p = close + 1;
    }
    g_string_append(out, p);
    return g_string_free(out, FALSE);
}

static void append_escaped(GByteArray *out, const char *text)
{
    g_autofree char *expanded = expand_repeats(text);
    g_autofree char *raw = g_strcompress(expanded);
    /* g_strcompress stops at an octal \000; cases never send NUL. */
    g_byte_array_append(out, (const guint8 *)raw, (guint)strlen(raw));
}

static CompatCase *compat_case_start(const char *header)
{
    g_auto(GStrv) words = g_strsplit(header, " ", 0);
    CompatCase *c = g_new0(CompatCase, 1);

    c->name = g_strdup(words[0] ? words[0] : "?");
    for (int i = 1; words[i]; i++) {
        if (g_str_has_prefix(words[i], "only=")) {
            c->only = g_strdup(words[i] + 5);
        } else if (g_str_has_prefix(words[i], "retry=")) {
            c->retries = (guint)g_ascii_strtoull(words[i] + 6, NULL, 10);
        }
    }
    c->input = g_byte_array_new();
    c->expected = g_byte_array_new();
    return c;
}

static GPtrArray *load_cases(const char *path, GError **error)
{
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;
    g_autoptr(GPtrArray) cases = g_ptr_array_new_with_free_func((GDestroyNotify)compat_case_free);
    CompatCase *current = NULL;

    if (!g_file_get_contents(path, &text, NULL, error)) {
        return NULL;
    }
    lines = g_strsplit(text, "\n", 0);
    for (char **line = lines; *line; line++) {
        if (g_str_has_prefix(*line, "== ")) {
            current = compat_case_start(*line + 3);
            g_ptr_array_add(cases, current);
        } else if (current && g_str_has_prefix(*line, "> ")) {
            append_escaped(current->input, *line + 2);
        } else if (current && g_str_has_prefix(*line, "<? ")) {
            g_free(current->shape);
            current->shape = g_strdup(*line + 3);
        } else if (current && g_str_equal(*line, "<=")) {
            current->from_reference = TRUE;
        } else if (current && g_str_has_prefix(*line, "<~ ")) {
            append_escaped(current->expected, *line + 3);
            current->prefix_only = TRUE;
        } else if (current && g_str_has_prefix(*line, "< ")) {
            append_escaped(current->expected, *line + 2);
        }
    }
    return g_steal_pointer(&cases);
}

static char *printable(const guint8 *data, gsize len)
{
    GString *out = g_string_new(NULL);

    for (gsize i = 0; i < len; i++) {
        if (data[i] >= 0x20 && data[i] < 0x7f && data[i] != '\\') {
            g_string_append_c(out, (char)data[i]);
        } else {
            g_string_append_printf(out, "\\x%02x", data[i]);
        }
    }
    return g_string_free(out, FALSE);
}

/* The commands quiesced registers, as guest-info lists them: reverse
 * registration order (qemu-ga's QAPI_LIST_PREPEND), every one enabled (the
 * cases start the agent with no allow or block list). (transfer full) */
static Dispatcher *registry_new(CommandContext *context)
{
    Dispatcher *dispatcher = dispatcher_new(context, NULL);

    commands_register(dispatcher);
    return dispatcher;
}

static gboolean shape_fail(const char *name, const char *what, const char *detail)
{
    g_printerr("FAIL %s: %s%s%s\n", name, what, detail ? ": " : "", detail ? detail : "");
    return FALSE;
}

/* An object with exactly these members, of these types, in any order. */
static gboolean has_members(const JsonValue *object, const char *const *keys,
                            const JsonType *types, gsize n)
{
    if (json_value_type(object) != JSON_TYPE_OBJECT || json_object_size(object) != n) {
        return FALSE;
    }
    for (gsize i = 0; i < n; i++) {
        const JsonValue *member = json_object_get(object, keys[i]);
        if (!member || json_value_type(member) != types[i]) {
            return FALSE;
        }
    }
    return TRUE;
}

/* One supported_commands entry against quiesced's row for that name:
 * enabled, success-response as the row's flags say. */
/* The cases run the agent without allow or block lists: a row is enabled
 * unless it is blocked by default (guest-get-devices, as in qemu-ga). */
static gboolean same_as_row(const JsonValue *entry, const CommandSpec *spec)
{
    return json_bool_get(json_object_get(entry, "enabled")) ==
               !(spec->flags & COMMAND_FLAG_BLOCKED_BY_DEFAULT) &&
           json_bool_get(json_object_get(entry, "success-response")) ==
               !(spec->flags & COMMAND_FLAG_NO_SUCCESS_RESPONSE);
}

/*
 * guest-info's whole shape: {"return": {"version": V, "supported_commands":
 * [{"enabled": B, "name": S, "success-response": B}, ...]}} and nothing
 * else, V a non-empty "N.N..." string (quiesced: its own version), names
 * unique. quiesced lists exactly its registry, in guest-info's order, each
 * entry as its row says; qemu-ga lists at least every command of the QGA
 * families quiesced shares with it, each with the same enabled and
 * success-response (the snapshot extension is quiesced's own).
 */
static gboolean check_guest_info(const char *name, const char *flavour, const GByteArray *reply)
{
    static const char *const top_keys[] = { "return" };
    static const JsonType top_types[] = { JSON_TYPE_OBJECT };
    static const char *const info_keys[] = { "version", "supported_commands" };
    static const JsonType info_types[] = { JSON_TYPE_STRING, JSON_TYPE_ARRAY };
    static const char *const entry_keys[] = { "enabled", "name", "success-response" };
    static const JsonType entry_types[] = { JSON_TYPE_BOOL, JSON_TYPE_STRING, JSON_TYPE_BOOL };
    proto_autoptr_error *perror = NULL;
    json_autoptr *value = NULL;
    g_autoptr(GHashTable) names = g_hash_table_new(g_str_hash, g_str_equal);
    CommandContext context = { 0 };
    Dispatcher *registry = registry_new(&context);
    gboolean quiesced = g_str_equal(flavour, "quiesced");
    gboolean ok = TRUE;
    const JsonValue *info;
    const JsonValue *list;
    const char *version;
    gsize n;

    if (reply->len == 0 || reply->data[reply->len - 1] != '\n') {
        commands_context_clear(&context);
        dispatcher_free(registry);
        return shape_fail(name, "the reply is not one whole line", NULL);
    }
    value = json_parse_string((const char *)reply->data, reply->len - 1, &perror);
    if (!value || !has_members(value, top_keys, top_types, 1) ||
        !has_members(info = json_object_get(value, "return"), info_keys, info_types, 2)) {
        commands_context_clear(&context);
        dispatcher_free(registry);
        return shape_fail(name, "not {\"return\": {\"version\": STRING, \"supported_commands\": ARRAY}}",
                          perror ? "unparsable" : NULL);
    }
    version = json_object_get_string(info, "version");
    if (!g_regex_match_simple("^[0-9]+\\.[0-9]+", version, 0, 0) ||
        (quiesced && !g_str_equal(version, QUIESCE_VERSION))) {
        ok = shape_fail(name, "version", version);
    }
    list = json_object_get(info, "supported_commands");
    n = dispatcher_command_count(registry);
    if (quiesced && json_array_length(list) != n) {
        ok = shape_fail(name, "supported_commands is not the registry's length", NULL);
    }
    for (gsize i = 0; i < json_array_length(list); i++) {
        const JsonValue *entry = json_array_get(list, i);
        const char *command;
        const CommandSpec *spec;

        if (!has_members(entry, entry_keys, entry_types, 3)) {
            ok = shape_fail(name, "an entry is not {enabled: BOOL, name: STRING, success-response: BOOL}", NULL);
            continue;
        }
        command = json_object_get_string(entry, "name");
        if (!g_hash_table_add(names, (gpointer)command)) {
            ok = shape_fail(name, "listed twice", command);
        }
        spec = dispatcher_lookup(registry, command);
        if (quiesced && (i >= n || spec != dispatcher_command_at(registry, n - 1 - i))) {
            ok = shape_fail(name, "not the registry's command at this place", command);
        } else if (spec && !same_as_row(entry, spec)) {
            ok = shape_fail(name, "enabled or success-response differs from quiesced's row", command);
        }
    }
    for (gsize i = 0; i < commands_basic_count + commands_fsfreeze_count; i++) {
        const char *command = i < commands_basic_count
                                  ? commands_basic[i].name
                                  : commands_fsfreeze[i - commands_basic_count].name;
        if (!g_hash_table_contains(names, command)) {
            ok = shape_fail(name, "missing a QGA command quiesced shares", command);
        }
    }
    commands_context_clear(&context);
    dispatcher_free(registry);
    return ok;
}

/* The name of the @{name} token at text (which starts with "@{"), or NULL. */
static char *token_name(const guint8 *text, gsize len, gsize *token_len)
{
    for (gsize i = 2; i < len; i++) {
        if (text[i] == '}') {
            *token_len = i + 1;
            return i > 2 ? g_strndup((const char *)text + 2, i - 2) : NULL;
        }
        if (!g_ascii_isalnum(text[i]) && text[i] != '-' && text[i] != '_') {
            return NULL;
        }
    }
    return NULL;
}

/* The input with every bound @{name} replaced by its value. */
static GByteArray *substitute(const GByteArray *in, CompatBindings *bindings)
{
    GByteArray *out = g_byte_array_new();

    for (gsize i = 0; i < in->len; i++) {
        gsize token_len = 0;
        g_autofree char *name = in->data[i] == '@' && i + 1 < in->len && in->data[i + 1] == '{'
                                    ? token_name(in->data + i, in->len - i, &token_len)
                                    : NULL;
        const char *value = name ? g_hash_table_lookup(bindings, name) : NULL;
        if (value) {
            g_byte_array_append(out, (const guint8 *)value, (guint)strlen(value));
            i += token_len - 1;
        } else {
            g_byte_array_append(out, in->data + i, 1);
        }
    }
    return out;
}

/* Matches got against expected, where an unbound @{name} matches an
 * integer and binds it (in *fresh, committed by the caller on success). */
static gboolean match(const GByteArray *expected, const GByteArray *got, gboolean prefix_only,
                      CompatBindings *bindings, GHashTable *fresh)
{
    gsize e = 0, g = 0;

    while (e < expected->len) {
        gsize token_len = 0;
        g_autofree char *name = expected->data[e] == '@' && e + 1 < expected->len &&
                                        expected->data[e + 1] == '{'
                                    ? token_name(expected->data + e, expected->len - e, &token_len)
                                    : NULL;
        if (name && !g_hash_table_contains(bindings, name) && !g_hash_table_contains(fresh, name)) {
            gsize start = g;
            if (g < got->len && got->data[g] == '-') {
                g++;
            }
            while (g < got->len && g_ascii_isdigit(got->data[g])) {
                g++;
            }
            if (g == start || (g == start + 1 && got->data[start] == '-')) {
                return FALSE;
            }
            g_hash_table_insert(fresh, g_steal_pointer(&name),
                                g_strndup((const char *)got->data + start, g - start));
            e += token_len;
            continue;
        }
        if (g >= got->len || got->data[g] != expected->data[e]) {
            return FALSE;
        }
        e++;
        g++;
    }
    return prefix_only || g == got->len;
}

static gboolean has_token(const GByteArray *bytes)
{
    for (gsize i = 0; i + 1 < bytes->len; i++) {
        if (bytes->data[i] == '@' && bytes->data[i + 1] == '{') {
            return TRUE;
        }
    }
    return FALSE;
}

/* A reply known whole and without tokens is read to its length; one known
 * in part (a prefix, a shape) to its end of line; one with tokens to its
 * number of lines. */
static GByteArray *run_once(const char *socket_path, const CompatCase *c, const GByteArray *input,
                            const GByteArray *expected, GError **error)
{
    guint lines = 0;

    if (c->prefix_only || c->shape) {
        return agent_process_exchange_lines(socket_path, input->data, input->len, 1, 2000,
                                            error);
    }
    if (!has_token(expected)) {
        return agent_process_exchange(socket_path, input->data, input->len, expected->len, 2000,
                                      error);
    }
    for (gsize i = 0; i < expected->len; i++) {
        lines += expected->data[i] == '\n';
    }
    return agent_process_exchange_lines(socket_path, input->data, input->len, MAX(lines, 1), 5000,
                                        error);
}

static gboolean run_case(const char *socket_path, const CompatCase *c, const char *flavour,
                         CompatBindings *bindings)
{
    g_autoptr(GByteArray) input = substitute(c->input, bindings);
    g_autoptr(GByteArray) expected = substitute(c->expected, bindings);
    g_autoptr(GByteArray) got = NULL;
    g_autoptr(GError) error = NULL;

    for (guint attempt = 0;; attempt++) {
        g_autoptr(GHashTable) fresh = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        GHashTableIter iter;
        gpointer key, value;

        g_clear_pointer(&got, g_byte_array_unref);
        got = run_once(socket_path, c, input, expected, &error);
        if (!got) {
            g_printerr("FAIL %s: %s\n", c->name, error->message);
            return FALSE;
        }
        if (c->shape && g_str_equal(c->shape, "guest-info")) {
            return check_guest_info(c->name, flavour, got);
        }
        if (c->shape) {
            g_printerr("FAIL %s: no shape check named %s\n", c->name, c->shape);
            return FALSE;
        }
        if (match(expected, got, c->prefix_only, bindings, fresh)) {
            g_hash_table_iter_init(&iter, fresh);
            while (g_hash_table_iter_next(&iter, &key, &value)) {
                g_hash_table_iter_steal(&iter);
                g_hash_table_insert(bindings, key, value);
            }
            return TRUE;
        }
        if (attempt >= c->retries) {
            break;
        }
        g_usleep(100 * 1000);
    }
    {
        g_autofree char *g = printable(got->data, MIN(got->len, 2000));
        g_autofree char *e = printable(expected->data, MIN(expected->len, 2000));
        g_printerr("FAIL %s (%u bytes, expected %u)\n  got:      %s\n  expected: %s\n", c->name,
                   got->len, expected->len, g, e);
    }
    return FALSE;
}

/* The reference agent's replies become the expected bytes of the "<="
 * cases; FALSE (and those cases are skipped) without a reference. */
static gboolean load_reference_replies(GPtrArray *cases, const char *flavour)
{
    const char *reference = g_getenv("QGA_COMPAT_REFERENCE");
    g_autoptr(AgentProcess) agent = NULL;
    g_autoptr(GError) error = NULL;

    if (g_str_equal(flavour, "qemu-ga") || !reference ||
        !g_file_test(reference, G_FILE_TEST_IS_EXECUTABLE)) {
        return FALSE;
    }
    agent = agent_process_start("qemu-ga", reference, NULL, &error);
    if (!agent) {
        g_printerr("cannot start the reference %s: %s\n", reference, error->message);
        return FALSE;
    }
    for (guint i = 0; i < cases->len; i++) {
        CompatCase *c = g_ptr_array_index(cases, i);
        g_autoptr(GByteArray) reply = NULL;
        if (!c->from_reference) {
            continue;
        }
        reply = agent_process_exchange_lines(agent_process_socket(agent), c->input->data,
                                             c->input->len, 1, 5000, &error);
        if (!reply) {
            g_printerr("reference %s: %s\n", c->name, error->message);
            return FALSE;
        }
        g_byte_array_append(c->expected, reply->data, reply->len);
    }
    return agent_process_stop(agent, NULL);
}

int main(int argc, char **argv)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) cases = NULL;
    g_autoptr(AgentProcess) agent = NULL;
    g_autoptr(GHashTable) bindings = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    const char *flavour;
    int failures = 0;

    if (argc != 4) {
        g_printerr("usage: %s CASES quiesced|qemu-ga BINARY\n", argv[0]);
        return 2;
    }
    flavour = argv[2];
    if (!g_file_test(argv[3], G_FILE_TEST_IS_EXECUTABLE)) {
        g_print("SKIP: %s is not installed\n", argv[3]);
        return SKIP_EXIT;
    }
    cases = load_cases(argv[1], &error);
    if (!cases) {
        g_printerr("%s\n", error->message);
        return 2;
    }
    gboolean have_reference = load_reference_replies(cases, flavour);
    agent = agent_process_start(flavour, argv[3], NULL, &error);
    if (!agent) {
        g_printerr("cannot start %s: %s\n", argv[3], error->message);
        return 1;
    }
    /* @{dir}: the agent's own temp dir, where cases keep their files. */
    g_hash_table_insert(bindings, g_strdup("dir"), g_strdup(agent_process_dir(agent)));
    for (guint i = 0; i < cases->len; i++) {
        CompatCase *c = g_ptr_array_index(cases, i);
        if (c->only && !g_str_equal(c->only, flavour)) {
            continue;
        }
        if (c->from_reference && !have_reference) {
            g_print("skip %s (no reference agent to compare with)\n", c->name);
            continue;
        }
        if (run_case(agent_process_socket(agent), c, flavour, bindings)) {
            g_print("ok   %s\n", c->name);
        } else {
            failures++;
        }
    }
    if (!agent_process_stop(agent, &error)) {
        g_printerr("FAIL shutdown: %s\n", error->message);
        failures++;
    }
    g_print("%s: %d case(s) failed against %s\n", failures ? "FAIL" : "PASS", failures, flavour);
    return failures ? 1 : 0;
}
