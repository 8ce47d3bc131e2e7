/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vss-control.c — see the header. Plain read(2)/write(2) on the port: a
 * virtio-serial port reads 0 bytes while the host side is not connected,
 * which stdio would take as a permanent end of file.
 */
#include "tests/vm/hv-vss-cuse/vss-control.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static gboolean vss_control_parse_operation(const char *word, guint8 *operation)
{
    char *end = NULL;
    guint64 value;

    for (guint op = 0; op < 256; op++) {
        if (g_str_equal(word, vss_device_operation_name((guint8)op)) &&
            !g_str_equal(word, "UNKNOWN")) {
            *operation = (guint8)op;
            return TRUE;
        }
    }
    value = g_ascii_strtoull(word, &end, 10);
    if (end == word || *end != '\0' || value > 255) {
        return FALSE;
    }
    *operation = (guint8)value;
    return TRUE;
}

static gboolean vss_control_parse_ms(const char *word, guint *ms)
{
    char *end = NULL;
    guint64 value = g_ascii_strtoull(word, &end, 10);

    if (end == word || *end != '\0' || value > G_MAXUINT / 2) {
        return FALSE;
    }
    *ms = (guint)value;
    return TRUE;
}

static char *vss_control_send(VssDevice *device, char **words)
{
    guint8 operation;
    guint timeout_ms = 0;
    VssAnswer answer;
    g_autofree char *read_ms = NULL;

    if (!words[1] || !vss_control_parse_operation(words[1], &operation) ||
        (words[2] && (!vss_control_parse_ms(words[2], &timeout_ms) || words[3]))) {
        return g_strdup("error usage: send OP [TIMEOUT_MS]");
    }
    if (operation == VSS_DEVICE_OP_REGISTER || operation == VSS_DEVICE_OP_REGISTER1) {
        return g_strdup("error a host never sends a registration");
    }
    vss_device_transact(device, operation, timeout_ms, &answer);
    read_ms = answer.read_us < 0 ? g_strdup("-1")
                                 : g_strdup_printf("%.3f", (double)answer.read_us / 1000.0);
    return g_strdup_printf("reply %s %08x %s %s %.3f", vss_device_operation_name(operation),
                           answer.status, vss_answer_by_name(answer.by), read_ms,
                           (double)answer.answer_us / 1000.0);
}

char *vss_control_answer(VssDevice *device, const char *line)
{
    g_auto(GStrv) words = g_strsplit(line, " ", 5);
    guint timeout_ms;

    if (!words[0]) {
        return g_strdup("error unknown-command");
    }
    if (g_str_equal(words[0], "send")) {
        return vss_control_send(device, words);
    }
    if (g_str_equal(words[0], "wait-registered")) {
        if (!words[1] || !vss_control_parse_ms(words[1], &timeout_ms) || words[2]) {
            return g_strdup("error usage: wait-registered TIMEOUT_MS");
        }
        return g_strdup(vss_device_wait_registered(device, timeout_ms) ? "registered"
                                                                       : "error not-registered");
    }
    if (g_str_equal(words[0], "status") && !words[1]) {
        g_autofree char *state = vss_device_describe(device);
        return g_strdup_printf("status %s", state);
    }
    return g_strdup("error unknown-command");
}

static void vss_control_write_line(int fd, const char *text)
{
    g_autofree char *line = g_strdup_printf("%s\n", text);
    gsize done = 0, len = strlen(line);

    while (done < len) {
        ssize_t n = write(fd, line + done, len - done);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            fprintf(stderr, "hv-vss-cuse: control: write: %s\n", g_strerror(errno));
            return;
        }
        done += (gsize)n;
    }
}

/* Answers every complete line in buf and keeps the rest. A line longer
 * than the limit gets one error answer and is skipped up to its newline
 * (*skipping). */
static void vss_control_take(VssDevice *device, int fd, GString *buf, gboolean *skipping)
{
    char *newline;

    while ((newline = memchr(buf->str, '\n', buf->len))) {
        gsize len = (gsize)(newline - buf->str);
        g_autofree char *line = g_strndup(buf->str, len);
        g_autofree char *answer = NULL;

        g_string_erase(buf, 0, (gssize)len + 1);
        if (*skipping) {
            *skipping = FALSE;
            continue;
        }
        g_strchomp(line);
        answer = len > VSS_CONTROL_LINE_MAX ? g_strdup("error line-too-long")
                                            : vss_control_answer(device, line);
        vss_control_write_line(fd, answer);
    }
    if (buf->len > VSS_CONTROL_LINE_MAX) {
        g_string_truncate(buf, 0);
        if (!*skipping) {
            *skipping = TRUE;
            vss_control_write_line(fd, "error line-too-long");
        }
    }
}

void vss_control_serve(VssDevice *device, const char *path)
{
    g_autoptr(GString) buf = g_string_new(NULL);
    gboolean skipping = FALSE;
    char chunk[256];
    int fd = open(path, O_RDWR | O_CLOEXEC | O_NOCTTY);

    if (fd < 0) {
        fprintf(stderr, "hv-vss-cuse: control port %s: %s\n", path, g_strerror(errno));
        exit(1);
    }
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof(chunk));

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            g_usleep(100 * 1000); /* the host is not connected */
            continue;
        }
        g_string_append_len(buf, chunk, n);
        vss_control_take(device, fd, buf, &skipping);
    }
}
