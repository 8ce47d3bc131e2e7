/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rcu-expedite.h — expedited RCU grace periods for the span of the FIFREEZE
 * calls, and nothing longer.
 *
 * Why: freeze_super() takes a superblock's three write-side locks one after
 * another (SB_FREEZE_WRITE, SB_FREEZE_PAGEFAULT, SB_FREEZE_FS). Each is a
 * percpu_down_write(), whose rcu_sync_enter() waits for a normal RCU grace
 * period: three grace periods in every FIFREEZE, and when little is left to
 * flush they are most of its time (docs/internals.md, "Freeze speed").
 * While /sys/kernel/rcu_expedited reads 1, synchronize_rcu() is expedited:
 * it asks every CPU at once instead of waiting for each to pass a quiescent
 * state on its own.
 *
 * The knob is the whole machine's, so it is set only when it reads 0, just
 * before the first FIFREEZE, and put back as soon as the last one returns.
 * An agent that dies in between would leave it set: before setting it, a
 * record (the old value and the kernel's boot id) is written to the state
 * directory, and the next start puts the value back from it
 * (rcu_expedite_recover()) if it is the same boot and the knob still reads 1.
 */
#ifndef QUIESCE_FSFREEZE_RCU_EXPEDITE_H
#define QUIESCE_FSFREEZE_RCU_EXPEDITE_H

#include <glib.h>

#define RCU_EXPEDITE_KNOB "/sys/kernel/rcu_expedited"
#define RCU_EXPEDITE_RECORD "rcu-expedited" /* in the state directory */
#define RCU_EXPEDITE_BOOT_ID "/proc/sys/kernel/random/boot_id"

typedef struct {
    char *knob;   /* owned; set only while the knob is ours to put back */
    char *record; /* owned; NULL = none written */
} RcuExpedite;

/*
 * Sets @knob to 1 if it reads 0, after writing @record (NULL = no record)
 * with the value to put back. *set: whether it did (FALSE when the knob
 * already read nonzero: nothing to do). FALSE with @error when the knob or
 * the record cannot be read or written: then nothing is left set.
 */
gboolean rcu_expedite_begin(RcuExpedite *self, const char *knob, const char *record, gboolean *set,
                            GError **error);
/* Puts back what rcu_expedite_begin() set and removes its record. FALSE
 * with @error when the knob cannot be written: the record stays, for the
 * next start to put it back. Either way @self is done with (a second call
 * is a no-op), as it is when nothing was set. */
gboolean rcu_expedite_end(RcuExpedite *self, GError **error);
/*
 * At start: a @record left by an agent that died between begin and end.
 * Puts its value back in @knob when the record is of this boot and the
 * knob still reads 1 (*restored), then removes the record. A record that
 * cannot be read or makes no sense is removed and the knob left alone.
 * FALSE with @error only when the knob or the record's removal fails.
 */
gboolean rcu_expedite_recover(const char *knob, const char *record, gboolean *restored,
                              GError **error);

#endif
