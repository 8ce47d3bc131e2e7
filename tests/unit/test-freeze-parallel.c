/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-freeze-parallel.c — fsfreeze/freeze-parallel.c through the
 * FsFreezeOps seam: many targets in random levels with random failures and
 * delays, and the invariants that must hold whatever the interleaving:
 * what is reported frozen is frozen and nothing else is; no level starts
 * before the one below has finished; nothing above a failed level starts;
 * a rollback thaws each frozen one exactly once, highest level first; a
 * FIFREEZE given up at the deadline is thawed by its worker when it
 * returns; with flush priority, SYNC and FREEZE jobs run at
 * FS_PARALLEL_FLUSH_NICE and every thread's nice is put back after. The
 * fds are memfds (the fake ops never reach an ioctl; syncfs on one is
 * harmless), told apart by inode since the run works on dups.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsfreeze/freeze-parallel.h"
#include "tests/support/test-run.h"

#define N_TARGETS 64

typedef struct {
    guint level;
    int fail_freeze; /* errno to answer, 0 = succeed */
    int fail_thaw;
    guint delay_us;
    /* Under Fake.lock: */
    gboolean frozen;
    guint freezes, thaws;
    guint freeze_start, freeze_end; /* sequence stamps, 0 = never */
    guint thaw_start, thaw_end;
} FakeFs;

typedef struct {
    GMutex lock;
    GCond cond;
    GHashTable *by_ino; /* ino → FakeFs* */
    FakeFs fs[N_TARGETS];
    guint seq;
    int hang_index;     /* this one's FIFREEZE blocks until released; -1 = none */
    gboolean released;
    GThread *only_thread; /* non-NULL: every call must come from this thread */
} Fake;

static FakeFs *fake_find(Fake *fake, int fd)
{
    struct stat st;

    g_assert_cmpint(fstat(fd, &st), ==, 0);
    FakeFs *fs = g_hash_table_lookup(fake->by_ino, GSIZE_TO_POINTER((gsize)st.st_ino));
    g_assert_nonnull(fs);
    return fs;
}

/*
 * What a fake FIFREEZE or FITHAW of fs takes: stamps *start, waits while fs
 * is the one told to hang (freeze only), sleeps delay_us outside the lock
 * so others run meanwhile, stamps *end and counts the call in *calls.
 * Returns with fake->lock held.
 */
static void fake_call(Fake *fake, FakeFs *fs, guint *start, guint *end, guint *calls,
                      gulong delay_us, gboolean may_hang)
{
    g_mutex_lock(&fake->lock);
    g_assert_true(!fake->only_thread || fake->only_thread == g_thread_self());
    *start = ++fake->seq;
    while (may_hang && fake->hang_index >= 0 && fs == &fake->fs[fake->hang_index] &&
           !fake->released) {
        g_cond_wait(&fake->cond, &fake->lock);
    }
    g_mutex_unlock(&fake->lock);
    g_usleep(delay_us);
    g_mutex_lock(&fake->lock);
    *end = ++fake->seq;
    (*calls)++;
}

static int fake_freeze(int fd, gpointer user_data)
{
    Fake *fake = user_data;
    FakeFs *fs = fake_find(fake, fd);
    int err;

    fake_call(fake, fs, &fs->freeze_start, &fs->freeze_end, &fs->freezes, fs->delay_us, TRUE);
    err = fs->fail_freeze;
    if (err == 0) {
        g_assert_false(fs->frozen); /* EBUSY for real: never frozen twice */
        fs->frozen = TRUE;
    }
    g_cond_broadcast(&fake->cond);
    g_mutex_unlock(&fake->lock);
    return err;
}

static int fake_thaw(int fd, gpointer user_data)
{
    Fake *fake = user_data;
    FakeFs *fs = fake_find(fake, fd);
    int err;

    fake_call(fake, fs, &fs->thaw_start, &fs->thaw_end, &fs->thaws, fs->delay_us / 2, FALSE);
    err = fs->fail_thaw ? fs->fail_thaw : fs->frozen ? 0 : EINVAL;
    if (err == 0) {
        fs->frozen = FALSE;
    }
    g_cond_broadcast(&fake->cond);
    g_mutex_unlock(&fake->lock);
    return err;
}

static void fake_init(Fake *fake, int *fds, FsParallelItem *items)
{
    memset(fake, 0, sizeof(*fake));
    g_mutex_init(&fake->lock);
    g_cond_init(&fake->cond);
    fake->by_ino = g_hash_table_new(g_direct_hash, g_direct_equal);
    fake->hang_index = -1;
    for (guint i = 0; i < N_TARGETS; i++) {
        struct stat st;
        g_assert_cmpint(fstat(fds[i], &st), ==, 0);
        g_hash_table_insert(fake->by_ino, GSIZE_TO_POINTER((gsize)st.st_ino), &fake->fs[i]);
        items[i] = (FsParallelItem){ .fd = fds[i] };
    }
}

static void fake_clear(Fake *fake)
{
    g_hash_table_unref(fake->by_ino);
    g_mutex_clear(&fake->lock);
    g_cond_clear(&fake->cond);
}

static int *open_fds(void)
{
    int *fds = g_new(int, N_TARGETS);
    for (guint i = 0; i < N_TARGETS; i++) {
        fds[i] = memfd_create("freeze-parallel-test", MFD_CLOEXEC);
        g_assert_cmpint(fds[i], >=, 0);
    }
    return fds;
}

static void close_fds(int *fds)
{
    for (guint i = 0; i < N_TARGETS; i++) {
        close(fds[i]);
    }
    g_free(fds);
}

/* One run's world: N_TARGETS memfds, the fakes behind them, the items
 * (each on its fd, level 0) and the ops that reach the fakes. */
typedef struct {
    int *fds;
    Fake fake;
    FsParallelItem items[N_TARGETS];
    FsFreezeOps ops;
} Rig;

static void rig_init(Rig *rig)
{
    rig->fds = open_fds();
    rig->ops = (FsFreezeOps){ .freeze = fake_freeze, .thaw = fake_thaw, .user_data = &rig->fake };
    fake_init(&rig->fake, rig->fds, rig->items);
}

static void rig_clear(Rig *rig)
{
    fake_clear(&rig->fake);
    close_fds(rig->fds);
}

/* Everything a finished FREEZE run must satisfy. Returns how many froze. */
static guint check_freeze(Fake *fake, const FsParallelItem *items, gboolean ok)
{
    guint frozen = 0;
    gint failed_level = -1;

    for (guint i = 0; i < N_TARGETS; i++) {
        const FakeFs *fs = &fake->fs[i];
        g_assert_cmpint(fs->freezes, <=, 1);
        /* Reported frozen exactly when it is. */
        g_assert_cmpint(items[i].result == 0, ==, fs->frozen);
        if (items[i].result == FS_PARALLEL_NOT_RUN) {
            g_assert_cmpuint(fs->freeze_start, ==, 0);
        } else {
            g_assert_cmpint(items[i].result, ==, fs->fail_freeze);
        }
        if (items[i].result > 0 && (failed_level < 0 || (gint)fs->level < failed_level)) {
            failed_level = (gint)fs->level;
        }
        frozen += fs->frozen;
    }
    g_assert_cmpint(ok, ==, failed_level < 0);
    for (guint i = 0; i < N_TARGETS; i++) {
        const FakeFs *a = &fake->fs[i];
        /* Nothing above a failed level started. */
        if (failed_level >= 0 && (gint)a->level > failed_level) {
            g_assert_cmpuint(a->freeze_start, ==, 0);
        }
        /* A level starts only when the one below has finished. */
        for (guint j = 0; j < N_TARGETS; j++) {
            const FakeFs *b = &fake->fs[j];
            if (a->level < b->level && b->freeze_start) {
                g_assert_cmpuint(a->freeze_end, !=, 0);
                g_assert_cmpuint(a->freeze_end, <, b->freeze_start);
            }
        }
    }
    return frozen;
}

/* Rolls back what froze, as the freezer does; checks exactly-once and order. */
static void rollback_and_check(Fake *fake, const FsParallelItem *items)
{
    FsParallelItem thaw[N_TARGETS];
    guint n = 0;
    guint index[N_TARGETS];

    for (guint i = 0; i < N_TARGETS; i++) {
        if (items[i].result == 0) {
            index[n] = i;
            thaw[n++] = (FsParallelItem){ .fd = items[i].fd, .level = items[i].level };
        }
    }
    gboolean ok = fs_parallel_run(FS_PARALLEL_THAW, thaw, n,
                                  &(FsFreezeOps){.freeze = fake_freeze,
                                                 .thaw = fake_thaw,
                                                 .user_data = fake,
                                                 .in_caller = fake->only_thread != NULL},
                                  0, FALSE);
    gboolean any_fail = FALSE;
    for (guint k = 0; k < n; k++) {
        const FakeFs *fs = &fake->fs[index[k]];
        g_assert_cmpuint(fs->thaws, ==, 1); /* every one, even after a failed one */
        g_assert_cmpint(thaw[k].result, ==, fs->fail_thaw);
        g_assert_cmpint(fs->frozen, ==, fs->fail_thaw != 0);
        any_fail |= fs->fail_thaw != 0;
        for (guint m = 0; m < n; m++) {
            const FakeFs *other = &fake->fs[index[m]];
            if (fs->level > other->level) {
                g_assert_cmpuint(fs->thaw_end, <, other->thaw_start); /* highest first */
            }
        }
    }
    g_assert_cmpint(ok, ==, !any_fail);
    for (guint i = 0; i < N_TARGETS; i++) {
        if (items[i].result != 0) {
            g_assert_cmpuint(fake->fs[i].thaws, ==, 0); /* never thaw what we did not freeze */
        }
    }
}

static void test_random_failures(void)
{
    int *fds = open_fds();
    guint rounds = g_test_slow() ? 200 : 40;

    for (guint round = 0; round < rounds; round++) {
        Fake fake;
        FsParallelItem items[N_TARGETS];
        FsFreezeOps ops = { .freeze = fake_freeze, .thaw = fake_thaw, .user_data = &fake };
        guint levels = (guint)g_test_rand_int_range(1, 5);
        /* A third of the rounds have no failure at all. */
        gdouble fail_rate = round % 3 == 0 ? 0.0 : g_test_rand_double_range(0.0, 0.08);

        fake_init(&fake, fds, items);
        for (guint i = 0; i < N_TARGETS; i++) {
            items[i].level = (guint)g_test_rand_int_range(0, (gint32)levels);
        }
        /* Sorted by level: a counting pass keeps the fd order random enough. */
        FsParallelItem sorted[N_TARGETS];
        guint k = 0;
        for (guint l = 0; l < levels; l++) {
            for (guint i = 0; i < N_TARGETS; i++) {
                if (items[i].level == l) {
                    sorted[k++] = items[i];
                }
            }
        }
        memcpy(items, sorted, sizeof(items));
        for (guint i = 0; i < N_TARGETS; i++) {
            FakeFs *fs = fake_find(&fake, items[i].fd);
            fs->level = items[i].level;
            fs->delay_us = (guint)g_test_rand_int_range(0, 3000);
            fs->fail_freeze = g_test_rand_double() < fail_rate ? (i % 2 ? EIO : EBUSY) : 0;
            fs->fail_thaw = g_test_rand_double() < fail_rate / 2 ? EIO : 0;
        }
        /* The checks index fake->fs by item position: reorder the fakes. */
        FakeFs by_item[N_TARGETS];
        for (guint i = 0; i < N_TARGETS; i++) {
            by_item[i] = *fake_find(&fake, items[i].fd);
        }
        memcpy(fake.fs, by_item, sizeof(by_item));
        g_hash_table_remove_all(fake.by_ino);
        for (guint i = 0; i < N_TARGETS; i++) {
            struct stat st;
            g_assert_cmpint(fstat(items[i].fd, &st), ==, 0);
            g_hash_table_insert(fake.by_ino, GSIZE_TO_POINTER((gsize)st.st_ino), &fake.fs[i]);
        }

        gboolean ok = fs_parallel_run(FS_PARALLEL_FREEZE, items, N_TARGETS, &ops, 0, FALSE);
        guint frozen = check_freeze(&fake, items, ok);
        g_test_message("round %u: %u level(s), %u of %u frozen%s", round, levels, frozen,
                       N_TARGETS, ok ? "" : ", a failure rolled back");
        if (ok) {
            g_assert_cmpuint(frozen, ==, N_TARGETS);
        }
        rollback_and_check(&fake, items);
        fake_clear(&fake);
    }
    close_fds(fds);
}

/* A FIFREEZE that hangs past the deadline is given up; when it returns, its
 * worker thaws it: nothing stays frozen behind the caller's back. */
static void test_late_freeze_is_undone(void)
{
    Rig rig;
    Fake *fake = &rig.fake;
    FsParallelItem *items = rig.items;

    rig_init(&rig);
    fake->hang_index = 5;
    gint64 start = g_get_monotonic_time();
    gint64 deadline = start + 100 * 1000;
    gboolean ok = fs_parallel_run(FS_PARALLEL_FREEZE, items, N_TARGETS, &rig.ops, deadline, FALSE);
    gint64 took = g_get_monotonic_time() - start;
    g_assert_false(ok);
    g_assert_cmpint(items[5].result, ==, FS_PARALLEL_LATE);
    /* Given up at deadline + grace, not hung. */
    g_assert_cmpint(took, <, 100 * 1000 + FS_PARALLEL_LATE_GRACE_US + 1000 * 1000);
    g_assert_cmpint(took, >=, 100 * 1000 + FS_PARALLEL_LATE_GRACE_US);
    for (guint i = 0; i < N_TARGETS; i++) {
        if (i != 5) {
            g_assert_cmpint(items[i].result, ==, 0);
        }
    }
    rollback_and_check(fake, items);

    g_mutex_lock(&fake->lock);
    fake->released = TRUE;
    g_cond_broadcast(&fake->cond);
    while (fake->fs[5].thaws == 0) {
        g_cond_wait(&fake->cond, &fake->lock);
    }
    g_assert_false(fake->fs[5].frozen);
    g_assert_cmpuint(fake->fs[5].freezes, ==, 1);
    g_mutex_unlock(&fake->lock);
    /* The worker may still hold the fake's lock on its way out. */
    g_usleep(50 * 1000);
    rig_clear(&rig);
}

/* The deadline stops new starts: a level above it never begins. */
static void test_deadline_stops_levels(void)
{
    Rig rig;
    Fake *fake = &rig.fake;
    FsParallelItem *items = rig.items;

    rig_init(&rig);
    for (guint i = 0; i < N_TARGETS; i++) {
        items[i].level = i < 8 ? 0 : 1;
        fake->fs[i].level = items[i].level;
        fake->fs[i].delay_us = i < 8 ? 100 * 1000 : 0;
    }
    gboolean ok = fs_parallel_run(FS_PARALLEL_FREEZE, items, N_TARGETS, &rig.ops,
                                  g_get_monotonic_time() + 20 * 1000, FALSE);
    g_assert_false(ok);
    for (guint i = 0; i < N_TARGETS; i++) {
        g_assert_cmpint(items[i].result, ==, i < 8 ? 0 : FS_PARALLEL_NOT_RUN);
    }
    check_freeze(fake, items, TRUE);
    rollback_and_check(fake, items);
    rig_clear(&rig);
}

/* SYNC runs everything (real syncfs on memfds), levels ignored. */
static void test_sync(void)
{
    int *fds = open_fds();
    FsParallelItem items[N_TARGETS];

    for (guint i = 0; i < N_TARGETS; i++) {
        items[i] = (FsParallelItem){ .fd = fds[i], .level = i / 10 };
    }
    g_assert_true(fs_parallel_run(FS_PARALLEL_SYNC, items, N_TARGETS, NULL,
                                  g_get_monotonic_time() + 10 * G_USEC_PER_SEC, FALSE));
    for (guint i = 0; i < N_TARGETS; i++) {
        g_assert_cmpint(items[i].result, ==, 0);
    }
    close_fds(fds);
}

/* A thaw op for test_thaw_concurrent: the thaw of the fd whose inode is
 * blocker waits (up to 5 s) until every other one has thawed. */
typedef struct {
    GMutex lock;
    GCond cond;
    ino_t blocker;
    guint others_done;
    guint others;
    gboolean waited_out; /* the blocker gave up waiting: the others ran behind it */
    GThread *callers[N_TARGETS];
    guint n_callers;
} ThawWait;

static int thaw_wait_op(int fd, gpointer user_data)
{
    ThawWait *tw = user_data;
    struct stat st;

    g_assert_cmpint(fstat(fd, &st), ==, 0);
    g_mutex_lock(&tw->lock);
    tw->callers[tw->n_callers++] = g_thread_self();
    if (st.st_ino == tw->blocker) {
        gint64 limit = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
        while (tw->others_done < tw->others) {
            if (!g_cond_wait_until(&tw->cond, &tw->lock, limit)) {
                tw->waited_out = TRUE;
                break;
            }
        }
    } else {
        tw->others_done++;
        g_cond_broadcast(&tw->cond);
    }
    g_mutex_unlock(&tw->lock);
    return 0;
}

/* The caller takes a share of a THAW's work (no thread for one filesystem),
 * yet one FITHAW that blocks never holds the others back, whichever job
 * the caller ends up with. */
static void test_thaw_concurrent(void)
{
    int *fds = open_fds();

    for (guint n = 1; n <= 5; n++) {
        for (guint blocker = 0; blocker < n; blocker++) {
            FsParallelItem items[N_TARGETS];
            ThawWait tw = { .others = n - 1 };
            struct stat st;

            g_mutex_init(&tw.lock);
            g_cond_init(&tw.cond);
            g_assert_cmpint(fstat(fds[blocker], &st), ==, 0);
            tw.blocker = st.st_ino;
            for (guint i = 0; i < n; i++) {
                items[i] = (FsParallelItem){ .fd = fds[i], .level = 0 };
            }
            g_assert_true(fs_parallel_run(FS_PARALLEL_THAW, items, n,
                                          &(FsFreezeOps){.thaw = thaw_wait_op, .user_data = &tw}, 0,
                                          FALSE));
            g_assert_false(tw.waited_out);
            g_assert_cmpuint(tw.n_callers, ==, n);
            if (n == 1) {
                g_assert_true(tw.callers[0] == g_thread_self()); /* no thread started */
            }
            g_mutex_clear(&tw.lock);
            g_cond_clear(&tw.cond);
        }
    }
    close_fds(fds);
}

/* Ops that never block (in_caller, the fuzzers'): every call in the
 * caller's thread, with the same guarantees: levels in order, nothing
 * started above a failure, a rollback that thaws each frozen one once. */
static void test_in_caller(void)
{
    Rig rig;

    rig_init(&rig);
    rig.ops.in_caller = TRUE;
    rig.fake.only_thread = g_thread_self();
    for (guint i = 0; i < N_TARGETS; i++) {
        rig.items[i].level = rig.fake.fs[i].level = i * 4 / N_TARGETS;
    }
    rig.fake.fs[N_TARGETS / 2 + 3].fail_freeze = EIO; /* in level 2 */
    gboolean ok = fs_parallel_run(FS_PARALLEL_FREEZE, rig.items, N_TARGETS, &rig.ops, 0, FALSE);
    guint frozen = check_freeze(&rig.fake, rig.items, ok);
    g_assert_false(ok);
    g_assert_cmpuint(frozen, ==, N_TARGETS / 2 + 3); /* one after another: up to the failure */
    rollback_and_check(&rig.fake, rig.items);
    rig_clear(&rig);
}

/* The nice value each job of a run saw (flush priority). */
typedef struct {
    GMutex lock;
    int seen[N_TARGETS];
    guint n;
} NiceLog;

static int nice_log_op(int fd, gpointer user_data)
{
    NiceLog *log = user_data;
    int nice;

    (void)fd;
    errno = 0;
    nice = getpriority(PRIO_PROCESS, 0);
    g_assert_cmpint(errno, ==, 0);
    g_mutex_lock(&log->lock);
    log->seen[log->n++] = nice;
    g_mutex_unlock(&log->lock);
    return 0;
}

/* Whether this process may raise a thread's priority (CAP_SYS_NICE): tried
 * on a thread of its own, which then ends. */
static gpointer try_raise(gpointer data)
{
    (void)data;
    return GINT_TO_POINTER(setpriority(PRIO_PROCESS, 0, FS_PARALLEL_FLUSH_NICE) == 0);
}

/* Every thread of this process at nice @want, read from /proc (field 19
 * of each task's stat): the pool's workers as much as the caller. */
static void assert_every_thread_at(int want)
{
    g_autoptr(GDir) dir = g_dir_open("/proc/self/task", 0, NULL);
    const char *tid;
    guint threads = 0;

    g_assert_nonnull(dir);
    while ((tid = g_dir_read_name(dir))) {
        g_autofree char *path = g_strdup_printf("/proc/self/task/%s/stat", tid);
        g_autofree char *stat = NULL;
        g_auto(GStrv) fields = NULL;

        if (!g_file_get_contents(path, &stat, NULL, NULL)) {
            continue; /* a thread that ended meanwhile */
        }
        /* after "pid (comm) ": state is field 3, nice field 19 */
        fields = g_strsplit(strrchr(stat, ')') + 2, " ", 0);
        g_assert_cmpuint(g_strv_length(fields), >, 16);
        g_assert_cmpint(atoi(fields[16]), ==, want);
        threads++;
    }
    g_assert_cmpuint(threads, >, 1); /* the pool's threads were seen */
}

/* One run of @op over 8 memfds in 2 levels (@in_caller: by the caller's
 * thread alone) with @flush_priority; every job must have seen @want, and
 * every thread is back at @base after. */
static void run_and_check_nice(FsParallelOp op, gboolean in_caller, gboolean flush_priority,
                               int want, int base)
{
    int *fds = open_fds();
    FsParallelItem items[8];
    NiceLog log = {.n = 0};
    FsFreezeOps ops = {.sync = nice_log_op,
                       .freeze = nice_log_op,
                       .thaw = nice_log_op,
                       .user_data = &log,
                       .in_caller = in_caller};
    int before;

    g_mutex_init(&log.lock);
    for (guint i = 0; i < G_N_ELEMENTS(items); i++) {
        items[i] = (FsParallelItem){.fd = fds[i], .level = i / 4};
    }
    errno = 0;
    before = getpriority(PRIO_PROCESS, 0);
    g_assert_true(fs_parallel_run(op, items, G_N_ELEMENTS(items), &ops, 0, flush_priority));
    g_assert_cmpint(getpriority(PRIO_PROCESS, 0), ==, before);
    assert_every_thread_at(base);
    g_assert_cmpuint(log.n, ==, G_N_ELEMENTS(items));
    for (guint i = 0; i < log.n; i++) {
        g_assert_cmpint(log.seen[i], ==, want);
    }
    g_mutex_clear(&log.lock);
    close_fds(fds);
}

/* SYNC and FREEZE jobs at FS_PARALLEL_FLUSH_NICE when asked, in pool
 * threads and in the caller's, and every thread back at its own nice
 * after (read from /proc after each run; the next runs without flush
 * priority see it too); THAW never raised. Without the right to raise a priority, the
 * jobs run at the threads' own nice, and the test says it skipped the
 * raised half. */
static void test_flush_priority(void)
{
    int base;
    gboolean can_raise = GPOINTER_TO_INT(g_thread_join(g_thread_new("raise", try_raise, NULL)));
    int raised;

    errno = 0;
    base = getpriority(PRIO_PROCESS, 0);
    g_assert_cmpint(errno, ==, 0);
    raised = can_raise && base > FS_PARALLEL_FLUSH_NICE ? FS_PARALLEL_FLUSH_NICE : base;
    for (int in_caller = 0; in_caller <= 1; in_caller++) {
        run_and_check_nice(FS_PARALLEL_SYNC, in_caller, TRUE, raised, base);
        run_and_check_nice(FS_PARALLEL_FREEZE, in_caller, TRUE, raised, base);
        run_and_check_nice(FS_PARALLEL_THAW, in_caller, TRUE, base, base);
        run_and_check_nice(FS_PARALLEL_SYNC, in_caller, FALSE, base, base);
        run_and_check_nice(FS_PARALLEL_FREEZE, in_caller, FALSE, base, base);
    }
    if (raised == base) {
        g_test_skip("this process may not raise a thread's priority (no CAP_SYS_NICE): only "
                    "the unraised runs were checked");
    }
}

static const QuiesceTestFunc tests[] = {
    {"/freeze-parallel/random-failures", test_random_failures},
    {"/freeze-parallel/late-freeze-is-undone", test_late_freeze_is_undone},
    {"/freeze-parallel/deadline-stops-levels", test_deadline_stops_levels},
    {"/freeze-parallel/sync", test_sync},
    {"/freeze-parallel/thaw-concurrent", test_thaw_concurrent},
    {"/freeze-parallel/in-caller", test_in_caller},
    {"/freeze-parallel/flush-priority", test_flush_priority},
};

QUIESCE_TEST_MAIN(tests)
