/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * kernel-knob.h — a machine-wide kernel setting changed for a freeze's
 * flush and FIFREEZE calls, and nothing longer: put back as soon as they
 * return, and at the next start when the agent died in between.
 *
 * Two knobs (docs/internals.md, "Freeze speed"):
 *   - /sys/kernel/rcu_expedited, 1 around the FIFREEZE calls when it reads
 *     0. freeze_super() takes a superblock's three write-side locks one
 *     after another (SB_FREEZE_WRITE, SB_FREEZE_PAGEFAULT, SB_FREEZE_FS);
 *     each percpu_down_write() waits in rcu_sync_enter() for a normal RCU
 *     grace period, and when little is left to flush those three waits are
 *     most of a FIFREEZE. Expedited, synchronize_rcu() asks every CPU at
 *     once instead of waiting for each to pass a quiescent state.
 *   - /sys/devices/virtual/workqueue/writeback/nice, -20 around the
 *     pre-sync and the FIFREEZE calls. The kernel's flusher threads (the
 *     "writeback" workqueue, nice 0) write the dirty pages a syncfs() or a
 *     FIFREEZE waits for; at the same nice they share the CPUs with the
 *     applications that keep dirtying, and on a guest with few vCPUs the
 *     flush is CPU-bound. Ahead of them, it ends sooner, and the
 *     applications are about to be stopped anyway.
 *
 * Before a knob is set, a record (its old value and the kernel's boot id)
 * is written to the state directory; the next start puts the value back
 * from it (kernel_knob_recover()) if it is the same boot and the knob
 * still reads what the agent set. The state directory is tmpfs (/run) in
 * service; the boot id guards one that is not.
 */
#ifndef QUIESCE_FSFREEZE_KERNEL_KNOB_H
#define QUIESCE_FSFREEZE_KERNEL_KNOB_H

#include <glib.h>

#define RCU_EXPEDITE_KNOB "/sys/kernel/rcu_expedited"
#define RCU_EXPEDITE_RECORD "rcu-expedited" /* in the state directory */
#define WRITEBACK_NICE_KNOB "/sys/devices/virtual/workqueue/writeback/nice"
#define WRITEBACK_NICE_RECORD "writeback-nice" /* in the state directory */
#define WRITEBACK_NICE_VALUE "-20"
#define KERNEL_KNOB_BOOT_ID "/proc/sys/kernel/random/boot_id"
#define KERNEL_MEMINFO "/proc/meminfo"

typedef struct {
    char *knob;   /* owned; set only while the knob is ours to put back */
    char *old;    /* owned; the value to put back */
    char *record; /* owned; NULL = none written */
} KernelKnob;

/*
 * Sets @knob to @value (an integer, as every such knob holds) after writing
 * @record (NULL = no record) with the value to put back; only when it reads
 * @only_from, or, when that is NULL, when it reads anything but @value.
 * *set: whether it did (FALSE when the knob's value was not one to change:
 * nothing to do). FALSE with @error when the knob or the record cannot be
 * read or written: then nothing is left set.
 */
gboolean kernel_knob_set(KernelKnob *self, const char *knob, const char *value,
                         const char *only_from, const char *record, gboolean *set, GError **error);
/* Puts back what kernel_knob_set() set and removes its record. FALSE with
 * @error when the knob cannot be written: the record stays, for the next
 * start to put it back. Either way @self is done with (a second call is a
 * no-op), as it is when nothing was set. */
gboolean kernel_knob_put_back(KernelKnob *self, GError **error);
/*
 * At start: a @record left by an agent that died between set and put-back.
 * Puts its value back in @knob when the record is of this boot, the knob
 * still reads @value and the value is one kernel_knob_set() would have
 * changed (@only_from, as there) (*restored: the value put back, owned by
 * the caller; NULL when none), then removes the record. A record that cannot be read or
 * makes no sense is removed and the knob left alone. FALSE with @error only
 * when the knob or the record's removal fails.
 */
gboolean kernel_knob_recover(const char *knob, const char *value, const char *only_from,
                             const char *record, char **restored, GError **error);
/*
 * The page cache's dirty data and data under writeback in KiB: the "Dirty:"
 * and "Writeback:" lines of @meminfo (KERNEL_MEMINFO, or a test's file).
 * -1 when the file cannot be read or lacks either line.
 */
gint64 kernel_dirty_kib(const char *meminfo);

#endif
