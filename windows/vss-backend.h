/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vss-backend.h — every VSS call the agent makes goes through this table, so
 * that the tests can put a fake in its place that follows VSS's documented
 * sequence and states (tests/windows/fake-vss.c); wine has no VSS.
 *
 * One backend object is one IVssBackupComponents: it lives for one freeze
 * attempt, from InitializeForBackup to BackupComplete or AbortBackup. The
 * calls that are asynchronous in VSS (an IVssAsync) are waited for here,
 * with a bound, except DoSnapshotSet: that one runs while the agent answers
 * the host, and is watched through snapshot_status().
 *
 * The hold: our provider (windows/provider/) is called in CommitSnapshots
 * while VSS holds every write of the set; it signals "frozen", waits for
 * "thaw" and returns, never later than VSS_PROVIDER_HOLD_MS. The three
 * named events of that handshake are also behind this table.
 */
#ifndef QUIESCE_VSS_BACKEND_H
#define QUIESCE_VSS_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <windows.h>
#include <vss.h>

#include "protocol/proto-error.h"

/* VSS cancels the flush-and-hold after 10 s (docs/hyperv-reference.md §7);
 * the provider lets go one second earlier, and the agent's own watchdog
 * (engine.c) one second before that, so each bound is met with a margin. */
#define VSS_HOLD_LIMIT_MS 10000
#define VSS_PROVIDER_HOLD_MS 9000
#define VSS_AGENT_HOLD_MS 8000
/* Writers get 60 s between Freeze and Thaw (dwTimeoutFreeze); the agent
 * waits no longer than that for the provider's "frozen". */
#define VSS_WRITER_WINDOW_MS 60000
/* Bound for the other asynchronous calls (metadata, prepare, complete). */
#define VSS_ASYNC_LIMIT_MS 120000

/* Our provider's ids (windows/provider/provider.c registers them). */
extern const GUID vss_quiesce_provider_id;
extern const CLSID vss_quiesce_provider_clsid;

/* One writer as GatherWriterStatus reports it. */
typedef struct {
    char name[128];        /* UTF-8 */
    VSS_WRITER_STATE state;
    HRESULT failure;       /* hrWriterFailure */
} VssWriterInfo;

typedef struct VssBackend VssBackend;

typedef struct {
    HRESULT (*initialize_for_backup)(VssBackend *backend);
    HRESULT (*set_context)(VssBackend *backend, LONG context);
    HRESULT (*set_backup_state)(VssBackend *backend, VSS_BACKUP_TYPE type);
    HRESULT (*gather_writer_metadata)(VssBackend *backend);
    HRESULT (*start_snapshot_set)(VssBackend *backend, GUID *set_id);
    HRESULT (*add_to_snapshot_set)(VssBackend *backend, const wchar_t *volume);
    HRESULT (*prepare_for_backup)(VssBackend *backend);
    /* GatherWriterStatus, then the writers into out (at most max); *n set. */
    HRESULT (*gather_writer_status)(VssBackend *backend, VssWriterInfo *out, size_t max,
                                    size_t *n);
    /* DoSnapshotSet: starts it; snapshot_status() is its IVssAsync's
     * QueryStatus (VSS_S_ASYNC_PENDING while the provider holds). */
    HRESULT (*do_snapshot_set)(VssBackend *backend);
    HRESULT (*snapshot_status)(VssBackend *backend);
    /* The provider's handshake: wait up to ms for "frozen" (true when it
     * came), tell it to let go, and whether it gave up on its own. */
    bool (*wait_frozen)(VssBackend *backend, DWORD ms);
    void (*release_hold)(VssBackend *backend);
    bool (*hold_timed_out)(VssBackend *backend);
    /* Waits up to ms for DoSnapshotSet to end; returns its status. */
    HRESULT (*wait_snapshot)(VssBackend *backend, DWORD ms);
    HRESULT (*backup_complete)(VssBackend *backend);
    HRESULT (*abort_backup)(VssBackend *backend);
    void (*free)(VssBackend *backend);
} VssBackendOps;

struct VssBackend {
    const VssBackendOps *ops;
};

/* Makes the backend of one attempt; the exe links the real one
 * (vss-backend-real.c), the test build the fake. (transfer full) */
typedef VssBackend *(*VssBackendFactory)(ProtoError **error);

/* The factory the program links: vss-backend-real.c in quiesced.exe,
 * tests/windows/fake-vss.c in the test build. Never a runtime switch. */
VssBackend *vss_backend_new(ProtoError **error);

/* A short name for an HRESULT that VSS documents (VSS_E_*), or NULL. */
const char *vss_hresult_name(HRESULT hr);
const char *vss_writer_state_name(VSS_WRITER_STATE state);

#endif
