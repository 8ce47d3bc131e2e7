/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * writer-script.h — finding script writers and deciding whether to trust
 * them.
 *
 * Discovery. Each directory is listed and its entries taken in byte order
 * of their names (strcmp, the C locale: "10-db" < "20-app" < "9-late", so
 * use two-digit prefixes). Directories are taken in the order given, native
 * directories first, then the qemu-ga compatibility ones. A directory that
 * does not exist is simply empty. Skipped without a word, because they are
 * not writers:
 *   - hidden names (".*", which covers editor locks ".#x" and ".x.swp");
 *   - editor and package-manager leftovers: "*~", "#*#", "*.swp", "*.swo",
 *     "*.bak", "*.old", "*.orig", "*.tmp", "*.sample", "*.disabled",
 *     "*.rpmnew", "*.rpmorig", "*.rpmsave", "*.dpkg-*" (dpkg-old, -new,
 *     -dist, -tmp, -bak, -backup, -remove), "*.ucf-*" — a superset of
 *     qemu's stock fsfreeze-hook dispatcher's list;
 *   - anything that is not a regular file after following symlinks, and
 *     regular files without any execute bit (run-parts and qemu's
 *     dispatcher skip those too).
 *
 * Trust. A writer runs as root inside the freeze path, so a script anyone
 * but root could change is refused — and refused loudly: a skipped writer
 * would make an inconsistent backup look consistent. For the script (after
 * resolving symlinks), the writers directory, and every ancestor directory
 * of both up to "/":
 *   - the owner must be root or the configured trusted uid (tests only);
 *   - no write permission for group or others. The one exception is an
 *     ANCESTOR directory that is root-owned and sticky (like /tmp): the
 *     sticky bit stops others from renaming or replacing what is in it.
 * A directory that fails the check makes every script in it untrusted (it
 * is reported once, for the directory). Checks go through stat(), so the
 * agent re-checks right before running each script; a check is advice
 * against mistakes and hostile non-root users, not a defence against root.
 */
#ifndef QUIESCE_AGENT_WRITERS_WRITER_SCRIPT_H
#define QUIESCE_AGENT_WRITERS_WRITER_SCRIPT_H

#include <glib.h>
#include <sys/types.h>

typedef struct {
    char *path;      /* owned: directory/name as found (not resolved) */
    char *name;      /* owned: the file name */
    gboolean compat; /* from a qemu-ga hook directory: it knows only "freeze"
                      * and "thaw", so it gets "thaw" where others get
                      * "freeze-fail" */
} WriterScript;

/* (transfer full) */
WriterScript *writer_script_new(const char *path, gboolean compat);
WriterScript *writer_script_copy(const WriterScript *script);
void writer_script_free(WriterScript *script);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(WriterScript, writer_script_free)

/* A script or directory that is refused, for the eligibility report. */
typedef struct {
    char *path;   /* owned: the script or directory */
    char *reason; /* owned: e.g. "writable by group (mode 0775)" */
} WriterProblem;

void writer_problem_free(WriterProblem *problem);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(WriterProblem, writer_problem_free)

/* TRUE for names that are never writers (hidden files, leftovers). */
gboolean writer_script_name_is_ignored(const char *name);

/*
 * Lists the scripts of @dirs (native) then @compat_dirs (both NULL-
 * terminated, either may be NULL), checking trust as described above.
 * @out_scripts: (out) (transfer full) trusted WriterScript*, in run order.
 * @out_problems: (out) (transfer full) WriterProblem*, empty when all is
 *   well. No side effects.
 */
void writer_scripts_scan(const char *const *dirs, const char *const *compat_dirs,
                         uid_t trusted_uid, GPtrArray **out_scripts,
                         GPtrArray **out_problems);

/* Re-checks one script (and its directories) right before it runs.
 * FALSE with QUIESCE_ERROR_INVALID_ARGUMENT saying why when untrusted. */
gboolean writer_script_check(const WriterScript *script, uid_t trusted_uid, GError **error);

#endif
