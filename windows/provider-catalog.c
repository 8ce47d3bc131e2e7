/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * provider-catalog.c — the provider's COM+ application, registered as
 * qemu-ga 7.2 registers its own (qga/vss-win32/install.cpp, COMRegister
 * and COMUnregister; docs/windows.md "The provider's registration"):
 *
 *   Applications: Add an application named WIN_PROVIDER_APPLICATION with
 *     Description, ApplicationAccessChecksEnabled = true, Authentication =
 *     6 (packet privacy), AuthenticationCapability = 2 (secure reference),
 *     ImpersonationLevel = 2 (identify); SaveChanges.
 *   CreateServiceForApplication: a demand-start service of the same name,
 *     error control normal, run as .\localsystem, no desktop.
 *   InstallComponent: the DLL and its type library (the catalog learns the
 *     class from the type library and calls the DLL's DllRegisterServer,
 *     which registers the class and the VSS provider).
 *   Roles: the Administrators group (its local name), whose UsersInRole
 *     are .\<Administrators> and SYSTEM (local names, from their SIDs).
 *
 * Differences: an application of that name already there is removed first
 * (qemu-ga refuses to install then: an upgrade would need an uninstall
 * first); unregistering deletes the application's service before removing
 * the application (qemu-ga does not; we do not rely on the catalog doing
 * it). A failure after the application was saved removes it again, as
 * qemu-ga does.
 */
#include <stdio.h>
#include <string.h>

#include "windows/com-catalog.h"
#include "windows/win-error.h"

typedef struct {
    ComCatalog *catalog;
    char failed[96]; /* the first call that failed, "" while none did */
} Registration;

static HRESULT step(Registration *r, const char *call, HRESULT hr)
{
    if (FAILED(hr) && !r->failed[0]) {
        snprintf(r->failed, sizeof(r->failed), "%s", call);
    }
    return hr;
}

static HRESULT put_variant(Registration *r, ComObject *object, const wchar_t *property,
                           VARIANT *value)
{
    HRESULT hr = r->catalog->ops->put_value(r->catalog, object, property, value);
    char call[80];

    VariantClear(value);
    snprintf(call, sizeof(call), "put_Value(%ls)", property);
    return step(r, call, hr);
}

static HRESULT put_string(Registration *r, ComObject *object, const wchar_t *property,
                          const wchar_t *text)
{
    VARIANT v;

    VariantInit(&v);
    V_VT(&v) = VT_BSTR;
    V_BSTR(&v) = SysAllocString(text);
    return V_BSTR(&v) ? put_variant(r, object, property, &v) : step(r, "put_Value", E_OUTOFMEMORY);
}

static HRESULT put_short(Registration *r, ComObject *object, const wchar_t *property, SHORT n)
{
    VARIANT v;

    VariantInit(&v);
    V_VT(&v) = VT_I2;
    V_I2(&v) = n;
    return put_variant(r, object, property, &v);
}

static HRESULT put_bool(Registration *r, ComObject *object, const wchar_t *property, BOOL b)
{
    VARIANT v;

    VariantInit(&v);
    V_VT(&v) = VT_BOOL;
    V_BOOL(&v) = b ? VARIANT_TRUE : VARIANT_FALSE;
    return put_variant(r, object, property, &v);
}

/* The local name of a well-known account (localised: "Administratoren"). */
static bool account_name(WELL_KNOWN_SID_TYPE type, wchar_t *name, DWORD size)
{
    BYTE sid[SECURITY_MAX_SID_SIZE];
    DWORD sid_size = sizeof(sid);
    wchar_t domain[256];
    DWORD domain_size = 256;
    SID_NAME_USE use;

    return CreateWellKnownSid(type, NULL, sid, &sid_size) &&
           LookupAccountSidW(NULL, sid, name, &size, domain, &domain_size, &use);
}

static bool is_ours(ComCatalog *c, ComObject *app)
{
    VARIANT name;
    bool ours;

    VariantInit(&name);
    ours = SUCCEEDED(c->ops->get_value(c, app, L"Name", &name)) && V_VT(&name) == VT_BSTR &&
           V_BSTR(&name) && wcscmp(V_BSTR(&name), WIN_PROVIDER_APPLICATION) == 0;
    VariantClear(&name);
    return ours;
}

/* Removes every application named WIN_PROVIDER_APPLICATION (and first its
 * service: COMADMIN_E_SERVICENOTINSTALLED means it has none). */
static HRESULT remove_applications(Registration *r)
{
    ComCatalog *c = r->catalog;
    ComCollection *apps = NULL;
    LONG n = 0, changed = 0;
    HRESULT hr =
        step(r, "GetCollection(Applications)", c->ops->get_collection(c, L"Applications", &apps));

    if (SUCCEEDED(hr)) {
        hr = step(r, "Populate(Applications)", c->ops->populate(c, apps));
    }
    if (SUCCEEDED(hr)) {
        hr = step(r, "get_Count(Applications)", c->ops->count(c, apps, &n));
    }
    /* From the end, so that Remove does not shift what is still to see. */
    for (LONG i = n - 1; SUCCEEDED(hr) && i >= 0; i--) {
        ComObject *app = NULL;
        hr = step(r, "get_Item(Applications)", c->ops->item(c, apps, i, &app));
        if (SUCCEEDED(hr) && is_ours(c, app)) {
            HRESULT service = c->ops->delete_service(c, WIN_PROVIDER_APPLICATION);
            if (FAILED(service) && service != COMADMIN_E_SERVICENOTINSTALLED) {
                hr = step(r, "DeleteServiceForApplication", service);
            }
            if (SUCCEEDED(hr)) {
                hr = step(r, "Remove(Applications)", c->ops->remove(c, apps, i));
            }
        }
        if (app) {
            c->ops->release_object(c, app);
        }
    }
    if (SUCCEEDED(hr)) {
        hr = step(r, "SaveChanges(Applications)", c->ops->save_changes(c, apps, &changed));
    }
    if (apps) {
        c->ops->release_collection(c, apps);
    }
    return hr;
}

/* Adds our application with qemu-ga's settings, saves it (*saved) and
 * gives its key. */
static HRESULT add_application(Registration *r, ComCollection *apps, VARIANT *key, bool *saved)
{
    ComCatalog *c = r->catalog;
    ComObject *app = NULL;
    LONG changed = 0;
    HRESULT hr = step(r, "Add(Applications)", c->ops->add(c, apps, &app));

    if (SUCCEEDED(hr)) {
        hr = put_string(r, app, L"Name", WIN_PROVIDER_APPLICATION);
    }
    if (SUCCEEDED(hr)) {
        hr = put_string(r, app, L"Description", WIN_PROVIDER_APPLICATION);
    }
    if (SUCCEEDED(hr)) {
        hr = put_bool(r, app, L"ApplicationAccessChecksEnabled", TRUE);
    }
    if (SUCCEEDED(hr)) {
        hr = put_short(r, app, L"Authentication", 6);
    }
    if (SUCCEEDED(hr)) {
        hr = put_short(r, app, L"AuthenticationCapability", 2);
    }
    if (SUCCEEDED(hr)) {
        hr = put_short(r, app, L"ImpersonationLevel", 2);
    }
    if (SUCCEEDED(hr)) {
        hr = step(r, "SaveChanges(Applications)", c->ops->save_changes(c, apps, &changed));
        *saved = SUCCEEDED(hr);
    }
    if (SUCCEEDED(hr)) {
        hr = step(r, "get_Key(Applications)", c->ops->get_key(c, app, key));
    }
    if (app) {
        c->ops->release_object(c, app);
    }
    return hr;
}

/* The users of the role whose key is role_key: .\<Administrators> and SYSTEM. */
static HRESULT add_users(Registration *r, ComCollection *roles, const VARIANT *role_key,
                         const wchar_t *admins, const wchar_t *system)
{
    ComCatalog *c = r->catalog;
    ComCollection *users = NULL;
    ComObject *admin_user = NULL, *system_user = NULL;
    wchar_t admin_account[300];
    LONG changed = 0;
    HRESULT hr = step(r, "GetCollection(UsersInRole)",
                      c->ops->get_related(c, roles, L"UsersInRole", role_key, &users));

    _snwprintf(admin_account, 300, L".\\%ls", admins);
    admin_account[299] = L'\0';
    if (SUCCEEDED(hr)) {
        hr = step(r, "Populate(UsersInRole)", c->ops->populate(c, users));
    }
    if (SUCCEEDED(hr)) {
        hr = step(r, "Add(UsersInRole)", c->ops->add(c, users, &admin_user));
    }
    if (SUCCEEDED(hr)) {
        hr = put_string(r, admin_user, L"User", admin_account);
    }
    if (SUCCEEDED(hr)) {
        hr = step(r, "Add(UsersInRole)", c->ops->add(c, users, &system_user));
    }
    if (SUCCEEDED(hr)) {
        hr = put_string(r, system_user, L"User", system);
    }
    if (SUCCEEDED(hr)) {
        hr = step(r, "SaveChanges(UsersInRole)", c->ops->save_changes(c, users, &changed));
    }
    if (admin_user) {
        c->ops->release_object(c, admin_user);
    }
    if (system_user) {
        c->ops->release_object(c, system_user);
    }
    if (users) {
        c->ops->release_collection(c, users);
    }
    return hr;
}

/* The role named after the Administrators group, and its users. */
static HRESULT add_role(Registration *r, ComCollection *apps, const VARIANT *app_key,
                        const wchar_t *admins, const wchar_t *system)
{
    ComCatalog *c = r->catalog;
    ComCollection *roles = NULL;
    ComObject *role = NULL;
    VARIANT role_key;
    LONG changed = 0;
    HRESULT hr =
        step(r, "GetCollection(Roles)", c->ops->get_related(c, apps, L"Roles", app_key, &roles));

    VariantInit(&role_key);
    if (SUCCEEDED(hr)) {
        hr = step(r, "Populate(Roles)", c->ops->populate(c, roles));
    }
    if (SUCCEEDED(hr)) {
        hr = step(r, "Add(Roles)", c->ops->add(c, roles, &role));
    }
    if (SUCCEEDED(hr)) {
        hr = put_string(r, role, L"Name", admins);
    }
    if (SUCCEEDED(hr)) {
        hr = put_string(r, role, L"Description", L"Administrators group");
    }
    if (SUCCEEDED(hr)) {
        hr = step(r, "SaveChanges(Roles)", c->ops->save_changes(c, roles, &changed));
    }
    if (SUCCEEDED(hr)) {
        hr = step(r, "get_Key(Roles)", c->ops->get_key(c, role, &role_key));
    }
    if (SUCCEEDED(hr)) {
        hr = add_users(r, roles, &role_key, admins, system);
    }
    VariantClear(&role_key);
    if (role) {
        c->ops->release_object(c, role);
    }
    if (roles) {
        c->ops->release_collection(c, roles);
    }
    return hr;
}

/* Everything after the application is saved; *saved says whether it was. */
static HRESULT register_application(Registration *r, const wchar_t *dll, const wchar_t *tlb,
                                    const wchar_t *admins, const wchar_t *system, bool *saved)
{
    ComCatalog *c = r->catalog;
    ComCollection *apps = NULL;
    VARIANT key;
    HRESULT hr =
        step(r, "GetCollection(Applications)", c->ops->get_collection(c, L"Applications", &apps));

    VariantInit(&key);
    if (SUCCEEDED(hr)) {
        hr = step(r, "Populate(Applications)", c->ops->populate(c, apps));
    }
    if (SUCCEEDED(hr)) {
        hr = add_application(r, apps, &key, saved);
    }
    if (SUCCEEDED(hr)) {
        hr = step(r, "CreateServiceForApplication",
                  c->ops->create_service(c, WIN_PROVIDER_APPLICATION, WIN_PROVIDER_APPLICATION,
                                         L"SERVICE_DEMAND_START", L"SERVICE_ERROR_NORMAL", L"",
                                         L".\\localsystem", L"", FALSE));
    }
    if (SUCCEEDED(hr)) {
        hr = step(r, "InstallComponent",
                  c->ops->install_component(c, WIN_PROVIDER_APPLICATION, dll, tlb, L""));
    }
    if (SUCCEEDED(hr)) {
        hr = add_role(r, apps, &key, admins, system);
    }
    VariantClear(&key);
    if (apps) {
        c->ops->release_collection(c, apps);
    }
    return hr;
}

bool win_provider_catalog_register(ComCatalog *catalog, const wchar_t *dll, const wchar_t *tlb,
                                   ProtoError **error)
{
    Registration r = {catalog, ""};
    wchar_t admins[256], system[256];
    bool saved = false;
    HRESULT hr;

    if (!account_name(WinBuiltinAdministratorsSid, admins, 256) ||
        !account_name(WinLocalSystemSid, system, 256)) {
        win_error_set(error, GetLastError(), "cannot name the Administrators group and SYSTEM");
        return false;
    }
    hr = remove_applications(&r);
    if (SUCCEEDED(hr)) {
        hr = register_application(&r, dll, tlb, admins, system, &saved);
    }
    if (FAILED(hr)) {
        win_error_set(error, (DWORD)hr, "COM+ registration of the VSS provider: %s failed",
                      r.failed);
        if (saved) {
            Registration undo = {catalog, ""};
            remove_applications(&undo); /* the first error is the one to report */
        }
        return false;
    }
    return true;
}

bool win_provider_catalog_unregister(ComCatalog *catalog, ProtoError **error)
{
    Registration r = {catalog, ""};
    HRESULT hr = remove_applications(&r);

    if (FAILED(hr)) {
        win_error_set(error, (DWORD)hr, "COM+ removal of the VSS provider: %s failed", r.failed);
        return false;
    }
    return true;
}
