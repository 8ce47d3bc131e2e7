/*
 * test-fsinfo-compat.c — guest-get-fsinfo from quiesced and from Debian's
 * qemu-ga on this same machine: every filesystem qemu-ga lists must be listed
 * by quiesced with the same name, type, total-bytes and disk addresses
 * (bus-type, bus, target, unit, pci-controller, dev) — what libvirt's
 * qemuAgentGetFSInfo reads. used-bytes may move between the two calls.
 * Skips (77) when qemu-ga is not installed.
 */
#include <gio/gio.h>

#include "protocol/json-stream.h"
#include "protocol/json-writer.h"
#include "tests/support/agent-process.h"

static JsonValue *fsinfo(const char *flavour, const char *binary)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(AgentProcess) agent = agent_process_start(flavour, binary, NULL, &error);
    const char *request = "{\"execute\":\"guest-get-fsinfo\"}";
    g_autoptr(GByteArray) reply = NULL;
    ProtoError *perror = NULL;
    JsonValue *value;

    g_assert_no_error(error);
    reply = agent_process_exchange(agent_process_socket(agent), (const guint8 *)request,
                                   strlen(request), 1, 10000, &error);
    g_assert_no_error(error);
    value = json_parse_string((const char *)reply->data, reply->len, &perror);
    g_assert_null(perror);
    g_assert_true(agent_process_stop(agent, &error));
    return value;
}

static const JsonValue *find_mount(const JsonValue *list, const char *mountpoint)
{
    for (size_t i = 0; i < json_array_length(list); i++) {
        const JsonValue *item = json_array_get(list, i);
        if (g_strcmp0(json_object_get_string(item, "mountpoint"), mountpoint) == 0) {
            return item;
        }
    }
    return NULL;
}

static void assert_same_member(const JsonValue *a, const JsonValue *b, const char *key)
{
    char *wa = json_value_to_wire(json_object_get(a, key), NULL);
    char *wb = json_value_to_wire(json_object_get(b, key), NULL);

    g_test_message("%s: qemu-ga %s, quiesced %s", key, wa, wb);
    g_assert_cmpstr(wa, ==, wb);
    free(wa);
    free(wb);
}

static void test_fsinfo_matches_qemu_ga(void)
{
    const char *qemu_ga = g_getenv("QEMU_GA");
    json_autoptr *reference = fsinfo("qemu-ga", qemu_ga);
    json_autoptr *ours = fsinfo("quiesced", g_getenv("QUIESCED"));
    const JsonValue *ref_list = json_object_get(reference, "return");
    const JsonValue *our_list = json_object_get(ours, "return");

    g_assert_nonnull(ref_list);
    g_assert_nonnull(our_list);
    for (size_t i = 0; i < json_array_length(ref_list); i++) {
        const JsonValue *ref = json_array_get(ref_list, i);
        const JsonValue *our = find_mount(our_list, json_object_get_string(ref, "mountpoint"));
        const JsonValue *ref_disks = json_object_get(ref, "disk");
        const JsonValue *our_disks = our ? json_object_get(our, "disk") : NULL;

        g_test_message("checking %s", json_object_get_string(ref, "mountpoint"));
        g_assert_nonnull(our);
        if (!our) {
            continue;
        }
        assert_same_member(ref, our, "name");
        assert_same_member(ref, our, "type");
        assert_same_member(ref, our, "total-bytes");
        g_assert_cmpuint(json_array_length(ref_disks), ==, json_array_length(our_disks));
        for (size_t d = 0; d < json_array_length(ref_disks); d++) {
            const char *keys[] = { "bus-type", "bus", "target", "unit", "pci-controller", "dev" };
            for (gsize k = 0; k < G_N_ELEMENTS(keys); k++) {
                if (json_object_has(json_array_get(ref_disks, d), keys[k])) {
                    assert_same_member(json_array_get(ref_disks, d),
                                       json_array_get(our_disks, d), keys[k]);
                }
            }
        }
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    if (!g_file_test(g_getenv("QEMU_GA"), G_FILE_TEST_IS_EXECUTABLE)) {
        g_print("SKIP: qemu-ga is not installed\n");
        return 77;
    }
    g_test_add_func("/protocol/fsinfo-matches-qemu-ga", test_fsinfo_matches_qemu_ga);
    return g_test_run();
}
