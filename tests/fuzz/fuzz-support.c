/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz-support.c — the fuzzers' engine that cannot freeze this machine and
 * the synthetic machines it freezes instead; see the header.
 */
#include "tests/fuzz/fuzz-support.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "fsfreeze/mountinfo.h"

typedef struct FuzzMachine {
    const char *fixture;    /* tests/fixtures/<fixture>/ */
    /* The inventory every engine over this machine shares: it is the same
     * for every input (built once, or again after a block uevent of this
     * host), and walking the copied sysfs for each input was a third of
     * an input's CPU without sanitizers. */
    EngineInventoryCache *inventory;
    gboolean allow_dynamic; /* the policy's */
    char *root;             /* fuzz_dir/machine-<fixture>: mountinfo, sys/ */
    char *prefix;           /* fuzz_confine/<fixture>: where its "/" is */
    GPtrArray *entries;     /* MountEntry of the moved table, mount order */
    dev_t fault_dev;        /* FuzzEngineOptions.freeze_fails */
    /* Each mountpoint's directory by its inode (on the temp dir's device,
     * fuzz_dir_dev): the mount the kernel would show there. An fd of one of
     * them needs no readlink of /proc/self/fd to be placed (see
     * fuzz_fd_mount()). Key: a guint64 ino (heap), value: const MountEntry. */
    GHashTable *by_ino;
} FuzzMachine;

static FuzzMachine fuzz_machines[FUZZ_MACHINE_COUNT] = {
    [FUZZ_MACHINE_STACKS] = { .fixture = "recorded-qemu-stacks", .allow_dynamic = TRUE },
    [FUZZ_MACHINE_LOOPS] = { .fixture = "loop-in-loop" },
};

/* What every input of this process did, for the exit report. */
static struct {
    guint64 inputs;
    guint64 inputs_frozen; /* inputs with at least one successful FIFREEZE */
    guint64 freezes;
    guint64 thaws;
    guint64 thaws_not_frozen;
    guint64 busy;
    guint64 faults;
} fuzz_totals;

static char *fuzz_dir;     /* the process's temp dir (its real path) */
static char *fuzz_confine; /* fuzz_dir/confine: the machines' mountpoints only */
static char *fuzz_state;   /* fuzz_dir/state */
static dev_t fuzz_dir_dev; /* the device holding fuzz_dir: its st_dev */
static GMutex fuzz_lock;   /* the counts (fuzz-support.h) */

static void fuzz_die(const char *what, const char *detail)
{
    fprintf(stderr, "fuzz: %s: %s\n", what, detail ? detail : g_strerror(errno));
    abort();
}

static void fuzz_log(const gchar *domain, GLogLevelFlags level, const gchar *message,
                     gpointer user_data)
{
    if (level & (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_ERROR | G_LOG_FLAG_FATAL)) {
        fprintf(stderr, "fuzz: %s-CRITICAL: %s\n", domain ? domain : "", message);
        abort();
    }
    if (g_getenv("QUIESCE_FUZZ_VERBOSE")) {
        fprintf(stderr, "fuzz: %s: %s\n", domain ? domain : "", message);
    }
}

/* Removes what the fuzzers left in their own temp dir (nothing else). */
static void fuzz_remove_tree(const char *path)
{
    g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
    const char *name;

    while (dir && (name = g_dir_read_name(dir))) {
        g_autofree char *child = g_build_filename(path, name, NULL);
        if (g_file_test(child, G_FILE_TEST_IS_DIR) && !g_file_test(child, G_FILE_TEST_IS_SYMLINK)) {
            fuzz_remove_tree(child);
        } else {
            g_unlink(child);
        }
    }
    g_rmdir(path);
}

/* Where the temp dir goes: $QUIESCE_FUZZ_TMPDIR, else /dev/shm when it is
 * a writable directory, else the usual temp dir. tmpfs matters: every
 * freeze writes and fsync()s the engine's state file, and an fsync() on a
 * busy disk took up to seconds per input. */
static const char *fuzz_tmp_base(void)
{
    const char *base = g_getenv("QUIESCE_FUZZ_TMPDIR");

    if (base && *base) {
        return base;
    }
    if (g_file_test("/dev/shm", G_FILE_TEST_IS_DIR) && access("/dev/shm", W_OK | X_OK) == 0) {
        return "/dev/shm";
    }
    return g_get_tmp_dir();
}

/* libFuzzer leaves with _Exit() after a crash, skipping atexit(): each
 * run removes the dirs of earlier runs whose process is gone. */
static void fuzz_remove_stale(const char *base)
{
    g_autoptr(GDir) dir = g_dir_open(base, 0, NULL);
    const char *name;

    while (dir && (name = g_dir_read_name(dir))) {
        int pid = 0;
        if (sscanf(name, "quiesce-fuzz-%d-", &pid) == 1 && pid > 0 &&
            kill(pid, 0) != 0 && errno == ESRCH) {
            g_autofree char *path = g_build_filename(base, name, NULL);
            fuzz_remove_tree(path);
        }
    }
}

/* The exit report, and $QUIESCE_FUZZ_EXPECT_FROZEN's verdict. */
static void fuzz_support_exit(void)
{
    const char *expect = g_getenv("QUIESCE_FUZZ_EXPECT_FROZEN");
    guint64 wanted = expect ? g_ascii_strtoull(expect, NULL, 10) : 0;

    if (fuzz_dir) {
        fuzz_remove_tree(fuzz_dir);
    }
    if (fuzz_totals.inputs == 0 && wanted == 0) {
        return;
    }
    fprintf(stderr,
            "fuzz: %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT " inputs froze a filesystem "
            "(FIFREEZE %" G_GUINT64_FORMAT ", FITHAW %" G_GUINT64_FORMAT
            ", FITHAW of a thawed one %" G_GUINT64_FORMAT ", EBUSY %" G_GUINT64_FORMAT
            ", injected FIFREEZE failures %" G_GUINT64_FORMAT "); every input ended balanced\n",
            fuzz_totals.inputs_frozen, fuzz_totals.inputs, fuzz_totals.freezes, fuzz_totals.thaws,
            fuzz_totals.thaws_not_frozen, fuzz_totals.busy, fuzz_totals.faults);
    if (fuzz_totals.inputs_frozen < wanted) {
        fprintf(stderr,
                "fuzz: fewer than QUIESCE_FUZZ_EXPECT_FROZEN=%" G_GUINT64_FORMAT
                " inputs reached a freeze: the balance check proved nothing\n",
                wanted);
        _exit(1);
    }
}

/* ---- The synthetic machines. ---- */

static const char *fuzz_fixtures_dir(void)
{
    const char *dir = g_getenv("QUIESCE_FIXTURES");
    return dir ? dir : QUIESCE_FUZZ_FIXTURES;
}

/* Copies the fixture's sysfs tree (relative links kept as links), moving
 * each loop device's backing file below prefix as the mounts are. */
static void fuzz_copy_sys(const char *from, const char *to, const char *prefix)
{
    g_autoptr(GDir) dir = g_dir_open(from, 0, NULL);
    const char *name;

    if (!dir || g_mkdir(to, 0700) != 0) {
        fuzz_die("cannot copy a fixture", from);
    }
    while ((name = g_dir_read_name(dir))) {
        g_autofree char *src = g_build_filename(from, name, NULL);
        g_autofree char *dst = g_build_filename(to, name, NULL);
        g_autofree char *link = g_file_read_link(src, NULL);
        g_autofree char *text = NULL;
        gsize len = 0;

        if (link) {
            if (symlink(link, dst) != 0) {
                fuzz_die("cannot copy a fixture link", dst);
            }
        } else if (g_file_test(src, G_FILE_TEST_IS_DIR)) {
            fuzz_copy_sys(src, dst, prefix);
        } else if (g_file_get_contents(src, &text, &len, NULL)) {
            g_autofree char *parent = g_path_get_basename(from);
            if (g_str_equal(name, "backing_file") && g_str_equal(parent, "loop") &&
                text[0] == '/') {
                char *moved = g_strconcat(prefix, text, NULL);
                g_free(text);
                text = moved;
                len = strlen(text);
            }
            if (!g_file_set_contents(dst, text, (gssize)len, NULL)) {
                fuzz_die("cannot copy a fixture file", dst);
            }
        }
    }
}

/* The fixture's mount table with every mountpoint (field 5) below prefix. */
static char *fuzz_move_mountinfo(const char *text, const char *prefix)
{
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    GString *out = g_string_new(NULL);

    for (guint i = 0; lines[i]; i++) {
        g_auto(GStrv) fields = g_strsplit(lines[i], " ", -1);
        if (g_strv_length(fields) < 5) {
            continue;
        }
        char *moved = g_str_equal(fields[4], "/") ? g_strdup(prefix)
                                                  : g_strconcat(prefix, fields[4], NULL);
        g_free(fields[4]);
        fields[4] = moved;
        g_autofree char *line = g_strjoinv(" ", fields);
        g_string_append_printf(out, "%s\n", line);
    }
    return g_string_free(out, FALSE);
}

/* Whether dev holds the confinement dir or an ancestor: the guard would
 * refuse a synthetic filesystem with that number (a host whose own disk
 * has a fixture's major:minor), and nothing would ever be frozen. */
static gboolean fuzz_dev_holds_confine(dev_t dev)
{
    g_autofree char *path = g_strdup(fuzz_confine);

    for (;;) {
        struct stat st;
        if (stat(path, &st) == 0 && st.st_dev == dev) {
            return TRUE;
        }
        if (g_str_equal(path, "/")) {
            return FALSE;
        }
        char *parent = g_path_get_dirname(path);
        g_free(path);
        path = parent;
    }
}

static const MountEntry *fuzz_machine_mount_at(const FuzzMachine *machine, const char *path);

/* FuzzMachine.by_ino: every mountpoint directory's inode, with the mount
 * fuzz_machine_mount_at() gives for its path. Inode numbers are unique on
 * the temp dir's device and these directories live as long as the process
 * (nothing an input does removes them). */
static void fuzz_machine_index(FuzzMachine *machine)
{
    struct stat st;

    if (stat(fuzz_dir, &st) != 0) {
        fuzz_die("cannot stat the temp dir", fuzz_dir);
    }
    fuzz_dir_dev = st.st_dev;
    machine->by_ino = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
    for (guint i = 0; i < machine->entries->len; i++) {
        const MountEntry *entry = g_ptr_array_index(machine->entries, i);
        gint64 *ino = g_new(gint64, 1);
        if (stat(entry->mountpoint, &st) != 0 || st.st_dev != fuzz_dir_dev) {
            fuzz_die("cannot stat a mountpoint", entry->mountpoint);
        }
        *ino = (gint64)st.st_ino;
        g_hash_table_replace(machine->by_ino, ino,
                             (gpointer)fuzz_machine_mount_at(machine, entry->mountpoint));
    }
}

static void fuzz_machine_build(FuzzMachine *machine)
{
    g_autofree char *fixture = g_build_filename(fuzz_fixtures_dir(), machine->fixture, NULL);
    g_autofree char *mountinfo = g_build_filename(fixture, "mountinfo", NULL);
    g_autofree char *sys = g_build_filename(fixture, "sys", NULL);
    g_autofree char *text = NULL;
    g_autofree char *moved = NULL;
    g_autofree char *moved_path = NULL;
    g_autofree char *root_name = g_strconcat("machine-", machine->fixture, NULL);
    g_autofree char *sys_copy = NULL;
    g_autoptr(GError) error = NULL;

    machine->root = g_build_filename(fuzz_dir, root_name, NULL);
    machine->prefix = g_build_filename(fuzz_confine, machine->fixture, NULL);
    if (strpbrk(machine->prefix, " \t\n\\")) {
        fuzz_die("the temp dir must not need escaping in mountinfo", machine->prefix);
    }
    if (!g_file_get_contents(mountinfo, &text, NULL, &error)) {
        fuzz_die("cannot read a fixture (set QUIESCE_FIXTURES to tests/fixtures)",
                 error->message);
    }
    moved = fuzz_move_mountinfo(text, machine->prefix);
    machine->entries = mountinfo_parse(moved, &error);
    if (!machine->entries) {
        fuzz_die("cannot parse a moved fixture", error->message);
    }
    moved_path = g_build_filename(machine->root, "mountinfo", NULL);
    sys_copy = g_build_filename(machine->root, "sys", NULL);
    if (g_mkdir(machine->root, 0700) != 0 ||
        !g_file_set_contents(moved_path, moved, -1, NULL)) {
        fuzz_die("cannot write a machine", machine->root);
    }
    fuzz_copy_sys(sys, sys_copy, machine->prefix);
    for (guint i = 0; i < machine->entries->len; i++) {
        const MountEntry *entry = g_ptr_array_index(machine->entries, i);
        if (g_mkdir_with_parents(entry->mountpoint, 0700) != 0) {
            fuzz_die("cannot make a mountpoint", entry->mountpoint);
        }
        if (major(entry->dev) != 0 && fuzz_dev_holds_confine(entry->dev)) {
            g_autofree char *what = g_strdup_printf("%s (%u:%u)", entry->mountpoint,
                                                    major(entry->dev), minor(entry->dev));
            fuzz_die("a synthetic device is also this host's, the guard would refuse it", what);
        }
        if (!machine->fault_dev && major(entry->dev) != 0) {
            machine->fault_dev = entry->dev;
        }
    }
    fuzz_machine_index(machine);
}

void fuzz_support_init(void)
{
    g_autofree char *made = NULL;

    if (fuzz_dir) {
        return;
    }
    g_log_set_default_handler(fuzz_log, NULL);
    g_log_set_handler(NULL, G_LOG_LEVEL_MASK | G_LOG_FLAG_FATAL | G_LOG_FLAG_RECURSION,
                      fuzz_log, NULL);
    g_log_set_handler("quiesced", G_LOG_LEVEL_MASK | G_LOG_FLAG_FATAL | G_LOG_FLAG_RECURSION,
                      fuzz_log, NULL);
    const char *base = fuzz_tmp_base();
    fuzz_remove_stale(base);
    made = g_strdup_printf("%s/quiesce-fuzz-%d-XXXXXX", base, (int)getpid());
    if (!g_mkdtemp(made)) {
        fuzz_die("cannot make a temp dir", made);
    }
    /* Its real path: the guard and fd_dev compare /proc/self/fd links. */
    fuzz_dir = realpath(made, NULL);
    if (!fuzz_dir) {
        fuzz_die("cannot resolve the temp dir", made);
    }
    fuzz_confine = g_build_filename(fuzz_dir, "confine", NULL);
    fuzz_state = g_build_filename(fuzz_dir, "state", NULL);
    if (g_mkdir(fuzz_confine, 0700) != 0 || g_mkdir(fuzz_state, 0700) != 0) {
        fuzz_die("cannot make the confinement", fuzz_dir);
    }
    atexit(fuzz_support_exit);
    for (guint i = 0; i < FUZZ_MACHINE_COUNT; i++) {
        fuzz_machine_build(&fuzz_machines[i]);
    }
}

const char *fuzz_support_dir(void)
{
    return fuzz_dir;
}

/* ---- The fakes. ---- */

static char *fuzz_fd_path(int fd)
{
    g_autofree char *link = g_strdup_printf("/proc/self/fd/%d", fd);
    return g_file_read_link(link, NULL);
}

/* The mount the kernel would show at path on the machine: the last of the
 * longest mountpoints holding it; NULL outside the machine. */
static const MountEntry *fuzz_machine_mount_at(const FuzzMachine *machine, const char *path)
{
    const MountEntry *found = NULL;

    for (guint i = 0; path && i < machine->entries->len; i++) {
        const MountEntry *entry = g_ptr_array_index(machine->entries, i);
        if (mountinfo_path_contains(entry->mountpoint, path) &&
            (!found || strlen(entry->mountpoint) >= strlen(found->mountpoint))) {
            found = entry;
        }
    }
    return found;
}

/* The mount of the machine an fd is on, and whether the fd is below the
 * confinement dir: for a mountpoint directory of the machine (the freezer's
 * fds, nearly always) by its inode, which says both; for anything else by
 * its path (a readlink of /proc/self/fd: done for every fd, it was 12 of
 * an input's 19 readlink calls). *out_path: the path when it was read, else NULL. */
static const MountEntry *fuzz_fd_mount(int fd, const FuzzMachine *machine,
                                       gboolean *out_confined, char **out_path)
{
    struct stat st;
    const MountEntry *mount;
    char *path;

    *out_path = NULL;
    if (fstat(fd, &st) == 0 && st.st_dev == fuzz_dir_dev && S_ISDIR(st.st_mode)) {
        gint64 ino = (gint64)st.st_ino;
        mount = g_hash_table_lookup(machine->by_ino, &ino);
        if (mount) {
            *out_confined = TRUE; /* every mountpoint is below fuzz_confine */
            return mount;
        }
    }
    path = fuzz_fd_path(fd);
    *out_path = path;
    *out_confined = path && g_str_has_prefix(path, fuzz_confine) &&
                    path[strlen(fuzz_confine)] == '/';
    return fuzz_machine_mount_at(machine, path);
}

/* FsFreezeOps.fd_dev: below the machine, the device of its mount there;
 * elsewhere fstat()'s. */
static int fuzz_fake_fd_dev(int fd, dev_t *out_dev, gpointer user_data)
{
    const FuzzFreezeCounts *counts = user_data;
    gboolean confined;
    g_autofree char *path = NULL;
    const MountEntry *mount = fuzz_fd_mount(fd, counts->machine, &confined, &path);
    struct stat st;

    if (mount) {
        *out_dev = mount->dev;
        return 0;
    }
    if (fstat(fd, &st) != 0) {
        return errno;
    }
    *out_dev = st.st_dev;
    return 0;
}

/* The synthetic device an fd given to a fake ioctl stands for. The fakes
 * never call ioctl(), but that fd must still be below the confinement dir
 * (the freezer checked it) and on the machine: anything else is a bug
 * worth stopping for, since with the real ops it would have been frozen. */
static dev_t fuzz_checked_dev(int fd, const FuzzFreezeCounts *counts)
{
    gboolean confined;
    g_autofree char *path = NULL;
    const MountEntry *mount = fuzz_fd_mount(fd, counts->machine, &confined, &path);

    if (!confined || !mount) {
        if (!path) {
            path = fuzz_fd_path(fd);
        }
        fprintf(stderr, "fuzz: FIFREEZE/FITHAW/syncfs reached fd %d (%s) outside %s\n", fd,
                path ? path : "?", counts->machine->prefix);
        abort();
    }
    return mount->dev;
}

static gboolean fuzz_frozen_has(const FuzzFreezeCounts *counts, dev_t dev, guint *at)
{
    for (guint i = 0; i < counts->frozen->len; i++) {
        if (g_array_index(counts->frozen, dev_t, i) == dev) {
            *at = i;
            return TRUE;
        }
    }
    return FALSE;
}

static int fuzz_fake_freeze(int fd, gpointer user_data)
{
    FuzzFreezeCounts *counts = user_data;
    dev_t dev;
    guint at;
    int err = 0;

    dev = fuzz_checked_dev(fd, counts);
    g_mutex_lock(&fuzz_lock);
    if (counts->freeze_fails && dev == counts->machine->fault_dev) {
        counts->faults++;
        err = EIO;
    } else if (fuzz_frozen_has(counts, dev, &at)) {
        counts->busy++;
        err = EBUSY; /* the kernel's answer: userspace freezes do not nest */
    } else {
        g_array_append_val(counts->frozen, dev);
        counts->freezes++;
    }
    g_mutex_unlock(&fuzz_lock);
    return err;
}

static int fuzz_fake_thaw(int fd, gpointer user_data)
{
    FuzzFreezeCounts *counts = user_data;
    dev_t dev;
    guint at;
    int err = 0;

    dev = fuzz_checked_dev(fd, counts);
    g_mutex_lock(&fuzz_lock);
    if (!fuzz_frozen_has(counts, dev, &at)) {
        counts->thaws_not_frozen++;
        err = EINVAL; /* the kernel's answer for a superblock not frozen */
    } else {
        g_array_remove_index_fast(counts->frozen, at);
        counts->thaws++;
    }
    g_mutex_unlock(&fuzz_lock);
    return err;
}

static int fuzz_fake_sync(int fd, gpointer user_data)
{
    fuzz_checked_dev(fd, user_data);
    return 0;
}

EngineConfig *fuzz_engine_config_new(FuzzFreezeCounts *counts, const FuzzEngineOptions *options)
{
    EngineConfig *config = engine_config_new();
    const FuzzMachine *machine;
    g_autoptr(GError) error = NULL;

    fuzz_support_init();
    g_assert(options->machine < FUZZ_MACHINE_COUNT);
    machine = &fuzz_machines[options->machine];
    *counts = (FuzzFreezeCounts){
        .ops = {.freeze = fuzz_fake_freeze,
                .thaw = fuzz_fake_thaw,
                .sync = fuzz_fake_sync,
                .fd_dev = fuzz_fake_fd_dev,
                .mount_root = machine->root,
                .user_data = counts,
                /* The fakes never block: no hand-off to the freezer's
                 * threads (about 30 context switches an input; without
                 * them a worker ran a fifth more inputs a second). */
                .in_caller = TRUE},
        .machine = machine,
        .freeze_fails = options->freeze_fails,
        .frozen = g_array_new(FALSE, FALSE, sizeof(dev_t)),
    };
    config->ops = &counts->ops;
    g_free(config->state_dir);
    config->state_dir = g_strdup(fuzz_state);
    if (!eligibility_policy_set_confine(config->policy, fuzz_confine, &error)) {
        fuzz_die("cannot confine", error->message);
    }
    config->policy->allow_dynamic = machine->allow_dynamic;
    g_free(config->running_state_command);
    config->running_state_command = g_strdup(""); /* nothing spawned */
    config->window_seconds = options->window_seconds;
    config->host_lost_grace_seconds = options->host_lost_grace_seconds;
    if (!machine->inventory) {
        fuzz_machines[options->machine].inventory = engine_inventory_cache_new(config);
    }
    config->inventory = machine->inventory;
    return config;
}

static void fuzz_frozen_changed(gboolean frozen, gpointer user_data)
{
    FuzzFreezeCounts *counts = user_data;

    if (frozen) {
        counts->notified_frozen++;
    } else {
        counts->notified_thawed++;
    }
}

Engine *fuzz_engine_new(FuzzFreezeCounts *counts, const FuzzEngineOptions *options)
{
    EngineConfig *config = fuzz_engine_config_new(counts, options);
    g_autoptr(GError) error = NULL;
    Engine *engine;

    engine = engine_new(config, NULL, fuzz_frozen_changed, counts, &error);

    if (error) {
        fuzz_die("engine recovery failed", error->message);
    }
    return engine;
}

void fuzz_engine_finish(Engine *engine, FuzzFreezeCounts *counts)
{
    g_auto(GStrv) frozen = NULL;

    engine_shutdown(engine);
    frozen = engine_dup_frozen(engine);
    g_mutex_lock(&fuzz_lock);
    if (engine_is_frozen(engine) || frozen[0] || engine_get_session(engine) ||
        counts->frozen->len != 0 || counts->freezes != counts->thaws ||
        counts->notified_frozen != counts->notified_thawed) {
        fprintf(stderr,
                "fuzz: not thawed after shutdown: frozen=%d first=%s session=%s "
                "devices still frozen=%u (first %u:%u) freezes=%u thaws=%u "
                "notified frozen=%u thawed=%u\n",
                engine_is_frozen(engine), frozen[0] ? frozen[0] : "-",
                engine_get_session(engine) ? engine_get_session(engine)->id : "-",
                counts->frozen->len,
                counts->frozen->len ? major(g_array_index(counts->frozen, dev_t, 0)) : 0,
                counts->frozen->len ? minor(g_array_index(counts->frozen, dev_t, 0)) : 0,
                counts->freezes, counts->thaws, counts->notified_frozen,
                counts->notified_thawed);
        abort();
    }
    fuzz_totals.inputs++;
    fuzz_totals.inputs_frozen += counts->freezes > 0;
    fuzz_totals.freezes += counts->freezes;
    fuzz_totals.thaws += counts->thaws;
    fuzz_totals.thaws_not_frozen += counts->thaws_not_frozen;
    fuzz_totals.busy += counts->busy;
    fuzz_totals.faults += counts->faults;
    g_mutex_unlock(&fuzz_lock);
    engine_free(engine);
    fuzz_main_context_drain();
    g_array_unref(counts->frozen);
    counts->frozen = NULL;
    /* Nothing to wait for: a freezer run returns once its workers have let
     * go of it (fsfreeze/freeze-parallel.h), so an input's mallocs and
     * frees balance and libFuzzer runs no leak check after it. */
}

void fuzz_main_context_drain(void)
{
    for (int i = 0; i < 64 && g_main_context_iteration(NULL, FALSE); i++) {
    }
}
