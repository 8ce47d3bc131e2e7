/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-info-compat.c — the system-information commands from quiesced and
 * from Debian's qemu-ga, both running side by side on unix sockets on this
 * machine: each reply must be byte for byte qemu-ga's once the values that
 * change between two reads are normalised:
 *
 *   guest-get-time                 the number, when the two are within 10 s
 *   guest-network-get-interfaces   every counter in "statistics"
 *   guest-get-diskstats            every counter in "stats" (not name,
 *                                  major, minor, nor which members are sent)
 *   guest-get-cpustats             every time (not "cpu", "type", nor
 *                                  which members are sent)
 *   guest-get-disks                the numbers of an NVMe disk's "smart"
 *                                  (I/O counters and hours; this machine
 *                                  has no NVMe disk: vm/systemd-virsh
 *                                  compares them in the guest)
 *
 * A normalised number becomes 0; member names, their order, types and
 * everything else stay as sent. guest-get-osinfo, -host-name, -timezone
 * and -users are compared as they are. Since other processes may
 * add a loop device or log in between two reads, a reply passes when it
 * matches qemu-ga's read just before it or just after it; a few rounds
 * are tried before it fails. guest-get-devices must be the same disabled
 * entry in guest-info and the same error. Skips (77) without qemu-ga.
 */
#include <gio/gio.h>

#include "protocol/json-stream.h"
#include "protocol/json-writer.h"
#include "tests/support/agent-process.h"

#define ROUNDS 4

typedef enum {
    NORMALISE_NONE,
    NORMALISE_TIME,
    NORMALISE_MEMBER, /* numbers inside the member named by `member` of each entry */
    NORMALISE_CPU,    /* numbers of each entry but "cpu" */
} Normalise;

typedef struct {
    const char *command;
    Normalise normalise;
    const char *member;
} CompareCase;

static const CompareCase compare_cases[] = {
    { "guest-get-osinfo", NORMALISE_NONE, NULL },
    { "guest-get-host-name", NORMALISE_NONE, NULL },
    { "guest-get-timezone", NORMALISE_NONE, NULL },
    { "guest-get-users", NORMALISE_NONE, NULL },
    { "guest-get-disks", NORMALISE_MEMBER, "smart" },
    { "guest-network-get-interfaces", NORMALISE_MEMBER, "statistics" },
    { "guest-get-diskstats", NORMALISE_MEMBER, "stats" },
    { "guest-get-cpustats", NORMALISE_CPU, NULL },
    { "guest-get-time", NORMALISE_TIME, NULL },
};

typedef struct {
    AgentProcess *qemu_ga;
    AgentProcess *quiesced;
} Agents;

static char *ask(AgentProcess *agent, const char *request)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GByteArray) reply =
        agent_process_exchange_lines(agent_process_socket(agent), (const guint8 *)request,
                                     strlen(request), 1, 10000, &error);

    g_assert_no_error(error);
    return g_strndup((const char *)reply->data, reply->len);
}

/* Every number directly in object becomes 0, but for the member keep. */
static void zero_numbers(JsonValue *object, const char *keep)
{
    for (size_t i = 0; object && i < json_object_size(object); i++) {
        const char *key = json_object_key_at(object, i);
        JsonType type = json_value_type(json_object_value_at(object, i));

        if ((type == JSON_TYPE_INT || type == JSON_TYPE_UINT || type == JSON_TYPE_DOUBLE) &&
            g_strcmp0(key, keep) != 0) {
            json_object_set(object, key, json_int_new(0));
        }
    }
}

/* The reply in wire form after the case's normalisation. (transfer full) */
static char *normalised(const CompareCase *c, const char *reply, gint64 *time)
{
    ProtoError *perror = NULL;
    json_autoptr *value = json_parse_string(reply, strlen(reply), &perror);
    JsonValue *ret;
    char *wire;

    g_assert_null(perror);
    ret = json_object_get(value, "return");
    g_assert_nonnull(ret);
    if (c->normalise == NORMALISE_TIME) {
        g_assert_true(json_value_get_int(ret, time));
        json_object_set(value, "return", json_int_new(0));
    }
    for (size_t i = 0; c->normalise >= NORMALISE_MEMBER && i < json_array_length(ret); i++) {
        JsonValue *entry = json_array_get(ret, i);
        if (c->normalise == NORMALISE_MEMBER) {
            zero_numbers(json_object_get(entry, c->member), NULL);
        } else {
            zero_numbers(entry, "cpu");
        }
    }
    wire = json_value_to_wire(value, NULL);
    return wire;
}

/* One round: qemu-ga, quiesced, qemu-ga again. TRUE when quiesced's reply
 * matches either of qemu-ga's. */
static gboolean compare_round(const Agents *agents, const CompareCase *c)
{
    g_autofree char *request = g_strdup_printf("{\"execute\":\"%s\"}", c->command);
    g_autofree char *before = ask(agents->qemu_ga, request);
    g_autofree char *ours = ask(agents->quiesced, request);
    g_autofree char *after = ask(agents->qemu_ga, request);
    gint64 t_before = 0, t_ours = 0, t_after = 0;
    g_autofree char *n_before = normalised(c, before, &t_before);
    g_autofree char *n_ours = normalised(c, ours, &t_ours);
    g_autofree char *n_after = normalised(c, after, &t_after);
    gboolean same = g_str_equal(n_ours, n_before) || g_str_equal(n_ours, n_after);

    if (c->normalise == NORMALISE_TIME) {
        /* Nanoseconds, read in that order. */
        same = same && t_before <= t_ours && t_ours <= t_after &&
               t_after - t_before < 10 * G_GINT64_CONSTANT(1000000000);
    }
    if (!same) {
        g_test_message("%s differs:\n qemu-ga  %s quiesced %s qemu-ga  %s", c->command,
                       n_before, n_ours, n_after);
    }
    return same;
}

static void test_compare(gconstpointer data)
{
    const CompareCase *c = data;
    g_autoptr(GError) error = NULL;
    Agents agents = { 0 };
    gboolean same = FALSE;

    agents.qemu_ga = agent_process_start("qemu-ga", g_getenv("QEMU_GA"), NULL, &error);
    g_assert_no_error(error);
    agents.quiesced = agent_process_start("quiesced", g_getenv("QUIESCED"), NULL, &error);
    g_assert_no_error(error);
    for (int round = 0; round < ROUNDS && !same; round++) {
        same = compare_round(&agents, c);
    }
    g_assert_true(agent_process_stop(agents.quiesced, &error));
    g_assert_true(agent_process_stop(agents.qemu_ga, &error));
    agent_process_free(agents.quiesced);
    agent_process_free(agents.qemu_ga);
    g_assert_true(same);
}

/* The guest-info entry named name, in wire form. (transfer full) */
static char *info_entry(AgentProcess *agent, const char *name)
{
    g_autofree char *reply = ask(agent, "{\"execute\":\"guest-info\"}");
    ProtoError *perror = NULL;
    json_autoptr *value = json_parse_string(reply, strlen(reply), &perror);
    const JsonValue *list = json_object_get(json_object_get(value, "return"), "supported_commands");

    g_assert_null(perror);
    for (size_t i = 0; i < json_array_length(list); i++) {
        const JsonValue *entry = json_array_get(list, i);
        if (g_strcmp0(json_object_get_string(entry, "name"), name) == 0) {
            return json_value_to_wire(entry, NULL);
        }
    }
    return NULL;
}

/* guest-get-devices is listed disabled and refused, and the commands of
 * this family are listed enabled, exactly as qemu-ga lists them. */
static void test_devices_disabled(void)
{
    static const char *const listed[] = { "guest-get-devices",  "guest-get-osinfo",
                                          "guest-set-time",     "guest-get-cpustats",
                                          "guest-get-disks",    "guest-network-get-interfaces" };
    g_autoptr(GError) error = NULL;
    g_autoptr(AgentProcess) qemu_ga = agent_process_start("qemu-ga", g_getenv("QEMU_GA"), NULL,
                                                          &error);
    g_autoptr(AgentProcess) quiesced = NULL;
    const char *request = "{\"execute\":\"guest-get-devices\",\"id\":\"d\"}";
    g_autofree char *ref_reply = NULL;
    g_autofree char *our_reply = NULL;

    g_assert_no_error(error);
    quiesced = agent_process_start("quiesced", g_getenv("QUIESCED"), NULL, &error);
    g_assert_no_error(error);
    for (gsize i = 0; i < G_N_ELEMENTS(listed); i++) {
        g_autofree char *ref = info_entry(qemu_ga, listed[i]);
        g_autofree char *ours = info_entry(quiesced, listed[i]);
        g_assert_nonnull(ref);
        g_assert_cmpstr(ours, ==, ref);
    }
    ref_reply = ask(qemu_ga, request);
    our_reply = ask(quiesced, request);
    g_assert_cmpstr(our_reply, ==, ref_reply);
    g_assert_cmpstr(our_reply, ==,
                    "{\"id\": \"d\", \"error\": {\"class\": \"CommandNotFound\", \"desc\": "
                    "\"Command guest-get-devices has been disabled\"}}\n");
    g_assert_true(agent_process_stop(quiesced, &error));
    g_assert_true(agent_process_stop(qemu_ga, &error));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    if (!g_file_test(g_getenv("QEMU_GA"), G_FILE_TEST_IS_EXECUTABLE)) {
        g_print("SKIP: qemu-ga is not installed\n");
        return 77;
    }
    for (gsize i = 0; i < G_N_ELEMENTS(compare_cases); i++) {
        g_autofree char *path = g_strdup_printf("/protocol/info-compat/%s",
                                                compare_cases[i].command);
        g_test_add_data_func(path, &compare_cases[i], test_compare);
    }
    g_test_add_func("/protocol/info-compat/guest-get-devices-disabled", test_devices_disabled);
    return g_test_run();
}
