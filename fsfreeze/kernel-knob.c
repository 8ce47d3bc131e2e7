/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * kernel-knob.c — a kernel setting changed for a freeze's span and put
 * back; see the header. The record is "old=VALUE\nboot=BOOT_ID\n".
 */
#include "fsfreeze/kernel-knob.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "common/quiesce-error.h"

#define KNOB_MAX 32

/* The knob's value, trimmed ("0", "-20"); NULL with @error. */
static char *knob_read(const char *knob, GError **error)
{
    g_autofree char *text = NULL;
    gsize len = 0;
    g_autoptr(GError) local = NULL;

    if (!g_file_get_contents(knob, &text, &len, &local)) {
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED, "cannot read %s: %s", knob,
                    local->message);
        return NULL;
    }
    if (len == 0 || len > KNOB_MAX || strlen(text) != len) {
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED, "%s holds no number", knob);
        return NULL;
    }
    return g_strstrip(g_steal_pointer(&text));
}

/* One write(2) of @value, as `echo 1 > knob` does (O_TRUNC too, so a
 * test's plain file reads the same): sysfs takes a store in one call,
 * never a temp file and a rename. */
static gboolean knob_write(const char *knob, const char *value, GError **error)
{
    int fd = open(knob, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOCTTY);
    gssize n;
    int saved;

    if (fd < 0) {
        saved = errno;
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED, "cannot open %s: %s", knob,
                    g_strerror(saved));
        return FALSE;
    }
    do {
        n = write(fd, value, strlen(value));
    } while (n < 0 && errno == EINTR);
    saved = errno;
    close(fd);
    if (n != (gssize)strlen(value)) {
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED, "cannot write %s to %s: %s", value,
                    knob, n < 0 ? g_strerror(saved) : "short write");
        return FALSE;
    }
    return TRUE;
}

/* This boot's id, or "" when the kernel does not say. */
static char *boot_id(void)
{
    g_autofree char *text = NULL;

    if (!g_file_get_contents(KERNEL_KNOB_BOOT_ID, &text, NULL, NULL)) {
        return g_strdup("");
    }
    return g_strstrip(g_steal_pointer(&text));
}

/* Whether @value is a plain integer, as the knobs hold. */
static gboolean is_number(const char *value)
{
    const char *c = value + (*value == '-');

    if (!*c || strlen(value) > KNOB_MAX) {
        return FALSE;
    }
    for (; *c; c++) {
        if (!g_ascii_isdigit(*c)) {
            return FALSE;
        }
    }
    return TRUE;
}

gboolean kernel_knob_set(KernelKnob *self, const char *knob, const char *value,
                         const char *only_from, const char *record, gboolean *set, GError **error)
{
    g_autofree char *old = NULL;
    g_autofree char *boot = NULL;
    g_autofree char *text = NULL;
    g_autoptr(GError) local = NULL;

    memset(self, 0, sizeof(*self));
    *set = FALSE;
    if (!(old = knob_read(knob, error))) {
        return FALSE;
    }
    if (only_from ? !g_str_equal(old, only_from) : g_str_equal(old, value)) {
        return TRUE; /* already set (or a value not ours to change) */
    }
    if (!is_number(old)) {
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED, "%s holds no number", knob);
        return FALSE;
    }
    if (record) {
        boot = boot_id();
        text = g_strdup_printf("old=%s\nboot=%s\n", old, boot);
        if (!g_file_set_contents(record, text, -1, &local)) {
            g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED,
                        "cannot write the record %s: %s", record, local->message);
            return FALSE;
        }
    }
    if (!knob_write(knob, value, error)) {
        if (record) {
            unlink(record);
        }
        return FALSE;
    }
    self->knob = g_strdup(knob);
    self->old = g_steal_pointer(&old);
    self->record = g_strdup(record);
    *set = TRUE;
    return TRUE;
}

gboolean kernel_knob_put_back(KernelKnob *self, GError **error)
{
    gboolean ok;

    if (!self->knob) {
        return TRUE;
    }
    /* On failure the record stays: the next start tries again. */
    ok = knob_write(self->knob, self->old, error);
    if (ok && self->record) {
        unlink(self->record);
    }
    g_clear_pointer(&self->knob, g_free);
    g_clear_pointer(&self->old, g_free);
    g_clear_pointer(&self->record, g_free);
    return ok;
}

gint64 kernel_dirty_kib(const char *meminfo)
{
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;
    gint64 dirty = -1;
    gint64 writeback = -1;

    if (!g_file_get_contents(meminfo, &text, NULL, NULL)) {
        return -1;
    }
    lines = g_strsplit(text, "\n", 0);
    for (char **line = lines; *line; line++) {
        gint64 *field = g_str_has_prefix(*line, "Dirty:")       ? &dirty
                        : g_str_has_prefix(*line, "Writeback:") ? &writeback
                                                                : NULL;
        char *end = NULL;
        guint64 kib;

        if (!field) {
            continue;
        }
        kib = g_ascii_strtoull(strchr(*line, ':') + 1, &end, 10);
        if (end && end != strchr(*line, ':') + 1 && kib < G_MAXINT32) {
            *field = (gint64)kib;
        }
    }
    return dirty < 0 || writeback < 0 ? -1 : dirty + writeback;
}

gboolean kernel_knob_recover(const char *knob, const char *value, const char *only_from,
                             const char *record, char **restored, GError **error)
{
    g_autofree char *text = NULL;
    g_autofree char *boot = NULL;
    g_autofree char *now = NULL;
    g_auto(GStrv) lines = NULL;
    const char *old = NULL;
    const char *then = NULL;
    gsize len = 0;

    *restored = NULL;
    if (!g_file_test(record, G_FILE_TEST_EXISTS)) {
        return TRUE;
    }
    if (g_file_get_contents(record, &text, &len, NULL) && len <= 256 && strlen(text) == len) {
        lines = g_strsplit(text, "\n", 0);
        for (char **line = lines; *line; line++) {
            if (g_str_has_prefix(*line, "old=")) {
                old = *line + 4;
            } else if (g_str_has_prefix(*line, "boot=")) {
                then = *line + 5;
            }
        }
    }
    boot = boot_id();
    /* Only what this agent set, in this boot, and still set. */
    if (old && then && is_number(old) && *then && g_str_equal(then, boot) &&
        (!only_from || g_str_equal(old, only_from)) && (now = knob_read(knob, NULL)) &&
        g_str_equal(now, value) && !g_str_equal(old, value)) {
        if (!knob_write(knob, old, error)) {
            return FALSE;
        }
        *restored = g_strdup(old);
    }
    if (unlink(record) != 0 && errno != ENOENT) {
        int saved = errno;
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED, "cannot remove %s: %s", record,
                    g_strerror(saved));
        return FALSE;
    }
    return TRUE;
}
