/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz-support.h — what the libFuzzer targets that reach the agent share:
 * a private temp dir, an engine that can never freeze this machine, quiet
 * logs, and the checks run after every input.
 *
 * Safety: every engine built here has FIFREEZE/FITHAW replaced by counting
 * fakes (EngineConfig.ops; fsfreeze/freezer.c sends every ioctl through
 * FsFrozenSet.ops, which is this table whenever it is non-NULL) AND is
 * confined to an empty directory of its own (policy->confine): the freezer
 * refuses, before any ioctl, every target that is not a separate filesystem
 * mounted below it, and the fuzzers mount nothing. No writers, no
 * running-state command: nothing is spawned.
 */
#ifndef QUIESCE_TESTS_FUZZ_SUPPORT_H
#define QUIESCE_TESTS_FUZZ_SUPPORT_H

#include <glib.h>

#include "agent/engine/engine.h"

/* What the fake ioctls saw during one input. */
typedef struct {
    FsFreezeOps ops;      /* the fakes, user_data = this struct */
    guint freezes;
    guint thaws;
    guint frozen;          /* freezes - thaws, never negative */
    guint notified_frozen; /* EngineFrozenChanged(TRUE) */
    guint notified_thawed; /* EngineFrozenChanged(FALSE) */
} FuzzFreezeCounts;

/* Once per process: logs below critical are dropped, critical aborts (a
 * g_return_if_fail() is a bug), and the temp dir is made (and removed at
 * exit). */
void fuzz_support_init(void);

/* <tmp>/quiesce-fuzz-PID-XXXXXX (transfer none) */
const char *fuzz_support_dir(void);

/* An engine configuration that cannot freeze anything real (see above):
 * state dir and confinement in the temp dir, fake ops counting into
 * counts (which must outlive the engine). (transfer full) */
EngineConfig *fuzz_engine_config_new(FuzzFreezeCounts *counts, guint window_seconds,
                                     guint host_lost_grace_seconds);

/* engine_new() over fuzz_engine_config_new(), with counts told of
 * EngineFrozenChanged. Aborts when the recovery fails. (transfer full) */
Engine *fuzz_engine_new(FuzzFreezeCounts *counts, guint window_seconds,
                        guint host_lost_grace_seconds);

/* The end of an input: engine_shutdown() (the agent stopping), then
 * aborts unless nothing is frozen, no session is left, every fake
 * FIFREEZE had its FITHAW and the frozen/thawed notifications balance.
 * Frees the engine and runs what is left on the main context. */
void fuzz_engine_finish(Engine *engine, const FuzzFreezeCounts *counts);

/* Dispatches what is ready on the default main context, without blocking. */
void fuzz_main_context_drain(void);

#endif
