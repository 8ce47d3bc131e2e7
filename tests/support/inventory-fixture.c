/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * inventory-fixture.c — loads a fixture (synthesized or recorded) with the
 * same probe the daemon runs, rooted at the fixture instead of "/".
 */
#include "tests/support/inventory-fixture.h"

Inventory *inventory_fixture_load(const char *name)
{
    const char *base = g_getenv("QUIESCE_FIXTURES");
    g_autofree char *root = NULL;
    g_autoptr(InventoryOptions) options = NULL;
    g_autoptr(GError) error = NULL;
    Inventory *inventory;

    g_assert_nonnull(base);
    root = g_build_filename(base, name, NULL);
    options = inventory_options_new_for_root(root);
    inventory = inventory_probe(options, &error);
    g_assert_no_error(error);
    g_assert_nonnull(inventory);
    return inventory;
}

const InventoryMount *inventory_fixture_find(const Inventory *inventory, const char *path)
{
    const InventoryMount *mount = inventory_find_mount(inventory, path);
    if (!mount) {
        g_error("no mount at %s", path);
    }
    return mount;
}
