/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-disk-smart.c — guest-get-disks' NVMe `smart` member from the bytes
 * of a SMART / Health Information log page (docs/qga-reference.md §9):
 * every member at its offset, little-endian, the temperature from its
 * unaligned two bytes, a counter above INT64_MAX sent unsigned, and the
 * member left out when the node is no NVMe disk or cannot be opened. The
 * machine running the tests has no NVMe disk: the ioctl on a real one is
 * checked in vm/systemd-virsh against qemu-ga.
 */
#include <string.h>

#include "agent/commands/disk-smart.h"
#include "protocol/json-writer.h"
#include "tests/support/test-run.h"

static const char *const counters[] = {
    "data-units-read",     "data-units-written", "host-read-commands",
    "host-write-commands", "controller-busy-time", "power-cycles",
    "power-on-hours",      "unsafe-shutdowns",   "media-errors",
    "number-of-error-log-entries",
};

static void put_le64(guint8 *p, guint64 v)
{
    for (int i = 0; i < 8; i++) {
        p[i] = (guint8)(v >> (8 * i));
    }
}

static guint64 member_uint(const JsonValue *smart, const char *name)
{
    const JsonValue *v = json_object_get(smart, name);
    guint64 u = 0;

    g_assert_nonnull(v);
    g_assert_true(json_value_get_uint(v, &u));
    return u;
}

/* Each counter i: lo = 0x0101010101010100 * (i + 1) + 1, hi = i + 2 (a
 * distinct value in every byte, so an offset or byte order that is off by
 * one shows). */
static void test_page(void)
{
    guint8 log[DISK_SMART_NVME_LOG_SIZE];
    json_autoptr *smart = NULL;
    g_autofree char *wire = NULL;

    memset(log, 0xee, sizeof(log)); /* reserved bytes that must not show */
    log[0] = 0x05;                  /* spare and reliability warnings */
    log[1] = 0x2b;                  /* 299 K, unaligned */
    log[2] = 0x01;
    log[3] = 97;
    log[4] = 10;
    log[5] = 3;
    for (guint i = 0; i < G_N_ELEMENTS(counters); i++) {
        put_le64(log + 32 + 16 * i, G_GUINT64_CONSTANT(0x0101010101010100) * (i + 1) + 1);
        put_le64(log + 40 + 16 * i, i + 2);
    }
    smart = disk_smart_nvme_json_new(log);

    g_assert_cmpuint(json_object_size(smart), ==, 1 + 5 + 2 * G_N_ELEMENTS(counters));
    g_assert_cmpstr(json_object_get_string(smart, "type"), ==, "nvme");
    g_assert_cmpuint(member_uint(smart, "critical-warning"), ==, 5);
    g_assert_cmpuint(member_uint(smart, "temperature"), ==, 299);
    g_assert_cmpuint(member_uint(smart, "available-spare"), ==, 97);
    g_assert_cmpuint(member_uint(smart, "available-spare-threshold"), ==, 10);
    g_assert_cmpuint(member_uint(smart, "percentage-used"), ==, 3);
    for (guint i = 0; i < G_N_ELEMENTS(counters); i++) {
        g_autofree char *lo = g_strconcat(counters[i], "-lo", NULL);
        g_autofree char *hi = g_strconcat(counters[i], "-hi", NULL);

        g_assert_cmpuint(member_uint(smart, lo), ==,
                         G_GUINT64_CONSTANT(0x0101010101010100) * (i + 1) + 1);
        g_assert_cmpuint(member_uint(smart, hi), ==, i + 2);
    }
    /* All numbers, none negative: QAPI's int and uint64. */
    wire = json_value_to_wire(smart, NULL);
    g_assert_null(strstr(wire, ": -"));
}

/* A 128-bit counter whose halves are above INT64_MAX: sent as unsigned
 * decimals, as qemu-ga's uint64 members are. */
static void test_large_counter(void)
{
    guint8 log[DISK_SMART_NVME_LOG_SIZE] = { 0 };
    json_autoptr *smart = NULL;
    g_autofree char *wire = NULL;

    put_le64(log + 176, G_MAXUINT64);
    put_le64(log + 184, G_GUINT64_CONSTANT(0x8000000000000000));
    smart = disk_smart_nvme_json_new(log);
    wire = json_value_to_wire(smart, NULL);
    g_assert_nonnull(strstr(wire, "\"number-of-error-log-entries-lo\": 18446744073709551615"));
    g_assert_nonnull(strstr(wire, "\"number-of-error-log-entries-hi\": 9223372036854775808"));
    g_assert_nonnull(strstr(wire, "\"temperature\": 0"));
}

/* No member where qemu-ga sends none: a node that is no NVMe device (the
 * kernel refuses the ioctl) or that cannot be opened. */
static void test_not_nvme(void)
{
    g_assert_null(disk_smart_nvme_read("/dev/null"));
    g_assert_null(disk_smart_nvme_read("/nonexistent/nvme0n1"));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    quiesce_test_add_func("/disk-smart/page", test_page);
    quiesce_test_add_func("/disk-smart/large-counter", test_large_counter);
    quiesce_test_add_func("/disk-smart/not-nvme", test_not_nvme);
    return quiesce_test_run();
}
