/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * disk-smart.c — the NVMe SMART log behind guest-get-disks' `smart`; see
 * the header. The kernel passes the admin command through unchanged
 * (NVME_IOCTL_ADMIN_CMD, which needs CAP_SYS_ADMIN); the page is decoded
 * from its bytes, so the same code serves a unit test without a disk.
 */
#include "agent/commands/disk-smart.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/nvme_ioctl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* NVMe base specification: Get Log Page (admin opcode 02h) for the SMART /
 * Health Information page (log identifier 02h) of the whole controller
 * (namespace FFFFFFFFh). cdw10: the page id, Retain Asynchronous Event
 * (bit 15), and the number of dwords minus one in bits 16-31 — what
 * qemu-ga sends. */
#define DISK_SMART_NVME_GET_LOG_PAGE 0x02
#define DISK_SMART_NVME_LOG_SMART 0x02
#define DISK_SMART_NVME_NSID_ALL 0xffffffffu
#define DISK_SMART_NVME_RAE (1u << 15)

/* The 16-byte counters of the page, from offset 32 on, each sent as a
 * 64-bit -lo and -hi half in qemu-ga's member names. */
static const char *const disk_smart_nvme_counters[] = {
    "data-units-read",     "data-units-written", "host-read-commands",
    "host-write-commands", "controller-busy-time", "power-cycles",
    "power-on-hours",      "unsafe-shutdowns",   "media-errors",
    "number-of-error-log-entries",
};
#define DISK_SMART_NVME_COUNTERS_OFFSET 32

static guint64 disk_smart_le64(const guint8 *p)
{
    guint64 v = 0;

    for (int i = 7; i >= 0; i--) {
        v = (v << 8) | p[i];
    }
    return v;
}

JsonValue *disk_smart_nvme_json_new(const guint8 *log)
{
    JsonValue *smart = json_object_new();

    /* Members in qemu-ga's order: its QDict order depends on it. */
    json_object_set_string(smart, "type", "nvme");
    json_object_set_int(smart, "critical-warning", log[0]);
    /* Temperature in kelvins at bytes 1-2 (unaligned). */
    json_object_set_int(smart, "temperature", log[1] | (log[2] << 8));
    json_object_set_int(smart, "available-spare", log[3]);
    json_object_set_int(smart, "available-spare-threshold", log[4]);
    json_object_set_int(smart, "percentage-used", log[5]);
    for (gsize i = 0; i < G_N_ELEMENTS(disk_smart_nvme_counters); i++) {
        const guint8 *field = log + DISK_SMART_NVME_COUNTERS_OFFSET + 16 * i;
        g_autofree char *lo = g_strconcat(disk_smart_nvme_counters[i], "-lo", NULL);
        g_autofree char *hi = g_strconcat(disk_smart_nvme_counters[i], "-hi", NULL);

        json_object_set(smart, lo, json_uint_new(disk_smart_le64(field)));
        json_object_set(smart, hi, json_uint_new(disk_smart_le64(field + 8)));
    }
    return smart;
}

JsonValue *disk_smart_nvme_read(const char *node)
{
    guint8 log[DISK_SMART_NVME_LOG_SIZE] = { 0 };
    struct nvme_admin_cmd cmd;
    int fd;
    int rc;

    memset(&cmd, 0, sizeof(cmd));
    cmd.opcode = DISK_SMART_NVME_GET_LOG_PAGE;
    cmd.nsid = DISK_SMART_NVME_NSID_ALL;
    cmd.addr = (guint64)(uintptr_t)log;
    cmd.data_len = sizeof(log);
    cmd.cdw10 = DISK_SMART_NVME_LOG_SMART | DISK_SMART_NVME_RAE |
                (((sizeof(log) >> 2) - 1) << 16);
    fd = open(node, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return NULL;
    }
    rc = ioctl(fd, NVME_IOCTL_ADMIN_CMD, &cmd);
    close(fd);
    /* A positive answer is the NVMe status of a command the controller
     * refused: no page either, as in qemu-ga. */
    return rc == 0 ? disk_smart_nvme_json_new(log) : NULL;
}
