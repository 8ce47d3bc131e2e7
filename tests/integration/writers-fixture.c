/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * writers-fixture.c — see writers-fixture.h.
 */
#include "tests/integration/writers-fixture.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static void remove_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) < 0) {
        return;
    }
    if (S_ISDIR(st.st_mode)) {
        chmod(path, 0700);
        g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
        const char *name;
        while (dir && (name = g_dir_read_name(dir))) {
            g_autofree char *child = g_build_filename(path, name, NULL);
            remove_tree(child);
        }
        g_rmdir(path);
    } else {
        g_unlink(path);
    }
}

void fixture_setup(Fixture *fixture, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *tmp = g_dir_make_tmp("quiesce-writers-XXXXXX", &error);
    g_assert_no_error(error);
    fixture->dir = realpath(tmp, NULL);
    g_assert_nonnull(fixture->dir);
    g_assert_cmpint(chmod(fixture->dir, 0755), ==, 0);
    fixture->script_dir = g_build_filename(fixture->dir, "writers.d", NULL);
    fixture->compat_dir = g_build_filename(fixture->dir, "hook.d", NULL);
    fixture->log_path = g_build_filename(fixture->dir, "order.log", NULL);
    fixture->socket_path = g_build_filename(fixture->dir, "writers.sock", NULL);
    g_assert_cmpint(g_mkdir(fixture->script_dir, 0755), ==, 0);
    g_assert_cmpint(g_mkdir(fixture->compat_dir, 0755), ==, 0);
    g_assert_cmpint(chmod(fixture->script_dir, 0755), ==, 0); /* whatever the umask */
    g_assert_cmpint(chmod(fixture->compat_dir, 0755), ==, 0);

    writers_config_init(&fixture->config);
    g_strfreev(fixture->config.script_dirs);
    g_strfreev(fixture->config.compat_script_dirs);
    const char *dirs[] = { fixture->script_dir, NULL };
    const char *compat[] = { fixture->compat_dir, NULL };
    fixture->config.script_dirs = g_strdupv((char **)dirs);
    fixture->config.compat_script_dirs = g_strdupv((char **)compat);
    g_free(fixture->config.socket_path);
    fixture->config.socket_path = g_strdup(fixture->socket_path);
    fixture->config.trusted_uid = geteuid();
    fixture->config.writer_timeout_ms = 10000;
    fixture->config.total_timeout_ms = 20000;
    fixture->children = g_array_new(FALSE, FALSE, sizeof(GPid));
}

void fixture_teardown(Fixture *fixture, gconstpointer data)
{
    g_clear_pointer(&fixture->writers, writers_free);
    for (guint i = 0; i < fixture->children->len; i++) {
        GPid pid = g_array_index(fixture->children, GPid, i);
        if (pid > 0) {
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
        }
    }
    g_array_unref(fixture->children);
    writers_config_clear(&fixture->config);
    remove_tree(fixture->dir);
    g_free(fixture->dir);
    g_free(fixture->script_dir);
    g_free(fixture->compat_dir);
    g_free(fixture->log_path);
    g_free(fixture->socket_path);
}

void fixture_start(Fixture *fixture)
{
    g_autoptr(GError) error = NULL;
    fixture->writers = writers_new(&fixture->config, &error);
    g_assert_no_error(error);
    g_assert_nonnull(fixture->writers);
}

char *fixture_write_script(Fixture *fixture, const char *dir, const char *name,
                           const char *body, mode_t mode)
{
    g_autoptr(GError) error = NULL;
    char *path = g_build_filename(dir, name, NULL);
    g_autofree char *text = g_strdup_printf("#!/bin/sh\nLOG='%s'\n%s\n", fixture->log_path,
                                            body);
    g_file_set_contents(path, text, -1, &error);
    g_assert_no_error(error);
    g_assert_cmpint(chmod(path, mode ? mode : 0755), ==, 0);
    return path;
}

char *fixture_write_logger(Fixture *fixture, const char *dir, const char *name,
                           const char *extra)
{
    g_autofree char *body = g_strdup_printf("echo \"%s $1\" >> \"$LOG\"\n%s", name,
                                            extra ? extra : "");
    return fixture_write_script(fixture, dir, name, body, 0);
}

GStrv fixture_read_log(Fixture *fixture)
{
    g_autofree char *text = NULL;
    if (!g_file_get_contents(fixture->log_path, &text, NULL, NULL)) {
        return g_new0(char *, 1);
    }
    g_strchomp(text);
    return text[0] ? g_strsplit(text, "\n", -1) : g_new0(char *, 1);
}

void fixture_assert_log(Fixture *fixture, const char *const *expected)
{
    g_auto(GStrv) lines = fixture_read_log(fixture);
    g_autofree char *got = g_strjoinv(" | ", lines);
    g_autofree char *want = g_strjoinv(" | ", (char **)expected);
    g_assert_cmpstr(got, ==, want);
}

typedef struct {
    Fixture *fixture;
    const char *name;
} WaitWriter;

static gboolean wait_writer_done(gpointer data)
{
    WaitWriter *wait = data;
    return fixture_has_socket_writer(wait->fixture, wait->name);
}

GPid fixture_spawn_tool(Fixture *fixture, const char *name, ...)
{
    const char *tool = g_getenv("QUIESCE_WRITER_TOOL");
    g_assert_nonnull(tool);
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_ptr_array_add(argv, (char *)tool);
    g_ptr_array_add(argv, "--socket");
    g_ptr_array_add(argv, fixture->socket_path);
    g_ptr_array_add(argv, "--name");
    g_ptr_array_add(argv, (char *)name);
    va_list args;
    va_start(args, name);
    const char *arg;
    while ((arg = va_arg(args, const char *))) {
        g_ptr_array_add(argv, (char *)arg);
    }
    va_end(args);
    g_ptr_array_add(argv, NULL);
    g_autoptr(GError) error = NULL;
    GPid pid = 0;
    g_spawn_async(NULL, (char **)argv->pdata, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL,
                  &pid, &error);
    g_assert_no_error(error);
    g_array_append_val(fixture->children, pid);
    WaitWriter wait = { fixture, name };
    g_assert_true(fixture_iterate_until(wait_writer_done, &wait, 5000));
    return pid;
}

void fixture_kill_child(Fixture *fixture, GPid pid)
{
    for (guint i = 0; i < fixture->children->len; i++) {
        if (g_array_index(fixture->children, GPid, i) == pid) {
            g_array_index(fixture->children, GPid, i) = 0;
        }
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

gboolean fixture_iterate_until(gboolean (*done)(gpointer data), gpointer data,
                               guint timeout_ms)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    while (!done(data)) {
        if (g_get_monotonic_time() >= deadline) {
            return FALSE;
        }
        while (g_main_context_iteration(NULL, FALSE)) {
        }
        g_usleep(5000);
    }
    return TRUE;
}

gboolean fixture_has_socket_writer(Fixture *fixture, const char *name)
{
    g_auto(GStrv) names = writers_dup_socket_writer_names(fixture->writers);
    return g_strv_contains((const char *const *)names, name);
}

gboolean pid_is_running(pid_t pid)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/stat", (int)pid);
    g_autofree char *text = NULL;
    if (!g_file_get_contents(path, &text, NULL, NULL)) {
        return FALSE;
    }
    const char *paren = strrchr(text, ')');
    return paren && paren[1] == ' ' && paren[2] != 'Z' && paren[2] != 'X';
}

gboolean pid_wait_gone(pid_t pid, guint timeout_ms)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    while (pid_is_running(pid)) {
        if (g_get_monotonic_time() >= deadline) {
            return FALSE;
        }
        g_usleep(10000);
    }
    return TRUE;
}

pid_t read_pid_file(const char *path)
{
    g_autofree char *text = NULL;
    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    pid_t pid = (pid_t)atoi(text);
    g_assert_cmpint(pid, >, 1);
    return pid;
}

gboolean file_wait_contains(const char *path, const char *needle, guint timeout_ms)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    for (;;) {
        g_autofree char *text = NULL;
        if (g_file_get_contents(path, &text, NULL, NULL) && strstr(text, needle)) {
            return TRUE;
        }
        if (g_get_monotonic_time() >= deadline) {
            return FALSE;
        }
        g_usleep(10000);
    }
}

static void collect_line(GLogLevelFlags level, const char *message, gint64 real_time_us,
                         gpointer user_data)
{
    g_string_append_printf(user_data, "%s\n", message);
}

char *fixture_flush_log(Fixture *fixture)
{
    GString *text = g_string_new(NULL);
    writers_flush_log(fixture->writers, collect_line, text);
    if (g_test_verbose()) {
        g_printerr("--- held log ---\n%s----------------\n", text->str);
    }
    return g_string_free(text, FALSE);
}
