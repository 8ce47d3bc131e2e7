/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * workload-reader.h — reads what a database workload process reports on its
 * stdout, one "committed ID REALTIME_NS STALL_NS" line per acknowledged
 * commit (examples/sqlite-writer/sqlite-workload.c,
 * db-writers/mariadb/mariadb-workload.c), so a writer's test can tell what
 * was committed before a freeze and how long a commit waited.
 */
#ifndef QUIESCE_TESTS_WORKLOAD_READER_H
#define QUIESCE_TESTS_WORKLOAD_READER_H

#include <glib.h>

typedef struct {
    int fd;              /* the workload's stdout */
    GString *pending;    /* partial line */
    gint64 last_id;      /* last id reported committed */
    gint64 max_stall_ns; /* longest single transaction seen */
    guint lines;
} Workload;

/* Reads the workload's reports for @ms milliseconds. */
void workload_read(Workload *workload, guint ms);

/* Reads until the last id reaches @id or @ms pass; returns the last id. */
gint64 workload_wait_for(Workload *workload, gint64 id, guint ms);

/* Closes the fd and frees the buffer. */
void workload_clear(Workload *workload);

#endif
