/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fake-catalog.h — inside the test build's COM+ catalog: its store and
 * handles, shared by fake-catalog.c (collections and objects, the state
 * file) and fake-catalog-admin.c (the catalog's own methods: services and
 * InstallComponent). fake-catalog.c's header says what the fake does.
 */
#ifndef QUIESCE_TESTS_FAKE_CATALOG_H
#define QUIESCE_TESTS_FAKE_CATALOG_H

#include <stdbool.h>
#include <windows.h>

#include "windows/com-catalog.h"

#define FAKE_OBJECTS 64
#define FAKE_PROPS 8
#define FAKE_VIOLATIONS 16

typedef struct {
    char kind[16];   /* Applications, Roles, UsersInRole, Components, Service */
    char key[40];    /* a GUID; a component's is its CLSID, a service's its name */
    char parent[40]; /* the key of the object it belongs to, "" for none */
    char names[FAKE_PROPS][40];
    char values[FAKE_PROPS][300]; /* "s:text", "b:1", "i:6" */
    int n_props;
} FakeObject;

struct ComCollection {
    char kind[16];
    char parent[40];
    bool populated;
    FakeObject items[FAKE_OBJECTS / 2];
    int n;
    char removed[FAKE_OBJECTS / 2][40];
    int n_removed;
};

struct ComObject {
    ComCollection *collection;
    char key[40];
};

typedef struct {
    ComCatalog base;
    char path[MAX_PATH];
    FakeObject store[FAKE_OBJECTS];
    int n;
    char violations[FAKE_VIOLATIONS][200];
    int n_violations;
} FakeCatalog;

FakeCatalog *fake_catalog_of(ComCatalog *c);
/* Writes the store and the violations to the state file. */
void fake_catalog_save(FakeCatalog *f);
/* Misuse: recorded in the state, printed, and answered with hr. */
HRESULT fake_catalog_violation(FakeCatalog *f, HRESULT hr, const char *what);
/* Whether QUIESCE_FAKE_CATALOG_FAIL names this call ("CALL" or "CALL:KIND"). */
bool fake_catalog_injected(const char *call, const char *kind);
/* A property's stored value ("s:text", "b:1", "i:6"), or NULL. */
const char *fake_catalog_prop(const FakeObject *o, const char *name);
void fake_catalog_set_prop(FakeObject *o, const char *name, const char *value);
/* The saved object of kind with key, or NULL. */
FakeObject *fake_catalog_stored(FakeCatalog *f, const char *kind, const char *key);
/* Drops one saved object (the last one takes its place). */
void fake_catalog_unstore(FakeCatalog *f, FakeObject *o);
/* The saved application named by name or key; a violation when none or
 * several have it. */
HRESULT fake_catalog_application(FakeCatalog *f, const wchar_t *id, FakeObject **out);

/* fake-catalog-admin.c: ICOMAdminCatalog2's methods, as in ComCatalogOps. */
HRESULT fake_create_service(ComCatalog *c, const wchar_t *application, const wchar_t *service,
                            const wchar_t *start_type, const wchar_t *error_control,
                            const wchar_t *dependencies, const wchar_t *run_as,
                            const wchar_t *password, BOOL desktop_ok);
HRESULT fake_delete_service(ComCatalog *c, const wchar_t *application);
HRESULT fake_install_component(ComCatalog *c, const wchar_t *application, const wchar_t *dll,
                               const wchar_t *tlb, const wchar_t *proxy_stub_dll);

#endif
