/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * freeze-parallel.c — syncfs/FIFREEZE/FITHAW over many fds in worker
 * threads, level by level, with a deadline; see the header for the
 * guarantees. One Batch per run, shared by the caller and its workers and
 * freed by whoever lets go last, so a worker the caller gave up on still
 * has its fd and knows it must undo a late freeze.
 *
 * The workers are threads kept between runs (the pool below): a freeze
 * runs a pre-sync and a level or more, each wanting up to
 * FS_PARALLEL_MAX_THREADS threads at once, and starting a thread for each
 * cost more than the work itself when the ioctls are quick. A thread waits
 * FS_PARALLEL_IDLE_US for work, then exits. A task goes to an idle thread
 * or to a new one, never waits for a busy one: a worker stuck in a hung
 * FIFREEZE holds up nothing but its own batch.
 */
#include "fsfreeze/freeze-parallel.h"

#include "common/wait-pump.h"
#include "fsfreeze/thread-nice.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

typedef struct {
    int fd;          /* a dup owned by the batch, or the caller's (THAW) */
    int result;
    gint64 took_us;
    gboolean started;
    gboolean finished;
} FsParallelJob;

typedef struct {
    gint ref_count; /* atomic */
    GMutex lock;
    GCond changed;  /* a job finished */
    FsParallelOp op;
    FsFreezeOps ops;
    gboolean owns_fds;
    gboolean flush_priority; /* jobs run at FS_PARALLEL_FLUSH_NICE */
    FsParallelJob *jobs;
    guint n_jobs;
    /* Under lock: */
    guint next;         /* next job of the current level to start */
    guint end;          /* end of the current level */
    guint running;      /* started, not finished */
    gboolean stop;      /* start nothing more */
    gboolean abandoned; /* the caller is gone: undo late freezes */
    guint workers;      /* tasks handed out and not yet done with the batch */
} FsParallelBatch;

/* The threads kept between runs; static, so zeroed (GLib's GMutex and GCond
 * need no init then). Under lock: */
static struct {
    GMutex lock;
    GCond work;   /* a task was queued */
    GQueue tasks; /* FsParallelBatch *, each with a ref of its own */
    guint idle;   /* threads waiting for a task */
} pool;

static void batch_unref(FsParallelBatch *batch)
{
    if (!g_atomic_int_dec_and_test(&batch->ref_count)) {
        return;
    }
    for (guint i = 0; batch->owns_fds && i < batch->n_jobs; i++) {
        if (batch->jobs[i].fd >= 0) {
            close(batch->jobs[i].fd);
        }
    }
    g_free(batch->jobs);
    g_mutex_clear(&batch->lock);
    g_cond_clear(&batch->changed);
    g_free(batch);
}

static int batch_call(const FsParallelBatch *batch, int fd)
{
    switch (batch->op) {
    case FS_PARALLEL_SYNC:
        if (batch->ops.sync) {
            return batch->ops.sync(fd, batch->ops.user_data);
        }
        return syncfs(fd) == 0 ? 0 : errno;
    case FS_PARALLEL_FREEZE:
        return batch->ops.freeze(fd, batch->ops.user_data);
    case FS_PARALLEL_THAW:
        return batch->ops.thaw(fd, batch->ops.user_data);
    }
    g_assert_not_reached();
}

/*
 * batch_call() at FS_PARALLEL_FLUSH_NICE when the batch asks for it
 * (thread-nice.h): the worker's own nice only, put back before the thread
 * does anything else. Without the right to raise it the job runs at the
 * thread's nice.
 */
static int batch_call_at_priority(const FsParallelBatch *batch, int fd)
{
    ThreadNice nice = {0};
    int result;

    if (batch->flush_priority) {
        thread_nice_raise(&nice, FS_PARALLEL_FLUSH_NICE);
    }
    result = batch_call(batch, fd);
    thread_nice_restore(&nice);
    return result;
}

/* Takes jobs of the current level until none is left or the batch stops. */
static void batch_work(FsParallelBatch *batch)
{
    g_mutex_lock(&batch->lock);
    while (!batch->stop && batch->next < batch->end) {
        FsParallelJob *job = &batch->jobs[batch->next++];
        gint64 start;
        int err;

        job->started = TRUE;
        batch->running++;
        g_mutex_unlock(&batch->lock);
        start = g_get_monotonic_time();
        err = job->fd >= 0 ? batch_call_at_priority(batch, job->fd) : EBADF;
        g_mutex_lock(&batch->lock);
        job->result = err;
        job->took_us = g_get_monotonic_time() - start;
        job->finished = TRUE;
        batch->running--;
        if (err != 0 && batch->op == FS_PARALLEL_FREEZE) {
            batch->stop = TRUE;
        }
        if (batch->abandoned && err == 0 && batch->op == FS_PARALLEL_FREEZE) {
            /* The caller reported this one as not frozen: make it true. */
            g_mutex_unlock(&batch->lock);
            batch->ops.thaw(job->fd, batch->ops.user_data);
            g_mutex_lock(&batch->lock);
        }
        g_cond_broadcast(&batch->changed);
    }
    g_mutex_unlock(&batch->lock);
}

/* A worker is done with the batch: tells the caller, drops its ref. */
static void batch_release(FsParallelBatch *batch)
{
    g_mutex_lock(&batch->lock);
    batch->workers--;
    g_cond_broadcast(&batch->changed);
    g_mutex_unlock(&batch->lock);
    batch_unref(batch);
}

/*
 * A pool thread: runs queued tasks; exits after FS_PARALLEL_IDLE_US without
 * one. It counts as idle (pool.idle) whenever it is not working on jobs,
 * from before it lets go of a batch: a caller that saw its workers let go
 * and queues the next level finds them idle, rather than starting threads.
 */
static gpointer pool_thread(gpointer data)
{
    (void)data;
    g_mutex_lock(&pool.lock);
    for (;;) {
        FsParallelBatch *batch = g_queue_pop_head(&pool.tasks);

        if (batch) {
            pool.idle--;
            g_mutex_unlock(&pool.lock);
            batch_work(batch);
            g_mutex_lock(&pool.lock);
            pool.idle++;
            g_mutex_unlock(&pool.lock);
            batch_release(batch);
            g_mutex_lock(&pool.lock);
            continue;
        }
        gint64 until = g_get_monotonic_time() + FS_PARALLEL_IDLE_US;
        gboolean woken = TRUE;
        while (woken && g_queue_is_empty(&pool.tasks)) {
            woken = g_cond_wait_until(&pool.work, &pool.lock, until);
        }
        if (g_queue_is_empty(&pool.tasks)) {
            pool.idle--;
            break; /* idle too long */
        }
    }
    g_mutex_unlock(&pool.lock);
    return NULL;
}

/* Hands batch (with a ref for the task) to an idle pool thread, or to a new
 * one. FALSE, with the ref dropped again, when no thread can be had. */
static gboolean pool_push(FsParallelBatch *batch)
{
    GThread *thread;
    gboolean taken;

    g_atomic_int_inc(&batch->ref_count);
    g_mutex_lock(&batch->lock);
    batch->workers++;
    g_mutex_unlock(&batch->lock);
    g_mutex_lock(&pool.lock);
    /* An idle thread not yet claimed by a queued task takes it; a new
     * thread counts as idle until it takes its first. */
    if (pool.idle > pool.tasks.length) {
        g_queue_push_tail(&pool.tasks, batch);
        g_cond_signal(&pool.work);
        g_mutex_unlock(&pool.lock);
        return TRUE;
    }
    g_queue_push_tail(&pool.tasks, batch);
    pool.idle++;
    g_mutex_unlock(&pool.lock);
    thread = g_thread_try_new("fsfreeze", pool_thread, NULL, NULL);
    if (thread) {
        g_thread_unref(thread); /* detached: it may outlive the run */
        return TRUE;
    }
    g_mutex_lock(&pool.lock);
    pool.idle--;
    /* Unless a thread that came free meanwhile took it. */
    taken = !g_queue_remove(&pool.tasks, batch);
    g_mutex_unlock(&pool.lock);
    if (taken) {
        return TRUE;
    }
    g_mutex_lock(&batch->lock);
    batch->workers--;
    g_mutex_unlock(&batch->lock);
    g_atomic_int_add(&batch->ref_count, -1); /* the caller still holds one */
    return FALSE;
}

/* Takes back the batch's tasks that no pool thread has picked up yet.
 * Once every job is done (the caller's share of a thaw may be all of
 * them), the run need not wait for a thread that is slow to wake only to
 * have it let go of the batch: under load that wait was longer than the
 * FITHAW calls. Neither lock may be held. */
static void batch_retract(FsParallelBatch *batch)
{
    guint taken = 0;

    g_mutex_lock(&pool.lock);
    while (g_queue_remove(&pool.tasks, batch)) {
        taken++;
    }
    g_mutex_unlock(&pool.lock);
    if (taken == 0) {
        return;
    }
    g_mutex_lock(&batch->lock);
    batch->workers -= taken;
    g_mutex_unlock(&batch->lock);
    g_atomic_int_add(&batch->ref_count, -(gint)taken); /* the caller still holds one */
}

static FsParallelBatch *batch_new(FsParallelOp op, const FsParallelItem *items, guint n_items,
                                  const FsFreezeOps *ops, gboolean flush_priority)
{
    FsParallelBatch *batch = g_new0(FsParallelBatch, 1);

    batch->ref_count = 1;
    g_mutex_init(&batch->lock);
    g_cond_init(&batch->changed);
    batch->op = op;
    batch->ops = ops ? *ops : *fs_freeze_ops_default();
    /* A thaw is never given up, so the caller's fds outlive it. */
    batch->owns_fds = op != FS_PARALLEL_THAW;
    batch->flush_priority = flush_priority && op != FS_PARALLEL_THAW;
    batch->n_jobs = n_items;
    batch->jobs = g_new0(FsParallelJob, n_items);
    for (guint i = 0; i < n_items; i++) {
        /* A failed dup (no fds left) fails that job with EBADF. */
        batch->jobs[i].fd = batch->owns_fds ? fcntl(items[i].fd, F_DUPFD_CLOEXEC, 3)
                                            : items[i].fd;
    }
    return batch;
}

/*
 * Starts up to FS_PARALLEL_MAX_THREADS workers on jobs [lo, hi). A THAW has
 * no deadline for the caller to keep, so the caller is one of its workers:
 * one thread fewer to start (none for a single filesystem) before the
 * first FITHAW. Ops that never block (FsFreezeOps.in_caller) are all run
 * by the caller.
 */
static void batch_start_level(FsParallelBatch *batch, guint lo, guint hi)
{
    gboolean in_caller = batch->ops.in_caller;
    gboolean caller_works = in_caller || batch->op == FS_PARALLEL_THAW;
    guint threads = in_caller ? 0 : MIN(hi - lo, FS_PARALLEL_MAX_THREADS) - (caller_works ? 1 : 0);
    guint started = 0;

    g_mutex_lock(&batch->lock);
    batch->next = lo;
    batch->end = hi;
    g_mutex_unlock(&batch->lock);
    for (guint t = 0; t < threads && pool_push(batch); t++) {
        started++;
    }
    if (started == 0 || caller_works) {
        /* No thread to be had (the level is done here, one job after
         * another), or the caller's share of a thaw. */
        g_atomic_int_inc(&batch->ref_count);
        g_mutex_lock(&batch->lock);
        batch->workers++;
        g_mutex_unlock(&batch->lock);
        batch_work(batch);
        batch_release(batch);
    }
}

/*
 * Waits (lock held) until the level is done or given up. Past @deadline
 * nothing new starts; past @give_up the batch is abandoned. Returns FALSE
 * when it was.
 */
static gboolean batch_wait_level(FsParallelBatch *batch, gint64 deadline, gint64 give_up)
{
    gboolean pumping = wait_pump_active();

    while (batch->running > 0 || (!batch->stop && batch->next < batch->end)) {
        if (deadline == 0 && !pumping) {
            g_cond_wait(&batch->changed, &batch->lock);
            continue;
        }
        gint64 limit = deadline == 0 ? 0 : batch->stop ? give_up : deadline;
        gint64 slice = g_get_monotonic_time() + WAIT_PUMP_SLICE_MS * 1000;
        gint64 until = limit == 0 ? slice : pumping ? MIN(limit, slice) : limit;
        if (g_cond_wait_until(&batch->changed, &batch->lock, until)) {
            continue;
        }
        if (limit != 0 && g_get_monotonic_time() >= limit) {
            batch->stop = TRUE;
            if (limit == give_up) {
                batch->abandoned = TRUE;
                return FALSE;
            }
        } else if (pumping) {
            /* The workers only take the lock to report: they go on. */
            g_mutex_unlock(&batch->lock);
            wait_pump_run();
            g_mutex_lock(&batch->lock);
        }
    }
    return TRUE;
}

/* [lo, hi) of the @k-th level in run order; FALSE when there is none. */
static gboolean level_range(FsParallelOp op, const FsParallelItem *items, guint n_items,
                            guint k, guint *lo, guint *hi)
{
    guint levels = 0;
    guint start = 0;
    guint n_levels = 0;

    if (op == FS_PARALLEL_SYNC) {
        *lo = 0;
        *hi = n_items;
        return k == 0 && n_items > 0;
    }
    for (guint i = 0; i < n_items; i++) {
        n_levels += i == 0 || items[i].level != items[i - 1].level;
    }
    if (k >= n_levels) {
        return FALSE;
    }
    /* THAW runs the levels from the highest down. */
    guint want = op == FS_PARALLEL_THAW ? n_levels - 1 - k : k;
    for (guint i = 0; i <= n_items; i++) {
        if (i == n_items || (i > 0 && items[i].level != items[i - 1].level)) {
            if (levels == want) {
                *lo = start;
                *hi = i;
                return TRUE;
            }
            levels++;
            start = i;
        }
    }
    g_assert_not_reached();
}

gboolean fs_parallel_run(FsParallelOp op, FsParallelItem *items, guint n_items,
                         const FsFreezeOps *ops, gint64 deadline, gboolean flush_priority)
{
    FsParallelBatch *batch;
    gboolean ok = TRUE;
    guint lo, hi;

    for (guint i = 1; i < n_items; i++) {
        g_return_val_if_fail(items[i].level >= items[i - 1].level, FALSE);
    }
    if (op == FS_PARALLEL_THAW) {
        deadline = 0;
    }
    batch = batch_new(op, items, n_items, ops, flush_priority);
    g_mutex_lock(&batch->lock);
    for (guint k = 0; level_range(op, items, n_items, k, &lo, &hi); k++) {
        if (batch->stop || (deadline != 0 && g_get_monotonic_time() >= deadline)) {
            break;
        }
        g_mutex_unlock(&batch->lock);
        batch_start_level(batch, lo, hi);
        g_mutex_lock(&batch->lock);
        gint64 give_up = op == FS_PARALLEL_FREEZE ? deadline + FS_PARALLEL_LATE_GRACE_US
                                                  : deadline;
        if (!batch_wait_level(batch, deadline, give_up)) {
            break;
        }
    }
    /* Its workers are done with their jobs; let them let go of the batch
     * too, so that a run not given up leaves nothing behind. */
    g_mutex_unlock(&batch->lock);
    batch_retract(batch);
    g_mutex_lock(&batch->lock);
    while (batch->workers > 0 && !batch->abandoned) {
        g_cond_wait(&batch->changed, &batch->lock);
    }
    for (guint i = 0; i < n_items; i++) {
        const FsParallelJob *job = &batch->jobs[i];
        items[i].result = job->finished  ? job->result
                          : job->started ? FS_PARALLEL_LATE
                                         : FS_PARALLEL_NOT_RUN;
        items[i].took_us = job->finished ? job->took_us : 0;
        ok &= items[i].result == 0;
    }
    g_mutex_unlock(&batch->lock);
    batch_unref(batch);
    return ok;
}
