/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * frozen-state-private.h — what the two halves of the frozen-state module
 * share: frozen-state.c (the file's format and its reading and writing) and
 * frozen-state-recover.c (what a start does with whatever it finds). Only
 * these two files include it.
 */
#ifndef QUIESCE_FSFREEZE_FROZEN_STATE_PRIVATE_H
#define QUIESCE_FSFREEZE_FROZEN_STATE_PRIVATE_H

#include "fsfreeze/frozen-state.h"

#define GROUP_SESSION "session"
#define STATE_MAX_BYTES (1024 * 1024)


/* <state_dir>/FROZEN_STATE_FILENAME (transfer full). */
char *frozen_state_path(const char *state_dir);

/* Reads the state file with a size cap, never following a link or
 * blocking on a FIFO; *out_keyfile = NULL when there is none. */
gboolean frozen_state_load_keyfile(const char *state_dir, GKeyFile **out_keyfile, GError **error);

/* Replaces the state file atomically (written, synced, renamed). */
gboolean frozen_state_save_keyfile(const char *state_dir, GKeyFile *keyfile, GError **error);

/* A live state as the file holds it (transfer full). */
GKeyFile *frozen_state_to_keyfile(const FrozenState *state);

/* Every [mount N] section that parses, in N order, whatever
 * [session] says; what did not parse is appended to damaged. */
GPtrArray *frozen_state_targets_from_groups(GKeyFile *keyfile, GString *damaged);

/* Whether the file is a broken record (broken=true). */
gboolean frozen_state_keyfile_is_broken(GKeyFile *keyfile);

/* Turns the file into the broken record of broken. */
void frozen_state_keyfile_set_broken(GKeyFile *keyfile, const FrozenStateBroken *broken);

/* The broken record the file holds (transfer full). */
FrozenStateBroken *frozen_state_broken_from_keyfile(GKeyFile *keyfile);

/* The marker: a second witness, beside the state file, that the
 * agent froze (created before the first FIFREEZE). */
gboolean frozen_state_marker_exists(const char *state_dir);
gboolean frozen_state_marker_set(const char *state_dir, GError **error);
gboolean frozen_state_marker_clear(const char *state_dir, GError **error);

#endif
