/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * engine-fixture.h — what the daemon's end-to-end tests (test-engine.c,
 * test-engine-session.c) share: ext4, xfs and btrfs loop images (with a
 * subvolume and a bind mount of ext4) in a /var/tmp dir of their own, the
 * real quiesced confined to that dir, and helpers to talk to it and to tell
 * whether a filesystem is frozen (a dd with fsync blocks).
 *
 * Root only: engine_fixture_init() says when to skip. Every agent gets
 * --confine=<test dir>, so no request can reach a filesystem of the machine
 * running the tests.
 */
#ifndef QUIESCE_TESTS_ENGINE_FIXTURE_H
#define QUIESCE_TESTS_ENGINE_FIXTURE_H

#include <glib.h>

#include "tests/support/loopfs.h"
#include "tests/support/agent-process.h"
#include "tests/support/test-run.h"


typedef struct {
    char *dir;
    LoopFsGuard *guard;
    LoopFs *ext4; /* borrowed from guard */
    LoopFs *xfs;
    LoopFs *btrfs;
    char *subvol_mount;
    char *bind_mount;
    AgentProcess *agent;
} Fixture;

/* $QUIESCED and $QUIESCE_SEAM_FIFREEZE_FAIL (the LD_PRELOAD seam). */
extern const char *engine_fixture_quiesced;
extern const char *engine_fixture_seam;

/* g_test_init() with non-fatal assertions (a failed check must still reach
 * the teardown that unmounts); when the tools or root are missing, the
 * exit code quiesce_test_exit_missing() gives (77, or 1 when required),
 * else 0. */
int engine_fixture_init(int *argc, char ***argv);
void fixture_set_up(Fixture *f, gconstpointer data);
void fixture_tear_down(Fixture *f, gconstpointer data);
#define ENGINE_FIXTURE_ADD(path, fn)                                                              \
    QUIESCE_TEST_ADD(path, Fixture, NULL, fixture_set_up, fn, fixture_tear_down)

/* The confined agent; state_dir, config (text) and envp may be NULL. */
AgentProcess *start_agent(Fixture *f, const char *state_dir, const char *config,
                          const char *const *envp);
/* One request on a connection of its own, closed after the reply. */
char *ask(AgentProcess *agent, const char *request);
/* The string value of "key" in a reply (a test helper, not a parser). */
char *reply_string(const char *reply, const char *key);
/* guest-snapshot-post for the session a prepare reply names. */
char *post_request_for(const char *prepare);
/* A writer script 10-app with body in the test dir, and the config text
 * that uses it with timeout_s. */
char *writers_config(Fixture *f, const char *body, guint timeout_s);

/* loopfs_start_write() on fs finishes within 5 s (else it is killed). */
gboolean write_completes(const LoopFs *fs);
/* ext4, xfs, btrfs for i = 0, 1, 2. */
const LoopFs *all_fs(const Fixture *f, int i);
void assert_all_writable(const Fixture *f);

#endif
