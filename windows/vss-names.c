/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vss-names.c — our provider's GUIDs and the names of VSS's codes and writer
 * states, for messages a person reads (vsserror.h and vss.h's values).
 */
#include "windows/vss-backend.h"

#include <vsserror.h>

/* Ours, not qemu-ga's: both providers may be registered at once, and the
 * snapshot set names ours explicitly (AddToSnapshotSet's provider id). */
const GUID vss_quiesce_provider_id = { 0x5b0c1f2e, 0x9d4a, 0x4c61,
                                       { 0x8e, 0x2f, 0x3a, 0x71, 0x44, 0xd0, 0x9b, 0x16 } };
const CLSID vss_quiesce_provider_clsid = { 0x7d3e8a51, 0x2c6b, 0x4f08,
                                           { 0xa4, 0x9e, 0x15, 0xc2, 0x6f, 0x8b, 0x30, 0xd7 } };

const char *vss_hresult_name(HRESULT hr)
{
    static const struct {
        HRESULT hr;
        const char *name;
    } names[] = {
        { VSS_E_BAD_STATE, "VSS_E_BAD_STATE" },
        { VSS_E_UNEXPECTED, "VSS_E_UNEXPECTED" },
        { VSS_E_PROVIDER_VETO, "VSS_E_PROVIDER_VETO" },
        { VSS_E_OBJECT_NOT_FOUND, "VSS_E_OBJECT_NOT_FOUND" },
        { VSS_E_VOLUME_NOT_SUPPORTED, "VSS_E_VOLUME_NOT_SUPPORTED" },
        { VSS_E_VOLUME_NOT_SUPPORTED_BY_PROVIDER, "VSS_E_VOLUME_NOT_SUPPORTED_BY_PROVIDER" },
        { VSS_E_UNEXPECTED_PROVIDER_ERROR, "VSS_E_UNEXPECTED_PROVIDER_ERROR" },
        { VSS_E_FLUSH_WRITES_TIMEOUT, "VSS_E_FLUSH_WRITES_TIMEOUT" },
        { VSS_E_HOLD_WRITES_TIMEOUT, "VSS_E_HOLD_WRITES_TIMEOUT" },
        { VSS_E_UNEXPECTED_WRITER_ERROR, "VSS_E_UNEXPECTED_WRITER_ERROR" },
        { VSS_E_SNAPSHOT_SET_IN_PROGRESS, "VSS_E_SNAPSHOT_SET_IN_PROGRESS" },
        { VSS_E_WRITER_INFRASTRUCTURE, "VSS_E_WRITER_INFRASTRUCTURE" },
        { VSS_E_WRITER_NOT_RESPONDING, "VSS_E_WRITER_NOT_RESPONDING" },
        { VSS_E_UNSUPPORTED_CONTEXT, "VSS_E_UNSUPPORTED_CONTEXT" },
        { VSS_E_PROVIDER_NOT_REGISTERED, "VSS_E_PROVIDER_NOT_REGISTERED" },
        { VSS_E_WRITERERROR_INCONSISTENTSNAPSHOT, "VSS_E_WRITERERROR_INCONSISTENTSNAPSHOT" },
        { VSS_E_WRITERERROR_OUTOFRESOURCES, "VSS_E_WRITERERROR_OUTOFRESOURCES" },
        { VSS_E_WRITERERROR_TIMEOUT, "VSS_E_WRITERERROR_TIMEOUT" },
        { VSS_E_WRITERERROR_RETRYABLE, "VSS_E_WRITERERROR_RETRYABLE" },
        { VSS_E_WRITERERROR_NONRETRYABLE, "VSS_E_WRITERERROR_NONRETRYABLE" },
    };

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (names[i].hr == hr) {
            return names[i].name;
        }
    }
    return NULL;
}

const char *vss_writer_state_name(VSS_WRITER_STATE state)
{
    switch (state) {
    case VSS_WS_STABLE:
        return "stable";
    case VSS_WS_WAITING_FOR_FREEZE:
        return "waiting for freeze";
    case VSS_WS_WAITING_FOR_THAW:
        return "waiting for thaw";
    case VSS_WS_WAITING_FOR_POST_SNAPSHOT:
        return "waiting for post-snapshot";
    case VSS_WS_WAITING_FOR_BACKUP_COMPLETE:
        return "waiting for backup complete";
    case VSS_WS_FAILED_AT_IDENTIFY:
        return "failed at identify";
    case VSS_WS_FAILED_AT_PREPARE_BACKUP:
        return "failed at prepare backup";
    case VSS_WS_FAILED_AT_PREPARE_SNAPSHOT:
        return "failed at prepare snapshot";
    case VSS_WS_FAILED_AT_FREEZE:
        return "failed at freeze";
    case VSS_WS_FAILED_AT_THAW:
        return "failed at thaw";
    case VSS_WS_FAILED_AT_POST_SNAPSHOT:
        return "failed at post-snapshot";
    case VSS_WS_FAILED_AT_BACKUP_COMPLETE:
        return "failed at backup complete";
    case VSS_WS_FAILED_AT_PRE_RESTORE:
        return "failed at pre-restore";
    case VSS_WS_FAILED_AT_POST_RESTORE:
        return "failed at post-restore";
    case VSS_WS_FAILED_AT_BACKUPSHUTDOWN:
        return "failed at backup shutdown";
    case VSS_WS_UNKNOWN:
    case VSS_WS_COUNT:
        break;
    }
    return "unknown";
}
