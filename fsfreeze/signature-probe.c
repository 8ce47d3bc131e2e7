/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * signature-probe.c — libblkid low-level superblock probing; see the header.
 */
#include "fsfreeze/signature-probe.h"

#include "common/quiesce-error.h"

#include <blkid.h>
#include <errno.h>
#include <string.h>

static void probe_free(blkid_probe probe)
{
    if (probe) {
        blkid_free_probe(probe);
    }
}

typedef struct blkid_struct_probe BlkidProbe;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(BlkidProbe, probe_free)

void signature_free(Signature *signature)
{
    if (!signature) {
        return;
    }
    g_free(signature->type);
    g_free(signature->uuid);
    g_free(signature->label);
    g_free(signature);
}

static char *probe_lookup(blkid_probe probe, const char *name)
{
    const char *value = NULL;

    if (blkid_probe_lookup_value(probe, name, &value, NULL) != 0 || !value) {
        return NULL;
    }
    return g_strdup(value);
}

Signature *signature_probe(const char *dev_path, GError **error)
{
    g_autoptr(BlkidProbe) probe = NULL;
    g_autoptr(Signature) signature = NULL;
    int rc;

    errno = 0;
    probe = blkid_new_probe_from_filename(dev_path);
    if (!probe) {
        int saved = errno ? errno : EIO;
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED, "cannot probe %s: %s", dev_path,
                    g_strerror(saved));
        return NULL;
    }
    blkid_probe_enable_superblocks(probe, 1);
    blkid_probe_set_superblocks_flags(probe, BLKID_SUBLKS_TYPE | BLKID_SUBLKS_UUID |
                                                 BLKID_SUBLKS_LABEL);
    blkid_probe_enable_partitions(probe, 0);
    rc = blkid_do_safeprobe(probe);
    if (rc == -1) {
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED, "probing %s failed", dev_path);
        return NULL;
    }
    if (rc != 0) {
        return NULL; /* 1: nothing found, -2: ambiguous signatures */
    }
    signature = g_new0(Signature, 1);
    signature->type = probe_lookup(probe, "TYPE");
    signature->uuid = probe_lookup(probe, "UUID");
    signature->label = probe_lookup(probe, "LABEL");
    if (!signature->type) {
        return NULL;
    }
    return g_steal_pointer(&signature);
}
