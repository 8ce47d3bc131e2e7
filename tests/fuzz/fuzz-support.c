/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz-support.c — the fuzzers' engine that cannot freeze; see the header.
 */
#include "tests/fuzz/fuzz-support.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *fuzz_dir;     /* the process's temp dir */
static char *fuzz_confine; /* fuzz_dir/confine: empty, nothing mounted below */
static char *fuzz_state;   /* fuzz_dir/state */

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

/* libFuzzer leaves with _Exit() (time up, crash), skipping atexit(): each
 * run removes the dirs of earlier runs whose process is gone. */
static void fuzz_remove_stale(void)
{
    g_autoptr(GDir) dir = g_dir_open(g_get_tmp_dir(), 0, NULL);
    const char *name;

    while (dir && (name = g_dir_read_name(dir))) {
        int pid = 0;
        if (sscanf(name, "quiesce-fuzz-%d-", &pid) == 1 && pid > 0 &&
            kill(pid, 0) != 0 && errno == ESRCH) {
            g_autofree char *path = g_build_filename(g_get_tmp_dir(), name, NULL);
            fuzz_remove_tree(path);
        }
    }
}

static void fuzz_support_cleanup(void)
{
    if (fuzz_dir) {
        fuzz_remove_tree(fuzz_dir);
    }
}

void fuzz_support_init(void)
{
    g_autoptr(GError) error = NULL;

    if (fuzz_dir) {
        return;
    }
    g_log_set_default_handler(fuzz_log, NULL);
    g_log_set_handler(NULL, G_LOG_LEVEL_MASK | G_LOG_FLAG_FATAL | G_LOG_FLAG_RECURSION,
                      fuzz_log, NULL);
    g_log_set_handler("quiesced", G_LOG_LEVEL_MASK | G_LOG_FLAG_FATAL | G_LOG_FLAG_RECURSION,
                      fuzz_log, NULL);
    fuzz_remove_stale();
    g_autofree char *template = g_strdup_printf("quiesce-fuzz-%d-XXXXXX", (int)getpid());
    fuzz_dir = g_dir_make_tmp(template, &error);
    if (!fuzz_dir) {
        fprintf(stderr, "fuzz: cannot make a temp dir: %s\n", error->message);
        abort();
    }
    fuzz_confine = g_build_filename(fuzz_dir, "confine", NULL);
    fuzz_state = g_build_filename(fuzz_dir, "state", NULL);
    if (g_mkdir(fuzz_confine, 0700) != 0 || g_mkdir(fuzz_state, 0700) != 0) {
        abort();
    }
    atexit(fuzz_support_cleanup);
}

const char *fuzz_support_dir(void)
{
    return fuzz_dir;
}

/* The fakes never call ioctl(). A fd reaching them must still be below the
 * confinement dir (the freezer checked it); anything else is a bug worth
 * stopping for, since with the real ops it would have been frozen. */
static void fuzz_check_fd(int fd)
{
    g_autofree char *link = g_strdup_printf("/proc/self/fd/%d", fd);
    g_autofree char *target = g_file_read_link(link, NULL);

    if (!target || !g_str_has_prefix(target, fuzz_confine) ||
        target[strlen(fuzz_confine)] != '/') {
        fprintf(stderr, "fuzz: FIFREEZE/FITHAW reached fd %d (%s) outside %s\n", fd,
                target ? target : "?", fuzz_confine);
        abort();
    }
}

static int fuzz_fake_freeze(int fd, gpointer user_data)
{
    FuzzFreezeCounts *counts = user_data;

    fuzz_check_fd(fd);
    /* The freezer calls from its worker threads. */
    g_atomic_int_inc((gint *)&counts->freezes);
    g_atomic_int_inc((gint *)&counts->frozen);
    return 0;
}

static int fuzz_fake_thaw(int fd, gpointer user_data)
{
    FuzzFreezeCounts *counts = user_data;

    fuzz_check_fd(fd);
    if (g_atomic_int_get((gint *)&counts->frozen) == 0) {
        fprintf(stderr, "fuzz: FITHAW without a FIFREEZE before it\n");
        abort();
    }
    g_atomic_int_inc((gint *)&counts->thaws);
    g_atomic_int_add((gint *)&counts->frozen, -1);
    return 0;
}

EngineConfig *fuzz_engine_config_new(FuzzFreezeCounts *counts, guint window_seconds,
                                     guint host_lost_grace_seconds)
{
    EngineConfig *config = engine_config_new();
    g_autoptr(GError) error = NULL;

    fuzz_support_init();
    *counts = (FuzzFreezeCounts){
        .ops = { .freeze = fuzz_fake_freeze, .thaw = fuzz_fake_thaw, .user_data = counts },
    };
    config->ops = &counts->ops;
    g_free(config->state_dir);
    config->state_dir = g_strdup(fuzz_state);
    if (!eligibility_policy_set_confine(config->policy, fuzz_confine, &error)) {
        abort();
    }
    g_free(config->running_state_command);
    config->running_state_command = g_strdup(""); /* nothing spawned */
    config->window_seconds = window_seconds;
    config->host_lost_grace_seconds = host_lost_grace_seconds;
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

Engine *fuzz_engine_new(FuzzFreezeCounts *counts, guint window_seconds,
                        guint host_lost_grace_seconds)
{
    EngineConfig *config = fuzz_engine_config_new(counts, window_seconds, host_lost_grace_seconds);
    g_autoptr(GError) error = NULL;
    Engine *engine = engine_new(config, NULL, fuzz_frozen_changed, counts, &error);

    if (error) {
        fprintf(stderr, "fuzz: engine recovery failed: %s\n", error->message);
        abort();
    }
    return engine;
}

void fuzz_engine_finish(Engine *engine, const FuzzFreezeCounts *counts)
{
    g_auto(GStrv) frozen = NULL;

    engine_shutdown(engine);
    frozen = engine_dup_frozen(engine);
    if (engine_is_frozen(engine) || frozen[0] || engine_get_session(engine) ||
        counts->frozen != 0 || counts->freezes != counts->thaws ||
        counts->notified_frozen != counts->notified_thawed) {
        fprintf(stderr,
                "fuzz: not thawed after shutdown: frozen=%d first=%s session=%s "
                "freezes=%u thaws=%u notified frozen=%u thawed=%u\n",
                engine_is_frozen(engine), frozen[0] ? frozen[0] : "-",
                engine_get_session(engine) ? engine_get_session(engine)->id : "-",
                counts->freezes, counts->thaws, counts->notified_frozen,
                counts->notified_thawed);
        abort();
    }
    engine_free(engine);
    fuzz_main_context_drain();
}

void fuzz_main_context_drain(void)
{
    for (int i = 0; i < 64 && g_main_context_iteration(NULL, FALSE); i++) {
    }
}
