/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * engine-inventory.c — the inventory kept between requests, so that a
 * freeze does not walk sysfs for every disk before its first FIFREEZE
 * (docs/design.md §7). It is only reused when nothing it was built from can
 * have changed:
 *   - /proc/self/mountinfo is read again, whole, and must be byte for byte
 *     the text the inventory was built from: same mounts, same mount ids
 *     (a remount or a new mount on the same path gets a new id), same
 *     devices, same options;
 *   - no block-device uevent arrived since (the kernel's uevent netlink
 *     socket, read at each request): a dm table reload, a loop device
 *     re-pointed, an MD change, a disk added or removed all send one; a
 *     receive queue that overflowed counts as a change.
 * Without the uevent socket nothing is reused. The freezer still opens
 * each mountpoint and checks its st_dev before the first FIFREEZE, so a
 * stale entry is caught there too. Running state and writers' trust are
 * never cached (engine-probe.c asks them every time). Every reader of the
 * mounts goes through it: the probes of check, prepare and freeze, the
 * thaw sweep's and restart recovery's list of what could be frozen
 * (engine_probe_recovery_targets()), and guest-get-fsinfo
 * (engine_get_inventory()), so none of them walks sysfs again for a
 * machine that did not change.
 */
#include "agent/engine/engine-private.h"

#include <errno.h>
#include <linux/netlink.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fsfreeze/mountinfo.h"

struct EngineInventoryCache {
    InventoryOptions *options; /* where the mounts are read (the tests' seam) */
    Inventory *inventory; /* NULL until the first probe, or invalidated */
    char *mountinfo;      /* the text it was built from */
    int uevent_fd;        /* -1: no uevents, nothing is reused */
};

EngineInventoryCache *engine_inventory_cache_new(const EngineConfig *config)
{
    EngineInventoryCache *cache = g_new0(EngineInventoryCache, 1);
    struct sockaddr_nl addr = { .nl_family = AF_NETLINK, .nl_groups = 1 /* kernel events */ };
    int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
                    NETLINK_KOBJECT_UEVENT);

    if (fd >= 0 && bind(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
        close(fd);
        fd = -1;
    }
    cache->uevent_fd = fd;
    cache->options = engine_config_inventory_options(config);
    return cache;
}

void engine_inventory_cache_free(EngineInventoryCache *cache)
{
    if (!cache) {
        return;
    }
    if (cache->uevent_fd >= 0) {
        close(cache->uevent_fd);
    }
    g_clear_pointer(&cache->inventory, inventory_unref);
    inventory_options_free(cache->options);
    g_free(cache->mountinfo);
    g_free(cache);
}

/* Whether a uevent record ("ACTION@DEVPATH\0KEY=VALUE\0...") is a block device's. */
static gboolean uevent_is_block(const char *record, gssize len)
{
    for (gssize at = 0; at < len; at += (gssize)strnlen(record + at, (size_t)(len - at)) + 1) {
        if (strncmp(record + at, "SUBSYSTEM=block", (size_t)MIN(len - at, 16)) == 0) {
            return TRUE;
        }
    }
    return FALSE;
}

/* Reads every queued uevent; TRUE when one was a block device's (or the
 * queue overflowed and some were lost). */
static gboolean uevents_changed_block(EngineInventoryCache *cache)
{
    char buf[8192];
    gboolean changed = FALSE;

    for (;;) {
        gssize n = recv(cache->uevent_fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return changed || errno != EAGAIN; /* ENOBUFS: events were lost */
        }
        buf[n] = '\0';
        changed |= uevent_is_block(buf, n);
    }
}

Inventory *engine_inventory_get(EngineInventoryCache *cache, gboolean *out_cached,
                                GError **error)
{
    g_autofree char *text = NULL;
    GPtrArray *entries;
    gboolean changed;

    *out_cached = FALSE;
    /* Drained before reading the mount table: an event that comes in
     * between is seen next time, never lost behind a stale table. */
    changed = cache->uevent_fd < 0 || uevents_changed_block(cache);
    if (!g_file_get_contents(cache->options->mountinfo_path, &text, NULL, error)) {
        return NULL;
    }
    if (!changed && cache->inventory && g_str_equal(text, cache->mountinfo)) {
        *out_cached = TRUE;
        return inventory_ref(cache->inventory);
    }
    g_clear_pointer(&cache->inventory, inventory_unref);
    g_clear_pointer(&cache->mountinfo, g_free);
    entries = mountinfo_parse(text, error);
    if (!entries) {
        return NULL;
    }
    cache->inventory = inventory_new_from_entries(cache->options, entries);
    cache->mountinfo = g_steal_pointer(&text);
    return inventory_ref(cache->inventory);
}

void engine_inventory_invalidate(EngineInventoryCache *cache)
{
    if (cache) {
        g_clear_pointer(&cache->inventory, inventory_unref);
    }
}
