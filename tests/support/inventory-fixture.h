/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * inventory-fixture.h — the inventory of one machine, synthesized or recorded,
 * under tests/fixtures/<name>/ (mountinfo and a sysfs tree), as the unit
 * tests of fsfreeze/ read them. $QUIESCE_FIXTURES names the fixtures dir
 * (ctest sets it).
 */
#ifndef QUIESCE_TESTS_SUPPORT_INVENTORY_FIXTURE_H
#define QUIESCE_TESTS_SUPPORT_INVENTORY_FIXTURE_H

#include "fsfreeze/inventory.h"

/* (transfer full) Probes fixture @name; asserts it loads. */
Inventory *inventory_fixture_load(const char *name);

/* The mount at @path; a fixture without it is a broken test (g_error). */
const InventoryMount *inventory_fixture_find(const Inventory *inventory, const char *path);

#endif
