/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fake-vss.c — the VSS backend of the test build: follows VSS's documented
 * backup sequence (vsbackup.h's IVssBackupComponents) and refuses any call
 * out of order with VSS_E_BAD_STATE, printing "FAKE-VSS VIOLATION" on
 * stderr so the end-to-end test fails on it. It simulates the writers and
 * our provider: DoSnapshotSet runs on a thread that freezes the writers,
 * signals "frozen" and holds until "thaw", at most the hold limit.
 *
 * Scenario, from QUIESCE_FAKE_VSS (test build only), comma-separated:
 *   writer-failed=NAME     a writer in a failed state after PrepareForBackup
 *   writer-fail-freeze=NAME  a writer that fails its Freeze in DoSnapshotSet
 *   hold-ms=N              the hold limit (VSS's 10 s by default)
 *   prepare-fails          PrepareForBackup fails with VSS_E_WRITER_INFRASTRUCTURE
 *
 * QUIESCE_FAKE_VSS_LOG names a file the fake appends its calls to (one
 * "pid NAME" line each), so a test can see what a process it does not
 * watch did, e.g. the service thawing before it stopped.
 * Both are read through fake_setting() (environment, else the registry).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <windows.h>
#include <vsserror.h>

#include "tests/windows/fake-vss.h"

typedef enum {
    FAKE_NEW,
    FAKE_INITIALIZED,
    FAKE_METADATA,
    FAKE_SET_STARTED,
    FAKE_PREPARED,
    FAKE_SNAPSHOTTING,
    FAKE_SNAPSHOT_DONE,
    FAKE_ENDED,
} FakeState;

typedef struct {
    VssBackend base;
    FakeState state;
    bool context_set, backup_state_set;
    size_t n_volumes;
    char writer_failed[64], writer_fail_freeze[64];
    DWORD hold_ms;
    bool prepare_fails;
    HANDLE frozen, thaw, thread;
    volatile LONG timed_out;
    volatile LONG status; /* DoSnapshotSet's */
    VSS_WRITER_STATE freeze_writer_state;
} Fake;

static void trace(const char *call)
{
    const char *path = fake_setting("QUIESCE_FAKE_VSS_LOG");
    FILE *log = path ? fopen(path, "ab") : NULL;

    if (log) {
        fprintf(log, "%lu %s\n", GetCurrentProcessId(), call);
        fclose(log);
    }
}

static HRESULT violation(Fake *f, const char *call)
{
    char line[160];

    snprintf(line, sizeof(line), "VIOLATION %s", call);
    trace(line);
    fprintf(stderr, "FAKE-VSS VIOLATION: %s in state %d\n", call, (int)f->state);
    fflush(stderr);
    return VSS_E_BAD_STATE;
}

#define REQUIRE(cond, call)                                                                     \
    do {                                                                                        \
        if (!(cond)) {                                                                          \
            return violation(f, call);                                                          \
        }                                                                                       \
    } while (0)

static HRESULT fake_initialize(VssBackend *b)
{
    Fake *f = (Fake *)b;
    REQUIRE(f->state == FAKE_NEW, "InitializeForBackup");
    f->state = FAKE_INITIALIZED;
    return S_OK;
}

static HRESULT fake_set_context(VssBackend *b, LONG context)
{
    Fake *f = (Fake *)b;
    REQUIRE(f->state == FAKE_INITIALIZED && !f->backup_state_set, "SetContext");
    if (context & VSS_VOLSNAP_ATTR_TRANSPORTABLE) {
        return VSS_E_UNSUPPORTED_CONTEXT; /* as a client edition answers */
    }
    f->context_set = true;
    return S_OK;
}

static HRESULT fake_set_backup_state(VssBackend *b, VSS_BACKUP_TYPE type)
{
    Fake *f = (Fake *)b;
    REQUIRE(f->state == FAKE_INITIALIZED && f->context_set, "SetBackupState");
    /* Copy-only unless configured: a full backup lets writers truncate logs. */
    REQUIRE(type == VSS_BT_COPY || fake_setting("QUIESCE_FAKE_EXPECT_FULL"), "SetBackupState(type)");
    f->backup_state_set = true;
    return S_OK;
}

static HRESULT fake_gather_metadata(VssBackend *b)
{
    Fake *f = (Fake *)b;
    REQUIRE(f->state == FAKE_INITIALIZED && f->backup_state_set, "GatherWriterMetadata");
    f->state = FAKE_METADATA;
    return S_OK;
}

static HRESULT fake_start_set(VssBackend *b, GUID *set_id)
{
    Fake *f = (Fake *)b;
    REQUIRE(f->state == FAKE_METADATA, "StartSnapshotSet");
    CoCreateGuid(set_id);
    f->state = FAKE_SET_STARTED;
    return S_OK;
}

static HRESULT fake_add(VssBackend *b, const wchar_t *volume)
{
    Fake *f = (Fake *)b;
    size_t len = wcslen(volume);
    REQUIRE(f->state == FAKE_SET_STARTED, "AddToSnapshotSet");
    /* VSS wants the volume name with its trailing backslash. */
    REQUIRE(len > 0 && volume[len - 1] == L'\\', "AddToSnapshotSet(name)");
    f->n_volumes++;
    return S_OK;
}

static HRESULT fake_prepare(VssBackend *b)
{
    Fake *f = (Fake *)b;
    REQUIRE(f->state == FAKE_SET_STARTED && f->n_volumes > 0, "PrepareForBackup");
    if (f->prepare_fails) {
        return VSS_E_WRITER_INFRASTRUCTURE;
    }
    f->state = FAKE_PREPARED;
    return S_OK;
}

static HRESULT fake_writer_status(VssBackend *b, VssWriterInfo *out, size_t max, size_t *n)
{
    Fake *f = (Fake *)b;
    REQUIRE(f->state >= FAKE_METADATA && f->state != FAKE_ENDED, "GatherWriterStatus");
    *n = 0;
    snprintf(out[*n].name, sizeof(out[0].name), "System Writer");
    out[*n].state = VSS_WS_STABLE;
    out[(*n)++].failure = S_OK;
    if (f->writer_failed[0] && max > *n) {
        snprintf(out[*n].name, sizeof(out[0].name), "%s", f->writer_failed);
        out[*n].state = VSS_WS_FAILED_AT_PREPARE_BACKUP;
        out[(*n)++].failure = VSS_E_WRITERERROR_RETRYABLE;
    }
    if (f->writer_fail_freeze[0] && f->state >= FAKE_SNAPSHOTTING && max > *n) {
        snprintf(out[*n].name, sizeof(out[0].name), "%s", f->writer_fail_freeze);
        out[*n].state = VSS_WS_FAILED_AT_FREEZE;
        out[(*n)++].failure = VSS_E_WRITERERROR_TIMEOUT;
    }
    return S_OK;
}

/* VSS's side of DoSnapshotSet: writers freeze, then our provider holds. */
static DWORD WINAPI snapshot_thread(void *opaque)
{
    Fake *f = opaque;

    if (f->writer_fail_freeze[0]) {
        InterlockedExchange(&f->status, VSS_E_WRITERERROR_TIMEOUT);
        return 0;
    }
    SetEvent(f->frozen);
    if (WaitForSingleObject(f->thaw, f->hold_ms) != WAIT_OBJECT_0) {
        InterlockedExchange(&f->timed_out, 1);
        InterlockedExchange(&f->status, VSS_E_HOLD_WRITES_TIMEOUT);
        return 0;
    }
    InterlockedExchange(&f->status, VSS_S_ASYNC_FINISHED);
    return 0;
}

static HRESULT fake_do_snapshot(VssBackend *b)
{
    Fake *f = (Fake *)b;
    REQUIRE(f->state == FAKE_PREPARED, "DoSnapshotSet");
    f->state = FAKE_SNAPSHOTTING;
    f->status = VSS_S_ASYNC_PENDING;
    trace("DoSnapshotSet");
    f->thread = CreateThread(NULL, 0, snapshot_thread, f, 0, NULL);
    return S_OK;
}

static HRESULT fake_snapshot_status(VssBackend *b)
{
    Fake *f = (Fake *)b;
    return f->state >= FAKE_SNAPSHOTTING ? (HRESULT)f->status : violation(f, "QueryStatus");
}

static bool fake_wait_frozen(VssBackend *b, DWORD ms)
{
    return WaitForSingleObject(((Fake *)b)->frozen, ms) == WAIT_OBJECT_0;
}

static void fake_release(VssBackend *b)
{
    trace("thaw");
    SetEvent(((Fake *)b)->thaw);
}

static bool fake_timed_out(VssBackend *b)
{
    return ((Fake *)b)->timed_out != 0;
}

static HRESULT fake_wait_snapshot(VssBackend *b, DWORD ms)
{
    Fake *f = (Fake *)b;
    if (f->state < FAKE_SNAPSHOTTING) {
        return violation(f, "IVssAsync::Wait");
    }
    WaitForSingleObject(f->thread, ms);
    if (f->status != VSS_S_ASYNC_PENDING) {
        f->state = FAKE_SNAPSHOT_DONE;
    }
    return f->status;
}

static HRESULT fake_complete(VssBackend *b)
{
    Fake *f = (Fake *)b;
    REQUIRE(f->state == FAKE_SNAPSHOT_DONE && f->status == VSS_S_ASYNC_FINISHED, "BackupComplete");
    trace("BackupComplete");
    f->state = FAKE_ENDED;
    return S_OK;
}

static HRESULT fake_abort(VssBackend *b)
{
    Fake *f = (Fake *)b;
    REQUIRE(f->state >= FAKE_INITIALIZED && f->state != FAKE_ENDED, "AbortBackup");
    /* Aborting while the provider holds is a requester bug: it must let go first. */
    REQUIRE(f->state != FAKE_SNAPSHOTTING || f->status != VSS_S_ASYNC_PENDING,
            "AbortBackup(while holding)");
    trace("AbortBackup");
    f->state = FAKE_ENDED;
    return S_OK;
}

static void fake_free(VssBackend *b)
{
    Fake *f = (Fake *)b;
    if (f->thread) {
        SetEvent(f->thaw);
        WaitForSingleObject(f->thread, INFINITE);
        CloseHandle(f->thread);
    }
    if (f->state != FAKE_ENDED && f->state != FAKE_NEW) {
        violation(f, "Release without BackupComplete or AbortBackup");
    }
    CloseHandle(f->frozen);
    CloseHandle(f->thaw);
    free(f);
}

static const VssBackendOps fake_ops = {
    fake_initialize,  fake_set_context,     fake_set_backup_state, fake_gather_metadata,
    fake_start_set,   fake_add,             fake_prepare,          fake_writer_status,
    fake_do_snapshot, fake_snapshot_status, fake_wait_frozen,      fake_release,
    fake_timed_out,   fake_wait_snapshot,   fake_complete,         fake_abort,
    fake_free,
};

static void option(const char *spec, const char *key, char *out, size_t size)
{
    const char *at = spec ? strstr(spec, key) : NULL;
    size_t len;

    out[0] = '\0';
    if (!at) {
        return;
    }
    at += strlen(key);
    len = strcspn(at, ",");
    snprintf(out, size, "%.*s", (int)len, at);
}

VssBackend *fake_vss_new(const char *scenario)
{
    Fake *f = calloc(1, sizeof(*f));
    char hold[16];

    f->base.ops = &fake_ops;
    f->frozen = CreateEventW(NULL, TRUE, FALSE, NULL);
    f->thaw = CreateEventW(NULL, TRUE, FALSE, NULL);
    option(scenario, "writer-failed=", f->writer_failed, sizeof(f->writer_failed));
    option(scenario, "writer-fail-freeze=", f->writer_fail_freeze, sizeof(f->writer_fail_freeze));
    option(scenario, "hold-ms=", hold, sizeof(hold));
    f->hold_ms = hold[0] ? (DWORD)atoi(hold) : VSS_HOLD_LIMIT_MS;
    f->prepare_fails = scenario && strstr(scenario, "prepare-fails");
    return &f->base;
}

VssBackend *vss_backend_new(ProtoError **error)
{
    return fake_vss_new(fake_setting("QUIESCE_FAKE_VSS"));
}

const char *fake_setting(const char *name)
{
    static char values[8][512]; /* a few settings, each read into its own slot */
    static const char *names[8];
    const char *value = getenv(name);
    size_t slot = 0;
    DWORD size;

    if (value) {
        return value;
    }
    while (slot < 8 && names[slot] && strcmp(names[slot], name) != 0) {
        slot++;
    }
    if (slot == 8) {
        return NULL;
    }
    names[slot] = name;
    size = sizeof(values[slot]);
    if (RegGetValueA(HKEY_LOCAL_MACHINE, "Software\\quiesce-test", name, RRF_RT_REG_SZ, NULL,
                     values[slot], &size) != ERROR_SUCCESS) {
        return NULL;
    }
    return values[slot];
}
