/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * writer-qga-hooks.h — whether qemu-ga on this guest was set up to run its
 * fsfreeze hook, and so which hook directories quiesced runs in its place.
 *
 * qemu-ga runs its hook only when told to (`-F` / `--fsfreeze-hook`, or
 * `fsfreeze-hook=` in its configuration; docs/qga-reference.md §6): Debian
 * does not by default, RHEL's unit does. Scripts in a hook directory that
 * qemu-ga never ran are dormant, and must stay so when the guest switches
 * to quiesced. Read, in order (the first that says so wins):
 *   /etc/qemu/qemu-ga.conf      [general] fsfreeze-hook (empty: the default hook)
 *   /etc/default/qemu-guest-agent  DAEMON_ARGS with -F[PATH] / --fsfreeze-hook[=PATH]
 *   /etc/sysconfig/qemu-ga      FSFREEZE_HOOK_PATHNAME (RHEL's unit passes it to -F)
 * The hook's directory is the hook's path with ".d" (the stock hook runs
 * fsfreeze-hook.d beside itself).
 */
#ifndef QUIESCE_AGENT_WRITERS_WRITER_QGA_HOOKS_H
#define QUIESCE_AGENT_WRITERS_WRITER_QGA_HOOKS_H

#include <glib.h>

#define WRITER_QGA_HOOK_DEFAULT "/etc/qemu/fsfreeze-hook"

/*
 * @root: stands for / (tests point it at a fixture tree).
 * @out_source: (out) (optional) (transfer full) the file and setting that
 *   enabled the hook, for the log and --print-config; NULL when none did.
 * Returns: (transfer full) the hook directories to run, NULL-terminated;
 *   empty when qemu-ga was not set up to run a hook.
 */
char **writer_qga_hooks_detect(const char *root, char **out_source);

#endif
