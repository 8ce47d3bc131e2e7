/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fake-catalog.c — the COM+ catalog of the test build (wine has none),
 * behind windows/com-catalog.h's table. It follows the interface the real
 * backend calls (ICOMAdminCatalog2, ICatalogCollection, ICatalogObject):
 * collections are copies that Populate fills and SaveChanges writes back,
 * objects have typed properties, applications are named by name or key,
 * and it refuses misuse with the HRESULT the catalog documents, writing a
 * "VIOLATION" line into its state so that a test fails on it:
 *
 *   - get_Count, get_Item or Remove on a collection never populated (the
 *     real catalog answers 0 there, which would hide an application that
 *     is already installed: stricter on purpose);
 *   - an index out of range, an object used after its Remove;
 *   - a property the collection does not have, of the wrong VARIANT type,
 *     or out of its documented range (Authentication 0-6,
 *     ImpersonationLevel 1-4, AuthenticationCapability of 0, 2, 32, 64);
 *   - SaveChanges of an application or role without a Name, or of a user
 *     that is not an account (LookupAccountName, ".\" for this machine);
 *   - a child collection of an object that is not saved, or that its
 *     parent does not have (Roles and Components of Applications,
 *     UsersInRole of Roles);
 *   - CreateServiceForApplication, DeleteServiceForApplication and
 *     InstallComponent naming no application, or a name two have
 *     (COMADMIN_E_AMBIGUOUS_APPLICATION_NAME); a second service; an
 *     unknown start type or error control; no account to run as;
 *   - InstallComponent of a DLL that does not exist, does not load, lacks
 *     DllRegisterServer or DllGetClassObject, with a type library that
 *     does not load or has no coclass, a coclass the DLL does not serve
 *     (DllGetClassObject), or a class another application has.
 *
 * What it does not do: call the DLL's DllRegisterServer (the real catalog
 * does; ours registers the provider with VSS, which wine lacks), nor
 * create a Windows service. Removing an application removes its roles,
 * users and components, but not its service: we do not assume the real
 * catalog does, so unregistering must delete the service itself.
 *
 * State: QUIESCE_FAKE_CATALOG names a file that holds the catalog, one
 * object a line ("KIND\tKEY\tPARENT\tNAME=TYPE:VALUE..."; types s, b, i)
 * and the violations, so that --install and --uninstall (two processes)
 * share it and a test can read it. QUIESCE_FAKE_CATALOG_FAIL=CALL[:KIND]
 * makes that call fail with E_FAIL (e.g. InstallComponent,
 * SaveChanges:UsersInRole). Both through fake_setting().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <windows.h>
#include <oleauto.h>

#include "tests/windows/fake-catalog.h"
#include "tests/windows/fake-vss.h"
#include "windows/win-error.h"

FakeCatalog *fake_catalog_of(ComCatalog *c)
{
    return (FakeCatalog *)c;
}

void fake_catalog_save(FakeCatalog *f)
{
    FILE *file = fopen(f->path, "wb");

    if (!file) {
        return;
    }
    for (int i = 0; i < f->n; i++) {
        const FakeObject *o = &f->store[i];
        fprintf(file, "%s\t%s\t%s", o->kind, o->key, o->parent);
        for (int p = 0; p < o->n_props; p++) {
            fprintf(file, "\t%s=%s", o->names[p], o->values[p]);
        }
        fputc('\n', file);
    }
    for (int i = 0; i < f->n_violations; i++) {
        fprintf(file, "VIOLATION %s\n", f->violations[i]);
    }
    fclose(file);
}

static void load_store(FakeCatalog *f)
{
    FILE *file = fopen(f->path, "rb");
    char line[2048];

    while (file && fgets(line, sizeof(line), file)) {
        char *field, *next;
        FakeObject *o;
        line[strcspn(line, "\r\n")] = '\0';
        if (strncmp(line, "VIOLATION ", 10) == 0) {
            if (f->n_violations < FAKE_VIOLATIONS) {
                snprintf(f->violations[f->n_violations++], 200, "%s", line + 10);
            }
            continue;
        }
        if (f->n == FAKE_OBJECTS || !line[0]) {
            continue;
        }
        o = memset(&f->store[f->n++], 0, sizeof(FakeObject));
        field = line;
        for (int column = 0; field; column++, field = next) {
            next = strchr(field, '\t');
            if (next) {
                *next++ = '\0';
            }
            if (column == 0) {
                snprintf(o->kind, sizeof(o->kind), "%s", field);
            } else if (column == 1) {
                snprintf(o->key, sizeof(o->key), "%s", field);
            } else if (column == 2) {
                snprintf(o->parent, sizeof(o->parent), "%s", field);
            } else if (o->n_props < FAKE_PROPS && strchr(field, '=')) {
                *strchr(field, '=') = '\0';
                snprintf(o->names[o->n_props], 40, "%s", field);
                snprintf(o->values[o->n_props++], 300, "%s", field + strlen(field) + 1);
            }
        }
    }
    if (file) {
        fclose(file);
    }
}

/* Misuse: recorded in the state, printed, and answered with hr. */
HRESULT fake_catalog_violation(FakeCatalog *f, HRESULT hr, const char *what)
{
    fprintf(stderr, "FAKE-CATALOG VIOLATION: %s\n", what);
    if (f->n_violations < FAKE_VIOLATIONS) {
        snprintf(f->violations[f->n_violations++], 200, "%s", what);
    }
    fake_catalog_save(f);
    return hr;
}

/* QUIESCE_FAKE_CATALOG_FAIL: "CALL" or "CALL:KIND". */
bool fake_catalog_injected(const char *call, const char *kind)
{
    const char *fail = fake_setting("QUIESCE_FAKE_CATALOG_FAIL");
    char with_kind[64];

    snprintf(with_kind, sizeof(with_kind), "%s:%s", call, kind ? kind : "");
    return fail && (strcmp(fail, call) == 0 || strcmp(fail, with_kind) == 0);
}

const char *fake_catalog_prop(const FakeObject *o, const char *name)
{
    for (int p = 0; p < o->n_props; p++) {
        if (strcmp(o->names[p], name) == 0) {
            return o->values[p];
        }
    }
    return NULL;
}

void fake_catalog_set_prop(FakeObject *o, const char *name, const char *value)
{
    int p = 0;

    while (p < o->n_props && strcmp(o->names[p], name) != 0) {
        p++;
    }
    if (p == FAKE_PROPS) {
        return;
    }
    snprintf(o->names[p], 40, "%s", name);
    snprintf(o->values[p], 300, "%s", value);
    o->n_props += p == o->n_props;
}

FakeObject *fake_catalog_stored(FakeCatalog *f, const char *kind, const char *key)
{
    for (int i = 0; i < f->n; i++) {
        if (strcmp(f->store[i].kind, kind) == 0 && strcmp(f->store[i].key, key) == 0) {
            return &f->store[i];
        }
    }
    return NULL;
}

void fake_catalog_unstore(FakeCatalog *f, FakeObject *o)
{
    *o = f->store[--f->n];
}

/* Removes an object and what belongs to it, except a service (see above). */
static void unstore_tree(FakeCatalog *f, const char *key)
{
    for (int i = 0; i < f->n;) {
        FakeObject *o = &f->store[i];
        if (strcmp(o->key, key) == 0 && strcmp(o->kind, "Service") != 0) {
            fake_catalog_unstore(f, o);
        } else if (strcmp(o->parent, key) == 0 && strcmp(o->kind, "Service") != 0) {
            char child[40];
            snprintf(child, sizeof(child), "%s", o->key);
            fake_catalog_unstore(f, o);
            unstore_tree(f, child);
            i = 0;
        } else {
            i++;
        }
    }
}

/* The application named by name or key, or an error (none, or several). */
HRESULT fake_catalog_application(FakeCatalog *f, const wchar_t *id, FakeObject **out)
{
    char *name = win_utf8_from_wide(id);
    char value[300];
    int found = 0;

    snprintf(value, sizeof(value), "s:%s", name);
    *out = NULL;
    for (int i = 0; i < f->n; i++) {
        FakeObject *o = &f->store[i];
        const char *n = fake_catalog_prop(o, "Name");
        if (strcmp(o->kind, "Applications") == 0 &&
            (strcmp(o->key, name) == 0 || (n && strcmp(n, value) == 0))) {
            *out = o;
            found++;
        }
    }
    free(name);
    if (found == 0) {
        return fake_catalog_violation(f, COMADMIN_E_OBJECT_DOES_NOT_EXIST, "no such application");
    }
    return found > 1 ? fake_catalog_violation(f, COMADMIN_E_AMBIGUOUS_APPLICATION_NAME,
                                              "two applications have that name")
                     : S_OK;
}

static ComCollection *new_collection(const char *kind, const char *parent)
{
    ComCollection *collection = calloc(1, sizeof(*collection));

    snprintf(collection->kind, sizeof(collection->kind), "%s", kind);
    snprintf(collection->parent, sizeof(collection->parent), "%s", parent);
    return collection;
}

static HRESULT fake_get_collection(ComCatalog *c, const wchar_t *name, ComCollection **out)
{
    *out = NULL;
    if (fake_catalog_injected("GetCollection", "Applications")) {
        return E_FAIL;
    }
    if (wcscmp(name, L"Applications") != 0) {
        return fake_catalog_violation(fake_catalog_of(c), E_INVALIDARG,
                                      "GetCollection of a collection not faked");
    }
    *out = new_collection("Applications", "");
    return S_OK;
}

static HRESULT fake_get_related(ComCatalog *c, ComCollection *parent, const wchar_t *name,
                                const VARIANT *key, ComCollection **out)
{
    FakeCatalog *f = fake_catalog_of(c);
    char *child = win_utf8_from_wide(name);
    char *parent_key = V_VT(key) == VT_BSTR ? win_utf8_from_wide(V_BSTR(key)) : NULL;
    bool fits = (strcmp(parent->kind, "Applications") == 0 &&
                 (strcmp(child, "Roles") == 0 || strcmp(child, "Components") == 0)) ||
                (strcmp(parent->kind, "Roles") == 0 && strcmp(child, "UsersInRole") == 0);
    HRESULT hr = S_OK;

    *out = NULL;
    if (fake_catalog_injected("GetCollection", child)) {
        hr = E_FAIL;
    } else if (!fits) {
        hr = fake_catalog_violation(f, E_INVALIDARG,
                                    "GetCollection of a child its parent does not have");
    } else if (!parent_key || !fake_catalog_stored(f, parent->kind, parent_key)) {
        hr = fake_catalog_violation(f, COMADMIN_E_OBJECT_PARENT_MISSING,
                                    "GetCollection under an object that is not saved");
    } else {
        *out = new_collection(child, parent_key);
    }
    free(child);
    free(parent_key);
    return hr;
}

static HRESULT fake_populate(ComCatalog *c, ComCollection *collection)
{
    FakeCatalog *f = fake_catalog_of(c);

    if (fake_catalog_injected("Populate", collection->kind)) {
        return E_FAIL;
    }
    collection->n = collection->n_removed = 0;
    for (int i = 0; i < f->n && collection->n < FAKE_OBJECTS / 2; i++) {
        if (strcmp(f->store[i].kind, collection->kind) == 0 &&
            strcmp(f->store[i].parent, collection->parent) == 0) {
            collection->items[collection->n++] = f->store[i];
        }
    }
    collection->populated = true;
    return S_OK;
}

static HRESULT fake_count(ComCatalog *c, ComCollection *collection, LONG *n)
{
    if (!collection->populated) {
        return fake_catalog_violation(fake_catalog_of(c), E_UNEXPECTED,
                                      "get_Count before Populate");
    }
    *n = collection->n;
    return S_OK;
}

static ComObject *new_object(ComCollection *collection, const char *key)
{
    ComObject *object = calloc(1, sizeof(*object));

    object->collection = collection;
    snprintf(object->key, sizeof(object->key), "%s", key);
    return object;
}

static HRESULT fake_item(ComCatalog *c, ComCollection *collection, LONG index, ComObject **out)
{
    *out = NULL;
    if (!collection->populated) {
        return fake_catalog_violation(fake_catalog_of(c), E_UNEXPECTED, "get_Item before Populate");
    }
    if (index < 0 || index >= collection->n) {
        return fake_catalog_violation(fake_catalog_of(c), E_INVALIDARG, "get_Item out of range");
    }
    *out = new_object(collection, collection->items[index].key);
    return S_OK;
}

static HRESULT fake_add(ComCatalog *c, ComCollection *collection, ComObject **out)
{
    FakeObject *o;
    GUID guid;
    wchar_t key[40];
    char *utf8;

    *out = NULL;
    if (fake_catalog_injected("Add", collection->kind)) {
        return E_FAIL;
    }
    if (collection->n == FAKE_OBJECTS / 2) {
        return E_OUTOFMEMORY;
    }
    o = memset(&collection->items[collection->n++], 0, sizeof(FakeObject));
    snprintf(o->kind, sizeof(o->kind), "%s", collection->kind);
    snprintf(o->parent, sizeof(o->parent), "%s", collection->parent);
    CoCreateGuid(&guid);
    StringFromGUID2(&guid, key, 40);
    utf8 = win_utf8_from_wide(key);
    snprintf(o->key, sizeof(o->key), "%s", utf8);
    free(utf8);
    *out = new_object(collection, o->key);
    return S_OK;
}

static HRESULT fake_remove(ComCatalog *c, ComCollection *collection, LONG index)
{
    if (!collection->populated) {
        return fake_catalog_violation(fake_catalog_of(c), E_UNEXPECTED, "Remove before Populate");
    }
    if (index < 0 || index >= collection->n) {
        return fake_catalog_violation(fake_catalog_of(c), E_INVALIDARG, "Remove out of range");
    }
    if (fake_catalog_injected("Remove", collection->kind)) {
        return E_FAIL;
    }
    if (collection->n_removed < FAKE_OBJECTS / 2) {
        snprintf(collection->removed[collection->n_removed++], 40, "%s",
                 collection->items[index].key);
    }
    memmove(&collection->items[index], &collection->items[index + 1],
            (size_t)(collection->n - index - 1) * sizeof(FakeObject));
    collection->n--;
    return S_OK;
}

/* "" when the object can be saved, else what is wrong. */
static const char *unsaveable(const FakeObject *o)
{
    const char *user = fake_catalog_prop(o, "User");

    if ((strcmp(o->kind, "Applications") == 0 || strcmp(o->kind, "Roles") == 0) &&
        !fake_catalog_prop(o, "Name")) {
        return "SaveChanges of an object without a Name";
    }
    if (strcmp(o->kind, "UsersInRole") == 0) {
        BYTE sid[SECURITY_MAX_SID_SIZE];
        DWORD sid_size = sizeof(sid);
        wchar_t domain[256];
        DWORD domain_size = 256;
        SID_NAME_USE use;
        wchar_t *account;
        bool known;
        if (!user) {
            return "SaveChanges of a user in a role without a User";
        }
        /* ".\NAME" is NAME on this machine */
        account = win_wide_from_utf8(strncmp(user + 2, ".\\", 2) == 0 ? user + 4 : user + 2);
        known = LookupAccountNameW(NULL, account, sid, &sid_size, domain, &domain_size, &use);
        free(account);
        if (!known) {
            return "SaveChanges of a user that is not an account";
        }
    }
    return "";
}

static HRESULT fake_save_changes(ComCatalog *c, ComCollection *collection, LONG *changed)
{
    FakeCatalog *f = fake_catalog_of(c);

    *changed = 0;
    if (fake_catalog_injected("SaveChanges", collection->kind)) {
        return E_FAIL;
    }
    for (int i = 0; i < collection->n; i++) {
        const char *wrong = unsaveable(&collection->items[i]);
        if (wrong[0]) {
            return fake_catalog_violation(f, COMADMIN_E_OBJECTERRORS, wrong);
        }
    }
    for (int i = 0; i < collection->n_removed; i++) {
        unstore_tree(f, collection->removed[i]);
        (*changed)++;
    }
    collection->n_removed = 0;
    for (int i = 0; i < collection->n; i++) {
        FakeObject *o = fake_catalog_stored(f, collection->kind, collection->items[i].key);
        if (!o && f->n < FAKE_OBJECTS) {
            o = &f->store[f->n++];
        }
        if (o) {
            *o = collection->items[i];
            (*changed)++;
        }
    }
    fake_catalog_save(f);
    return S_OK;
}

static FakeObject *object_item(ComObject *object)
{
    for (int i = 0; i < object->collection->n; i++) {
        if (strcmp(object->collection->items[i].key, object->key) == 0) {
            return &object->collection->items[i];
        }
    }
    return NULL;
}

static HRESULT fake_get_value(ComCatalog *c, ComObject *object, const wchar_t *property,
                              VARIANT *out)
{
    FakeObject *o = object_item(object);
    char *name = win_utf8_from_wide(property);
    const char *value = o ? fake_catalog_prop(o, name) : NULL;

    free(name);
    VariantInit(out);
    if (!o) {
        return fake_catalog_violation(fake_catalog_of(c), E_INVALIDARG,
                                      "get_Value of a removed object");
    }
    if (!value || value[0] != 's') {
        return fake_catalog_violation(fake_catalog_of(c), E_INVALIDARG,
                                      "get_Value of a property not faked");
    }
    {
        wchar_t *wide = win_wide_from_utf8(value + 2);
        V_VT(out) = VT_BSTR;
        V_BSTR(out) = SysAllocString(wide);
        free(wide);
    }
    return S_OK;
}

/* The properties each collection has here: name, VARIANT type, range. */
typedef struct {
    const char *kind, *name;
    VARTYPE type;
    int min, max; /* for numbers */
} FakeProperty;

static const FakeProperty properties[] = {
    {"Applications", "Name", VT_BSTR, 0, 0},
    {"Applications", "Description", VT_BSTR, 0, 0},
    {"Applications", "ApplicationAccessChecksEnabled", VT_BOOL, 0, 0},
    {"Applications", "Authentication", VT_I2, 0, 6},
    {"Applications", "AuthenticationCapability", VT_I2, 0, 64},
    {"Applications", "ImpersonationLevel", VT_I2, 1, 4},
    {"Roles", "Name", VT_BSTR, 0, 0},
    {"Roles", "Description", VT_BSTR, 0, 0},
    {"UsersInRole", "User", VT_BSTR, 0, 0},
};

static HRESULT fake_put_value(ComCatalog *c, ComObject *object, const wchar_t *property,
                              const VARIANT *value)
{
    FakeCatalog *f = fake_catalog_of(c);
    FakeObject *o = object_item(object);
    char *name = win_utf8_from_wide(property);
    const FakeProperty *known = NULL;
    char text[300] = "";
    HRESULT hr = S_OK;

    for (size_t i = 0; o && i < sizeof(properties) / sizeof(properties[0]); i++) {
        if (strcmp(properties[i].kind, o->kind) == 0 && strcmp(properties[i].name, name) == 0) {
            known = &properties[i];
        }
    }
    if (fake_catalog_injected("put_Value", name)) {
        hr = E_FAIL;
    } else if (!o) {
        hr = fake_catalog_violation(f, E_INVALIDARG, "put_Value on a removed object");
    } else if (!known) {
        hr = fake_catalog_violation(f, E_INVALIDARG,
                                    "put_Value of a property the object does not have");
    } else if (known->type == VT_BSTR && V_VT(value) == VT_BSTR) {
        char *utf8 = win_utf8_from_wide(V_BSTR(value) ? V_BSTR(value) : L"");
        if (strpbrk(utf8, "\t\r\n")) {
            hr = fake_catalog_violation(f, E_INVALIDARG,
                                        "a tab or line break the fake cannot store");
        }
        snprintf(text, sizeof(text), "s:%s", utf8);
        free(utf8);
    } else if (known->type == VT_BOOL && V_VT(value) == VT_BOOL) {
        snprintf(text, sizeof(text), "b:%d", V_BOOL(value) ? 1 : 0);
    } else if (known->type == VT_I2 && (V_VT(value) == VT_I2 || V_VT(value) == VT_I4)) {
        int n = V_VT(value) == VT_I2 ? V_I2(value) : (int)V_I4(value);
        bool capability = strcmp(name, "AuthenticationCapability") == 0;
        if (n < known->min || n > known->max ||
            (capability && n != 0 && n != 2 && n != 32 && n != 64)) {
            hr = fake_catalog_violation(f, E_INVALIDARG, "put_Value out of the property's range");
        }
        snprintf(text, sizeof(text), "i:%d", n);
    } else {
        hr = fake_catalog_violation(f, DISP_E_TYPEMISMATCH, "put_Value of the wrong type");
    }
    if (SUCCEEDED(hr)) {
        fake_catalog_set_prop(o, name, text);
    }
    free(name);
    return hr;
}

static HRESULT fake_get_key(ComCatalog *c, ComObject *object, VARIANT *out)
{
    wchar_t *key = win_wide_from_utf8(object->key);

    VariantInit(out);
    V_VT(out) = VT_BSTR;
    V_BSTR(out) = SysAllocString(key);
    free(key);
    return fake_catalog_injected("get_Key", object->collection->kind) ? E_FAIL : S_OK;
}

static void fake_release_collection(ComCatalog *c, ComCollection *collection)
{
    free(collection);
}

static void fake_release_object(ComCatalog *c, ComObject *object)
{
    free(object);
}

static void fake_free(ComCatalog *c)
{
    free(c);
}

static const ComCatalogOps fake_ops = {
    fake_get_collection,
    fake_get_related,
    fake_populate,
    fake_count,
    fake_item,
    fake_add,
    fake_remove,
    fake_save_changes,
    fake_get_value,
    fake_put_value,
    fake_get_key,
    fake_create_service,
    fake_delete_service,
    fake_install_component,
    fake_release_collection,
    fake_release_object,
    fake_free,
};

ComCatalog *com_catalog_new(ProtoError **error)
{
    const char *path = fake_setting("QUIESCE_FAKE_CATALOG");
    FakeCatalog *f;

    if (!path) {
        win_error_set(error, (DWORD)REGDB_E_CLASSNOTREG,
                      "cannot open the COM+ catalog (the test build's fake needs "
                      "QUIESCE_FAKE_CATALOG)");
        return NULL;
    }
    f = calloc(1, sizeof(*f));
    f->base.ops = &fake_ops;
    snprintf(f->path, sizeof(f->path), "%s", path);
    load_store(f);
    return &f->base;
}
