/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * report-json.c — see the header. Everything here is read from the plain
 * structs of fsfreeze/; nothing is probed.
 */
#include "agent/commands/report-json.h"

JsonValue *report_json_strings(const GPtrArray *strings)
{
    JsonValue *array = json_array_new();

    for (guint i = 0; strings && i < strings->len; i++) {
        json_array_append(array, json_string_new(g_ptr_array_index(strings, i)));
    }
    return array;
}

JsonValue *report_json_time(gint64 real_us)
{
    g_autoptr(GDateTime) time = g_date_time_new_from_unix_utc(real_us / G_USEC_PER_SEC);
    g_autoptr(GDateTime) precise = g_date_time_add(time, real_us % G_USEC_PER_SEC);
    g_autofree char *text = g_date_time_format(precise, "%Y-%m-%dT%H:%M:%S.%fZ");

    return json_string_new(text);
}

JsonValue *report_json_reasons(const EligibilityReport *report)
{
    JsonValue *array = json_array_new();

    for (guint i = 0; i < report->reasons->len; i++) {
        const EligibilityReason *reason = g_ptr_array_index(report->reasons, i);
        JsonValue *item = json_object_new();
        json_object_set_string(item, "code", reason->code);
        if (reason->mountpoint) {
            json_object_set_string(item, "mountpoint", reason->mountpoint);
        }
        json_object_set_string(item, "message", reason->message);
        json_array_append(array, item);
    }
    return array;
}

JsonValue *report_json_excluded(const EligibilityReport *report)
{
    JsonValue *array = json_array_new();

    for (guint i = 0; i < report->mounts->len; i++) {
        const MountReport *mount = g_ptr_array_index(report->mounts, i);
        JsonValue *item;
        if (mount->verdict != MOUNT_VERDICT_EXCLUDE_AND_REPORT &&
            !(mount->verdict == MOUNT_VERDICT_SKIP && mount->klass == MOUNT_CLASS_EXCLUDED)) {
            continue;
        }
        item = json_object_new();
        json_object_set_string(item, "mountpoint", mount->mount->mountpoint);
        json_object_set_string(item, "type", mount->mount->fstype);
        json_object_set_string(item, "class", mount_class_to_string(mount->klass));
        json_object_set_string(item, "reason", mount->reason);
        json_array_append(array, item);
    }
    return array;
}

static JsonValue *report_json_mount(const MountReport *mount)
{
    const InventoryMount *m = mount->mount;
    JsonValue *item = json_object_new();

    json_object_set_string(item, "mountpoint", m->mountpoint);
    json_object_set(item, "aliases", report_json_strings(m->aliases));
    json_object_set_string(item, "source", m->source);
    json_object_set_string(item, "type", m->fstype);
    if (m->device_name) {
        json_object_set_string(item, "device", m->device_name);
    }
    json_object_set_string(item, "class", mount_class_to_string(mount->klass));
    json_object_set_string(item, "verdict", mount_verdict_to_string(mount->verdict));
    json_object_set_string(item, "reason", mount->reason);
    if (mount->reason_code) {
        json_object_set_string(item, "reason-code", mount->reason_code);
    }
    return item;
}

JsonValue *report_json_eligibility(const EligibilityReport *report)
{
    JsonValue *object = json_object_new();
    JsonValue *mounts = json_array_new();
    JsonValue *order = json_array_new();

    for (guint i = 0; i < report->mounts->len; i++) {
        json_array_append(mounts, report_json_mount(g_ptr_array_index(report->mounts, i)));
    }
    for (guint i = 0; i < report->targets->len; i++) {
        const FreezeTarget *target = g_ptr_array_index(report->targets, i);
        json_array_append(order, json_string_new(target->mountpoint));
    }
    json_object_set_string(object, "method", snapshot_method_to_string(report->method));
    json_object_set(object, "reasons", report_json_reasons(report));
    json_object_set_string(object, "running-state",
                           report->system_state ? report->system_state : "no-systemd");
    json_object_set_bool(object, "strict", report->strict);
    json_object_set_bool(object, "allow-dynamic", report->allow_dynamic);
    if (report->confine) {
        json_object_set_string(object, "confine", report->confine);
    }
    json_object_set(object, "mounts", mounts);
    json_object_set(object, "freeze-order", order);
    return object;
}
