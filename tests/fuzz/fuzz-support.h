/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz-support.h — what the libFuzzer targets that reach the agent share:
 * a private temp dir, an engine that can never freeze this machine but
 * freezes synthetic ones, quiet logs, and the checks run after every input.
 *
 * Safety: every engine built here has FIFREEZE/FITHAW (and the pre-sync's
 * syncfs) replaced by fakes that never call the kernel (EngineConfig.ops;
 * fsfreeze/freezer.c sends every ioctl through FsFreezeOps, which is this
 * table whenever it is non-NULL) AND is confined to a directory of its own
 * (policy->confine): the freezer refuses, before any ioctl, every target
 * that is not below it.
 *
 * What it freezes: a synthetic machine (FsFreezeOps.mount_root and fd_dev,
 * the test seam of fsfreeze/freezer.h). Each is one of the mount-table
 * fixtures the unit tests classify (tests/fixtures/<name>/: mountinfo and a
 * sysfs tree), copied into the temp dir with every mountpoint (and every
 * loop device's backing file) moved below <confine>/<name>, where a plain
 * directory stands for each mountpoint. fd_dev answers for an fd opened
 * below there with the device of the mount the kernel would show at that
 * path (the last of the longest mountpoints holding it); the fakes keep the
 * kernel's userspace-freeze state per device: FIFREEZE of a frozen device
 * fails EBUSY, FITHAW of a thawed one EINVAL. The machines keep their
 * fixtures' major:minor numbers, so on a host whose own disk holding the
 * temp dir has one of them the confinement guard would refuse that mount:
 * fuzz_support_init() aborts saying so rather than fuzz a machine that
 * cannot freeze. No writers, no running-state command: nothing is spawned.
 *
 * At exit each process prints how many of its inputs froze something, and
 * with $QUIESCE_FUZZ_EXPECT_FROZEN=N exits 1 when fewer than N did: a run
 * whose balance check never saw a freeze proved nothing.
 */
#ifndef QUIESCE_TESTS_FUZZ_SUPPORT_H
#define QUIESCE_TESTS_FUZZ_SUPPORT_H

#include <glib.h>

#include "agent/engine/engine.h"

/* The synthetic machines. */
typedef enum {
    FUZZ_MACHINE_STACKS, /* recorded-qemu-stacks: LVM, MD RAID1, dm-crypt, LVM on
                          * crypt, a loop image, a bind alias, pseudo mounts;
                          * dynamic disks allowed, so a prepare freezes */
    FUZZ_MACHINE_LOOPS,  /* loop-in-loop: three dependency levels, "/" freezable;
                          * the default policy */
    FUZZ_MACHINE_COUNT,
} FuzzMachineKind;

typedef struct {
    guint window_seconds;          /* EngineConfig's; 0 = no watchdog */
    guint host_lost_grace_seconds; /* 0 = the window only */
    FuzzMachineKind machine;
    /* FIFREEZE fails (EIO) on one device of the machine, the first block
     * device in its mount table, so a freeze of the rest is rolled back */
    gboolean freeze_fails;
} FuzzEngineOptions;

/* What the fake ioctls saw during one input. The fakes run in the
 * caller's thread (ops.in_caller); fuzz-support.c still locks around them,
 * so that they stay right for a fuzzer that turns the worker threads on. */
typedef struct {
    FsFreezeOps ops;      /* the fakes, user_data = this struct */
    const struct FuzzMachine *machine;
    gboolean freeze_fails;
    GArray *frozen;         /* dev_t: devices frozen right now */
    guint freezes;          /* FIFREEZE that succeeded */
    guint thaws;            /* FITHAW that succeeded */
    guint thaws_not_frozen; /* FITHAW answered EINVAL (a sweep, a double thaw) */
    guint busy;             /* FIFREEZE answered EBUSY (already frozen) */
    guint faults;           /* FIFREEZE failed on purpose (freeze_fails) */
    guint notified_frozen;  /* EngineFrozenChanged(TRUE) */
    guint notified_thawed;  /* EngineFrozenChanged(FALSE) */
} FuzzFreezeCounts;

/* Once per process: logs below critical are dropped, critical aborts (a
 * g_return_if_fail() is a bug), the temp dir and the machines are made
 * (and removed at exit), and the exit report is registered. */
void fuzz_support_init(void);

/* <base>/quiesce-fuzz-PID-XXXXXX, its real path; base is
 * $QUIESCE_FUZZ_TMPDIR, else /dev/shm (tmpfs: the state file's fsync()s
 * cost nothing), else the temp dir. (transfer none) */
const char *fuzz_support_dir(void);

/* An engine configuration that cannot freeze anything real (see above):
 * state dir and confinement in the temp dir, the machine and fake ops of
 * options counting into counts (which must outlive the engine).
 * (transfer full) */
EngineConfig *fuzz_engine_config_new(FuzzFreezeCounts *counts, const FuzzEngineOptions *options);

/* engine_new() over fuzz_engine_config_new(), with counts told of
 * EngineFrozenChanged. Aborts when the recovery fails. (transfer full) */
Engine *fuzz_engine_new(FuzzFreezeCounts *counts, const FuzzEngineOptions *options);

/* The end of an input: engine_shutdown() (the agent stopping), then
 * aborts ("fuzz: not thawed after shutdown") unless nothing is frozen, no
 * session is left, no device of the machine is still frozen, every
 * successful fake FIFREEZE had its successful FITHAW and the frozen/thawed
 * notifications balance. Adds the input to the exit report, frees the
 * engine and runs what is left on the main context. */
void fuzz_engine_finish(Engine *engine, FuzzFreezeCounts *counts);

/* Dispatches what is ready on the default main context, without blocking. */
void fuzz_main_context_drain(void);

#endif
