/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * writer-script.c — discovery and trust checks of script writers; the rules
 * are in writer-script.h.
 */
#include "agent/writers/writer-script.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/quiesce-error.h"

WriterScript *writer_script_new(const char *path, gboolean compat)
{
    WriterScript *script = g_new0(WriterScript, 1);
    script->path = g_strdup(path);
    script->name = g_path_get_basename(path);
    script->compat = compat;
    return script;
}

WriterScript *writer_script_copy(const WriterScript *script)
{
    return writer_script_new(script->path, script->compat);
}

void writer_script_free(WriterScript *script)
{
    if (!script) {
        return;
    }
    g_free(script->path);
    g_free(script->name);
    g_free(script);
}

void writer_problem_free(WriterProblem *problem)
{
    if (!problem) {
        return;
    }
    g_free(problem->path);
    g_free(problem->reason);
    g_free(problem);
}

static void writer_problems_add(GPtrArray *problems, const char *path, const char *reason)
{
    WriterProblem *problem = g_new0(WriterProblem, 1);
    problem->path = g_strdup(path);
    problem->reason = g_strdup(reason);
    g_ptr_array_add(problems, problem);
}

gboolean writer_script_name_is_ignored(const char *name)
{
    static const char *const suffixes[] = {
        "~", ".swp", ".swo", ".bak", ".old", ".orig", ".tmp", ".sample", ".disabled",
        ".rpmnew", ".rpmorig", ".rpmsave", NULL,
    };
    static const char *const infixes[] = { ".dpkg-", ".ucf-", NULL };
    if (name[0] == '\0' || name[0] == '.' || name[0] == '#') {
        return TRUE; /* hidden, editor locks ".#x", emacs autosaves "#x#" */
    }
    for (guint i = 0; suffixes[i]; i++) {
        if (g_str_has_suffix(name, suffixes[i])) {
            return TRUE;
        }
    }
    for (guint i = 0; infixes[i]; i++) {
        if (strstr(name, infixes[i])) {
            return TRUE;
        }
    }
    return FALSE;
}

/*
 * One node of a trust chain. @ancestor: a directory above the script or
 * the writers directory, where a root-owned sticky directory (/tmp) may be
 * writable by others.
 */
static gboolean writer_trust_node(const char *path, const struct stat *st, uid_t trusted_uid,
                                  gboolean ancestor, GError **error)
{
    if (st->st_uid != 0 && st->st_uid != trusted_uid) {
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_INVALID_ARGUMENT,
                    "%s is owned by uid %u, not root", path, (unsigned)st->st_uid);
        return FALSE;
    }
    if (!(st->st_mode & (S_IWGRP | S_IWOTH))) {
        return TRUE;
    }
    if (ancestor && S_ISDIR(st->st_mode) && (st->st_mode & S_ISVTX) && st->st_uid == 0) {
        return TRUE;
    }
    g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_INVALID_ARGUMENT,
                "%s is writable by %s (mode %04o)", path,
                (st->st_mode & S_IWGRP) ? "group" : "others", st->st_mode & 07777);
    return FALSE;
}

/* Checks @path (resolved first) and every directory above it. */
static gboolean writer_trust_chain(const char *path, uid_t trusted_uid, GError **error)
{
    g_autofree char *current = realpath(path, NULL);
    if (!current) {
        int saved = errno;
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_INVALID_ARGUMENT,
                    "cannot resolve %s: %s", path, g_strerror(saved));
        return FALSE;
    }
    gboolean ancestor = FALSE;
    for (;;) {
        struct stat st;
        if (stat(current, &st) < 0) {
            int saved = errno;
            g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_INVALID_ARGUMENT,
                        "cannot stat %s: %s", current, g_strerror(saved));
            return FALSE;
        }
        if (!writer_trust_node(current, &st, trusted_uid, ancestor, error)) {
            return FALSE;
        }
        if (strcmp(current, "/") == 0) {
            return TRUE;
        }
        char *parent = g_path_get_dirname(current);
        g_free(current);
        current = parent;
        ancestor = TRUE;
    }
}

/* Is @path a script to consider? FALSE for non-regular and non-executable
 * files; an error when it cannot be examined (a dangling symlink). */
static gboolean writer_path_is_candidate(const char *path, gboolean *out_candidate,
                                         GError **error)
{
    struct stat st;
    if (stat(path, &st) < 0) {
        int saved = errno;
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_INVALID_ARGUMENT,
                    "cannot stat %s: %s", path, g_strerror(saved));
        return FALSE;
    }
    *out_candidate = S_ISREG(st.st_mode) && (st.st_mode & 0111);
    return TRUE;
}

static gint writer_compare_names(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* (transfer full) The names in @dir that are not ignored, sorted. */
static GPtrArray *writer_dir_list(const char *dir, GError **error)
{
    g_autoptr(GDir) handle = g_dir_open(dir, 0, error);
    if (!handle) {
        return NULL;
    }
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    const char *name;
    while ((name = g_dir_read_name(handle))) {
        if (!writer_script_name_is_ignored(name)) {
            g_ptr_array_add(names, g_strdup(name));
        }
    }
    g_ptr_array_sort(names, writer_compare_names);
    return g_steal_pointer(&names);
}

static void writer_scan_dir(const char *dir, gboolean compat, uid_t trusted_uid,
                            GPtrArray *scripts, GPtrArray *problems)
{
    g_autoptr(GError) error = NULL;
    struct stat st;
    if (stat(dir, &st) < 0 && errno == ENOENT) {
        return; /* an absent directory holds no writers */
    }
    g_autoptr(GPtrArray) names = NULL;
    if (!writer_trust_chain(dir, trusted_uid, &error) ||
        !(names = writer_dir_list(dir, &error))) {
        writer_problems_add(problems, dir, error->message);
        return;
    }
    for (guint i = 0; i < names->len; i++) {
        g_autofree char *path = g_build_filename(dir, names->pdata[i], NULL);
        gboolean candidate = FALSE;
        if (!writer_path_is_candidate(path, &candidate, &error) ||
            (candidate && !writer_trust_chain(path, trusted_uid, &error))) {
            writer_problems_add(problems, path, error->message);
            g_clear_error(&error);
            continue;
        }
        if (candidate) {
            g_ptr_array_add(scripts, writer_script_new(path, compat));
        }
    }
}

void writer_scripts_scan(const char *const *dirs, const char *const *compat_dirs,
                         uid_t trusted_uid, GPtrArray **out_scripts,
                         GPtrArray **out_problems)
{
    g_autoptr(GPtrArray) scripts = g_ptr_array_new_with_free_func(
        (GDestroyNotify)writer_script_free);
    g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func(
        (GDestroyNotify)writer_problem_free);
    for (guint i = 0; dirs && dirs[i]; i++) {
        writer_scan_dir(dirs[i], FALSE, trusted_uid, scripts, problems);
    }
    for (guint i = 0; compat_dirs && compat_dirs[i]; i++) {
        writer_scan_dir(compat_dirs[i], TRUE, trusted_uid, scripts, problems);
    }
    *out_scripts = g_steal_pointer(&scripts);
    *out_problems = g_steal_pointer(&problems);
}

gboolean writer_script_check(const WriterScript *script, uid_t trusted_uid, GError **error)
{
    g_autofree char *dir = g_path_get_dirname(script->path);
    gboolean candidate = FALSE;
    if (!writer_trust_chain(dir, trusted_uid, error) ||
        !writer_path_is_candidate(script->path, &candidate, error)) {
        return FALSE;
    }
    if (!candidate) {
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_INVALID_ARGUMENT,
                    "%s is no longer an executable file", script->path);
        return FALSE;
    }
    return writer_trust_chain(script->path, trusted_uid, error);
}
