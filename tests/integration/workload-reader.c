/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * workload-reader.c — see workload-reader.h.
 */
#include "tests/integration/workload-reader.h"

#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

void workload_read(Workload *workload, guint ms)
{
    if (!workload->pending) {
        workload->pending = g_string_new(NULL);
    }
    gint64 deadline = g_get_monotonic_time() + (gint64)ms * 1000;
    for (;;) {
        gint64 left_ms = (deadline - g_get_monotonic_time()) / 1000;
        struct pollfd pfd = { .fd = workload->fd, .events = POLLIN };
        if (left_ms <= 0 || poll(&pfd, 1, (int)left_ms) <= 0) {
            return;
        }
        char buf[4096];
        ssize_t n = read(workload->fd, buf, sizeof buf);
        if (n <= 0) {
            return;
        }
        g_string_append_len(workload->pending, buf, n);
        char *nl;
        while ((nl = strchr(workload->pending->str, '\n'))) {
            long long id = 0, real_ns = 0, stall_ns = 0;
            if (sscanf(workload->pending->str, "committed %lld %lld %lld", &id, &real_ns,
                       &stall_ns) == 3) {
                workload->last_id = id;
                workload->max_stall_ns = MAX(workload->max_stall_ns, stall_ns);
                workload->lines++;
            }
            g_string_erase(workload->pending, 0, nl - workload->pending->str + 1);
        }
    }
}

gint64 workload_wait_for(Workload *workload, gint64 id, guint ms)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)ms * 1000;
    while (workload->last_id < id && g_get_monotonic_time() < deadline) {
        workload_read(workload, 20);
    }
    return workload->last_id;
}

void workload_clear(Workload *workload)
{
    if (workload->fd >= 0) {
        close(workload->fd);
        workload->fd = -1;
    }
    if (workload->pending) {
        g_string_free(workload->pending, TRUE);
        workload->pending = NULL;
    }
}
