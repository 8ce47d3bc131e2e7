/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * signature-probe.h — reads the filesystem signature of a block device with
 * libblkid's low-level probe API.
 *
 * Only blkid_new_probe_from_filename() + blkid_do_safeprobe(): the blkid
 * cache (blkid_get_cache and friends) would write /run/blkid/blkid.tab and
 * could return stale answers. The device is opened read-only and closed
 * before returning. This runs during the probe phase only, never between the
 * first FIFREEZE and the last FITHAW.
 */
#ifndef QUIESCE_FSFREEZE_SIGNATURE_PROBE_H
#define QUIESCE_FSFREEZE_SIGNATURE_PROBE_H

#include <glib.h>

typedef struct {
    char *type;  /* owned; e.g. "ext4", "crypto_LUKS", "LVM2_member" */
    char *uuid;  /* owned; NULL when the signature has none */
    char *label; /* owned; NULL when the signature has none */
} Signature;

void signature_free(Signature *signature);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Signature, signature_free)

/* Probes the device node at dev_path for a superblock. Returns NULL with
 * *error unset when the device carries no recognised signature (or two
 * ambiguous ones), and NULL with *error set when it cannot be opened or
 * probed. (transfer full) */
Signature *signature_probe(const char *dev_path, GError **error);

#endif
