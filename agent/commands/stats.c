/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * stats.c — guest-get-diskstats and guest-get-cpustats with qemu-ga 7.2's
 * results (qga/qapi-schema.json GuestDiskStatsInfo and GuestCpuStats,
 * qga/commands-posix.c): /proc/diskstats and /proc/stat read line by line,
 * with qemu-ga's field widths and its choice of which members to send.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/commands/commands.h"

#define STATS_DISKSTATS "/proc/diskstats"
#define STATS_CPU "/proc/stat"

/* A /proc file's lines; FALSE with qemu-ga's open("...") message. */
static gboolean stats_read_lines(const char *path, char ***lines, ProtoError **error)
{
    g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func(g_free);
    FILE *fp = fopen(path, "re");
    char *line = NULL;
    size_t size = 0;

    if (!fp) {
        proto_error_set(error, PROTO_ERROR_CLASS_GENERIC_ERROR, "open(\"%s\"): %s", path,
                        g_strerror(errno));
        return FALSE;
    }
    while (getline(&line, &size, fp) != -1) {
        g_ptr_array_add(out, g_strdup(line));
    }
    free(line);
    fclose(fp);
    g_ptr_array_add(out, NULL);
    *lines = (char **)g_ptr_array_free(g_steal_pointer(&out), FALSE);
    return TRUE;
}

/*
 * The members of GuestDiskStats in qemu-ga's order, each with its field in
 * a /proc/diskstats line after the name (the 11-field form and later), the
 * conversions it needs, its field in the old 4-field form of partitions
 * (-1: not sent then), and whether qemu-ga reads it as unsigned int.
 */
static const struct {
    const char *key;
    int field;
    int needs;
    int short_field;
    gboolean as_uint;
} stats_disk_members[] = {
    { "read-sectors", 2, 14, 1, FALSE },    { "read-ios", 0, 14, 0, FALSE },
    { "read-merges", 1, 14, -1, FALSE },    { "write-sectors", 6, 14, 3, FALSE },
    { "write-ios", 4, 14, 2, FALSE },       { "write-merges", 5, 14, -1, FALSE },
    { "discard-sectors", 13, 18, -1, FALSE }, { "discard-ios", 11, 18, -1, FALSE },
    { "discard-merges", 12, 18, -1, FALSE }, { "flush-ios", 15, 20, -1, FALSE },
    { "read-ticks", 3, 14, -1, FALSE },     { "write-ticks", 7, 14, -1, TRUE },
    { "discard-ticks", 14, 18, -1, TRUE },  { "flush-ticks", 16, 20, -1, TRUE },
    { "ios-pgr", 8, 14, -1, TRUE },         { "total-ticks", 9, 14, -1, TRUE },
    { "weight-ticks", 10, 14, -1, TRUE },
};

/*
 * One /proc/diskstats line as qemu-ga reads it: the kernel's 4-field form
 * of old partitions (7 conversions), the 11-field form (14), then discard
 * (4.18, 18) and flush (5.5, 20) counters; a count in between sends what
 * the smaller form has, and 8 to 13 an empty "stats", as qemu-ga does.
 * NULL for a line of fewer fields. (transfer full)
 */
static JsonValue *stats_disk_line(const char *line)
{
    char name[128];
    unsigned int major, minor;
    unsigned long f[17];
    JsonValue *stats;
    JsonValue *item;
    int n = sscanf(line,
                   "%u %u %127s %lu %lu %lu %lu %lu %lu %lu %lu %lu %lu %lu %lu %lu %lu %lu %lu %lu",
                   &major, &minor, name, &f[0], &f[1], &f[2], &f[3], &f[4], &f[5], &f[6], &f[7],
                   &f[8], &f[9], &f[10], &f[11], &f[12], &f[13], &f[14], &f[15], &f[16]);

    if (n < 7) {
        return NULL;
    }
    stats = json_object_new();
    for (gsize i = 0; i < G_N_ELEMENTS(stats_disk_members); i++) {
        int field = n == 7 ? stats_disk_members[i].short_field
                           : (n >= stats_disk_members[i].needs ? stats_disk_members[i].field : -1);
        unsigned long value;

        if (field < 0) {
            continue;
        }
        /* Read as unsigned int by qemu-ga: the same wrap. */
        value = stats_disk_members[i].as_uint ? (unsigned int)f[field] : f[field];
        json_object_set(stats, stats_disk_members[i].key, json_uint_new(value));
    }
    item = json_object_new();
    json_object_set_string(item, "name", name);
    json_object_set(item, "major", json_uint_new(major));
    json_object_set(item, "minor", json_uint_new(minor));
    json_object_set(item, "stats", stats);
    return item;
}

static bool cmd_get_diskstats(void *context, const JsonValue *args, JsonValue **result,
                              ProtoError **error)
{
    g_auto(GStrv) lines = NULL;

    if (!stats_read_lines(STATS_DISKSTATS, &lines, error)) {
        return false;
    }
    *result = json_array_new();
    for (char **line = lines; *line; line++) {
        JsonValue *item = stats_disk_line(*line);
        if (item) {
            json_array_append(*result, item);
        }
    }
    return true;
}

/* Milliseconds from clock ticks, in qemu-ga's unsigned long arithmetic. */
static JsonValue *stats_ms(unsigned long ticks, long clk_tck)
{
    return json_uint_new(ticks * 1000 / (unsigned long)clk_tck);
}

/* One "cpuN ..." line of /proc/stat with n conversions (at least 5). */
static JsonValue *stats_cpu_line(const char *name, const unsigned long *v, int n, long clk_tck)
{
    static const char *const optional[] = { "iowait", "irq", "softirq", "steal", "guest",
                                            "guestnice" };
    /* The conversions each optional member needs, as qemu-ga counts them
     * (softirq comes with irq). */
    static const int needed[] = { 6, 7, 7, 9, 10, 11 };
    JsonValue *item = json_object_new();

    json_object_set_string(item, "type", "linux");
    json_object_set_int(item, "cpu", atoi(name + 3));
    json_object_set(item, "user", stats_ms(v[0], clk_tck));
    json_object_set(item, "nice", stats_ms(v[1], clk_tck));
    json_object_set(item, "system", stats_ms(v[2], clk_tck));
    json_object_set(item, "idle", stats_ms(v[3], clk_tck));
    for (gsize i = 0; i < G_N_ELEMENTS(optional); i++) {
        if (n >= needed[i]) {
            json_object_set(item, optional[i], stats_ms(v[4 + i], clk_tck));
        }
    }
    return item;
}

/* Per-CPU lines only ("cpu0", "cpu1", ...; not the "cpu" total). A cpu line
 * too short to read ends the list there, as in qemu-ga. */
static bool cmd_get_cpustats(void *context, const JsonValue *args, JsonValue **result,
                             ProtoError **error)
{
    long clk_tck = sysconf(_SC_CLK_TCK);
    g_auto(GStrv) lines = NULL;

    if (!stats_read_lines(STATS_CPU, &lines, error)) {
        return false;
    }
    *result = json_array_new();
    for (char **line = lines; *line; line++) {
        unsigned long v[10] = { 0 };
        char name[64];
        int n = sscanf(*line, "%63s %lu %lu %lu %lu %lu %lu %lu %lu %lu %lu", name, &v[0], &v[1],
                       &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9]);

        if (n == EOF || n < 1 || strncmp(name, "cpu", 3) != 0 || name[3] == '\0') {
            continue;
        }
        if (n < 5) {
            g_warning("cannot read the CPU times in %s", STATS_CPU);
            break;
        }
        json_array_append(*result, stats_cpu_line(name, v, n, clk_tck));
    }
    return true;
}

const CommandSpec commands_stats[] = {
    { "guest-get-diskstats", cmd_get_diskstats, NULL, 0 },
    { "guest-get-cpustats", cmd_get_cpustats, NULL, 0 },
};
const gsize commands_stats_count = G_N_ELEMENTS(commands_stats);
