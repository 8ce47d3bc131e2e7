/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-fsinfo-compat.c — guest-get-fsinfo from quiesced and from Debian's
 * qemu-ga on this same machine: every filesystem qemu-ga lists must be listed
 * by quiesced with the same name, type, total-bytes and disk addresses
 * (bus-type, bus, target, unit, pci-controller, dev) — what libvirt's
 * qemuAgentGetFSInfo reads. used-bytes may move between the two calls.
 * Both lists must hold every whole filesystem this machine mounts from a
 * block device (an empty list compares nothing). Skips (77) when qemu-ga is
 * not installed or nothing here is mounted from a block device.
 */
#include <gio/gio.h>
#include <stdio.h>

#include "protocol/json-stream.h"
#include "protocol/json-writer.h"
#include "tests/support/agent-process.h"
#include "tests/support/test-run.h"

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

/* The mountpoints both agents must list: the first mount of each block
 * device sysfs knows (/sys/dev/block/MAJ:MIN) from a /dev source, as
 * qemu-ga 7.2 picks them (docs/qga-reference.md, "Which filesystems"), when
 * that mount is of the whole filesystem (root "/", not a bind of a subtree
 * or a file). Mountpoints with escapes (\040) are left out rather than
 * decoded. (transfer full) */
static GPtrArray *block_mountpoints(void)
{
    GPtrArray *found = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;

    g_assert_true(g_file_get_contents("/proc/self/mountinfo", &text, NULL, NULL));
    lines = g_strsplit(text, "\n", -1);
    for (char **line = lines; *line && **line; line++) {
        g_auto(GStrv) field = g_strsplit(*line, " ", -1);
        g_autofree char *sysfs = NULL;
        guint n = g_strv_length(field);
        guint dash = 6;

        while (dash < n && !g_str_equal(field[dash], "-")) {
            dash++;
        }
        if (dash + 2 >= n || !g_str_has_prefix(field[dash + 2], "/dev/") ||
            !g_hash_table_add(seen, g_strdup(field[2]))) {
            continue;
        }
        sysfs = g_strdup_printf("/sys/dev/block/%s", field[2]);
        if (g_str_equal(field[3], "/") && !strchr(field[4], '\\') &&
            g_file_test(sysfs, G_FILE_TEST_EXISTS)) {
            g_ptr_array_add(found, g_strdup(field[4]));
        }
    }
    return found;
}

static void test_fsinfo_matches_qemu_ga(void)
{
    g_autoptr(GPtrArray) before = block_mountpoints();
    const char *qemu_ga = g_getenv("QEMU_GA");
    json_autoptr *reference = fsinfo("qemu-ga", qemu_ga);
    json_autoptr *ours = fsinfo("quiesced", g_getenv("QUIESCED"));
    const JsonValue *ref_list = json_object_get(reference, "return");
    const JsonValue *our_list = json_object_get(ours, "return");
    /* Only mounts there before and after both calls: other tests mount and
     * unmount their loop images meanwhile. */
    g_autoptr(GPtrArray) after = block_mountpoints();
    g_autoptr(GPtrArray) expected = g_ptr_array_new();

    for (guint i = 0; i < before->len; i++) {
        if (g_ptr_array_find_with_equal_func(after, before->pdata[i], g_str_equal, NULL)) {
            g_ptr_array_add(expected, before->pdata[i]);
        }
    }

    g_assert_nonnull(ref_list);
    g_assert_nonnull(our_list);
    if (expected->len == 0) {
        quiesce_test_skip_missing("a filesystem mounted from a block device");
        return;
    }
    g_assert_cmpuint(json_array_length(ref_list), >, 0);
    for (guint i = 0; i < expected->len; i++) {
        const char *mountpoint = g_ptr_array_index(expected, i);
        g_test_message("both must list %s", mountpoint);
        g_assert_nonnull(find_mount(ref_list, mountpoint));
        g_assert_nonnull(find_mount(our_list, mountpoint));
    }
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
    quiesce_test_add_func("/protocol/fsinfo-matches-qemu-ga", test_fsinfo_matches_qemu_ga);
    return quiesce_test_run();
}
