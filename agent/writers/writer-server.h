/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * writer-server.h — the socket writers listen on: accepting, admitting by
 * peer credentials, the hello handshake, and the registry of connected
 * writers (client/quiesce-writer.h has the wire protocol).
 *
 * Who may connect: root, the agent's own uid, and members of one
 * configured group (primary group from SO_PEERCRED, supplementary groups
 * from SO_PEERGROUPS). Everyone else gets "refused not allowed" and is
 * disconnected. The socket file is also mode 0660 with that group (0600
 * without one), but permissions are only the first fence: the credential
 * check is what counts.
 *
 * Limits on what peers control: at most WRITER_SERVER_MAX_PENDING
 * connections awaiting their hello (each closed after
 * QUIESCE_WRITER_HELLO_TIMEOUT_MS), at most WRITER_SERVER_MAX_WRITERS
 * registered writers, unique names, and the line limits of writer-conn.
 *
 * Everything here runs on the main context given at creation. Events that
 * happen there (registrations, refusals, hang-ups) have no caller to
 * report to, and may happen while filesystems are frozen, so they are
 * appended to the held log (a MemLog) that the agent flushes after thaw.
 */
#ifndef QUIESCE_AGENT_WRITERS_WRITER_SERVER_H
#define QUIESCE_AGENT_WRITERS_WRITER_SERVER_H

#include <glib.h>
#include <sys/types.h>

#include "agent/writers/writer-conn.h"
#include "common/memlog.h"

#define WRITER_SERVER_MAX_PENDING 16
#define WRITER_SERVER_MAX_WRITERS 64

typedef struct WriterServer WriterServer;

/*
 * Creates the socket at @path (its directory is created 0755 if missing; a
 * stale socket left by a dead agent is replaced, a live one is an error:
 * QUIESCE_ERROR_BUSY) and starts listening on @context.
 * @group: NULL, or the group whose members may connect (an unknown group is
 *   QUIESCE_ERROR_INVALID_ARGUMENT).
 * @log: (transfer none) must outlive the server.
 * Returns: (transfer full) the server, or NULL with @error set.
 */
WriterServer *writer_server_new(const char *path, const char *group, GMainContext *context,
                                MemLog *log, GError **error);
/* Closes every connection (writers see a hang-up) and removes the socket
 * file if it is still the one we created. */
void writer_server_free(WriterServer *server);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(WriterServer, writer_server_free)

/* (transfer none) */
const char *writer_server_get_path(const WriterServer *server);

/* (transfer full) The registered writers, in registration order, each a
 * new reference (the array's free func unrefs). */
GPtrArray *writer_server_dup_writers(WriterServer *server);
guint writer_server_get_n_writers(const WriterServer *server);

#endif
