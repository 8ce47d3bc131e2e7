/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * virt-run.c — several libvirt domains backed up at once (-j N), each in a
 * thread of its own with its own libvirt connection, so one domain's failure
 * or hang touches no other; the shared output (lines for people, the copy's
 * progress on a terminal); the reports (text, JSON, key=value file) and the
 * exit status that tells child snapshot, saved state and failure apart.
 */
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "protocol/json-writer.h"
#include "common/protocol-glib.h"
#include "host/virt-backup.h"

struct VirtOutput {
    GMutex lock;
    gint64 started;
    gboolean quiet;
    gboolean tty;                /* stdout is a terminal: progress line */
    gboolean progress_shown;     /* the progress line is on screen */
    GHashTable *percent;         /* domain -> int percent, copies running */
    gint64 last_draw;
};

typedef struct {
    const VirtOptions *options;
    VirtOutput *out;
    const char *name;
    Report *report;
    VirtOutcome outcome;
} VirtJob;

static void virt_output_clear_line(VirtOutput *out)
{
    if (out->progress_shown) {
        fputs("\r\033[K", stdout);
        out->progress_shown = FALSE;
    }
}

void virt_output_say(VirtOutput *out, const char *domain, const char *fmt, ...)
{
    g_autofree char *message = NULL;
    va_list ap;

    if (out->quiet) {
        return;
    }
    va_start(ap, fmt);
    message = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_mutex_lock(&out->lock);
    virt_output_clear_line(out);
    printf("[%7.3f] %s: %s\n", (double)(g_get_monotonic_time() - out->started) / 1e6, domain,
           message);
    fflush(stdout);
    g_mutex_unlock(&out->lock);
}

/* On a terminal, one line redrawn at most 4 times a second: "copy: a 40%
 * b 95%"; elsewhere nothing (the final lines say what was copied). */
void virt_output_progress(VirtOutput *out, const char *domain, guint64 done, guint64 total)
{
    gint64 now = g_get_monotonic_time();
    int percent = total ? (int)(done * 100 / total) : 0;
    GHashTableIter iter;
    gpointer key;
    gpointer value;

    if (out->quiet || !out->tty) {
        return;
    }
    g_mutex_lock(&out->lock);
    if (done >= total && total) {
        g_hash_table_remove(out->percent, domain);
    } else {
        g_hash_table_replace(out->percent, g_strdup(domain), GINT_TO_POINTER(percent));
    }
    if (now - out->last_draw >= 250000 || done >= total) {
        virt_output_clear_line(out);
        if (g_hash_table_size(out->percent) > 0) {
            fputs("copy:", stdout);
            g_hash_table_iter_init(&iter, out->percent);
            while (g_hash_table_iter_next(&iter, &key, &value)) {
                printf(" %s %d%%", (const char *)key, GPOINTER_TO_INT(value));
            }
            out->progress_shown = TRUE;
        }
        fflush(stdout);
        out->last_draw = now;
    }
    g_mutex_unlock(&out->lock);
}

static void virt_job_run(gpointer data, gpointer user_data)
{
    VirtJob *job = data;

    (void)user_data;
    job->outcome = virt_backup_domain(job->options, job->name, job->out, job->report);
    g_mutex_lock(&job->out->lock);
    g_hash_table_remove(job->out->percent, job->name);
    g_mutex_unlock(&job->out->lock);
}

/* libvirt prints every error to stderr by default; ours go in the reports. */
static void virt_silent(void *data, virErrorPtr error)
{
    (void)data;
    (void)error;
}

static const char *virt_outcome_text(VirtOutcome outcome)
{
    switch (outcome) {
    case VIRT_OUTCOME_CHILD_SNAPSHOT:
        return "backup done by child snapshot (application-consistent)";
    case VIRT_OUTCOME_SAVED_STATE:
        return "backup done by saved state (memory + disks, the guest paused)";
    case VIRT_OUTCOME_FAILED:
        return "NO BACKUP";
    }
    return "?";
}

static void virt_print_reports(const VirtOptions *options, VirtJob *jobs, guint n)
{
    g_autoptr(JsonValue) array = json_array_new();
    g_autoptr(GString) file = g_string_new(NULL);
    g_autoptr(GError) error = NULL;

    for (guint i = 0; i < n; i++) {
        if (options->json) {
            json_array_append(array, report_to_json(jobs[i].report));
        } else {
            printf("%s: %s\n", jobs[i].name, virt_outcome_text(jobs[i].outcome));
            report_print(jobs[i].report, stdout);
        }
        report_append_lines(jobs[i].report, jobs[i].name, file);
    }
    if (options->json) {
        g_autofree char *text = json_value_to_pretty(array, NULL);
        printf("%s\n", text);
    }
    fflush(stdout);
    if (options->report_path &&
        !g_file_set_contents(options->report_path, file->str, (gssize)file->len, &error)) {
        fprintf(stderr, "quiesce-backup: %s\n", error->message);
    }
}

int virt_backup_run(const VirtOptions *options, char **domains)
{
    guint n = g_strv_length(domains);
    g_autofree VirtJob *jobs = g_new0(VirtJob, n);
    VirtOutput out = { .started = g_get_monotonic_time(), .quiet = options->quiet || options->json,
                       .tty = isatty(STDOUT_FILENO) };
    GThreadPool *pool;
    g_autoptr(GError) error = NULL;
    int status = VIRT_EXIT_CHILD_SNAPSHOT;

    /* Before any thread: libvirt's global set-up is not thread-safe. */
    if (virInitialize() < 0) {
        fprintf(stderr, "quiesce-backup: virInitialize failed\n");
        return VIRT_EXIT_FAILED;
    }
    virSetErrorFunc(NULL, virt_silent);
    g_mutex_init(&out.lock);
    out.percent = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    pool = g_thread_pool_new(virt_job_run, NULL, MAX(options->jobs, 1), TRUE, &error);
    if (!pool) {
        fprintf(stderr, "quiesce-backup: %s\n", error->message);
        return VIRT_EXIT_FAILED;
    }
    for (guint i = 0; i < n; i++) {
        jobs[i] = (VirtJob){ .options = options, .out = &out, .name = domains[i],
                             .report = report_new() };
        g_thread_pool_push(pool, &jobs[i], NULL);
    }
    g_thread_pool_free(pool, FALSE, TRUE);
    virt_output_clear_line(&out);
    virt_print_reports(options, jobs, n);
    for (guint i = 0; i < n; i++) {
        if (jobs[i].outcome == VIRT_OUTCOME_FAILED) {
            status = VIRT_EXIT_FAILED;
        } else if (jobs[i].outcome == VIRT_OUTCOME_SAVED_STATE && status == VIRT_EXIT_CHILD_SNAPSHOT) {
            status = VIRT_EXIT_SAVED_STATE;
        }
        report_free(jobs[i].report);
    }
    g_hash_table_unref(out.percent);
    g_mutex_clear(&out.lock);
    return status;
}
