/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-catalog.c — the provider's COM+ registration (windows/
 * provider-catalog.c) against the fake catalog (fake-catalog.c), with the
 * built provider DLL and type library beside this exe:
 *
 *   - registering creates the application with qemu-ga's settings, its
 *     demand-start service as .\localsystem, the component (our CLSID, from
 *     the type library, served by the DLL), the Administrators role and
 *     its two users; no misuse;
 *   - registering again leaves one of each; unregistering leaves nothing
 *     (the service included);
 *   - a failure at each later step (injected) fails with the call's name
 *     and leaves nothing; negative control: the same "nothing left" check
 *     fails after a successful registration;
 *   - a missing type library fails in InstallComponent, rolled back;
 *   - the fake refuses misuse: each case answers the documented HRESULT
 *     and records a violation;
 *   - the DLL's own DllRegisterServer (which the real catalog calls) fails
 *     under wine, which has no VSS, and leaves no class or ProgID key
 *     behind (negative control: the same check finds a key written by hand).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <windows.h>

#include "windows/com-catalog.h"
#include "windows/win-error.h"

static int failures;
static char state_path[MAX_PATH];
static char state[16384];

static void check(bool ok, const char *what, const char *detail)
{
    printf("%s %s%s%s\n", ok ? "ok" : "FAIL", what, detail ? ": " : "", detail ? detail : "");
    failures += !ok;
}

static void read_state(void)
{
    FILE *file = fopen(state_path, "rb");
    size_t len = file ? fread(state, 1, sizeof(state) - 1, file) : 0;

    state[len] = '\0';
    if (file) {
        fclose(file);
    }
}

/* How many lines of kind hold every one of the fields (NULL-terminated). */
static int lines_with(const char *kind, ...)
{
    int n = 0;

    read_state();
    for (char *line = state; line && *line;) {
        char *end = strchr(line, '\n');
        char saved = end ? *end : '\0';
        bool all = strncmp(line, kind, strlen(kind)) == 0 && line[strlen(kind)] == '\t';
        va_list fields;
        if (end) {
            *end = '\0';
        }
        va_start(fields, kind);
        for (const char *f = va_arg(fields, const char *); all && f;
             f = va_arg(fields, const char *)) {
            all = strstr(line, f) != NULL;
        }
        va_end(fields);
        n += all;
        if (end) {
            *end = saved;
        }
        line = end ? end + 1 : NULL;
    }
    return n;
}

/* NULL when the catalog holds nothing of ours, else what is left. */
static const char *leftovers(void)
{
    static const char *const kinds[] = {"Applications", "Service", "Components", "Roles",
                                        "UsersInRole"};

    for (size_t i = 0; i < 5; i++) {
        if (lines_with(kinds[i], (const char *)NULL) > 0) {
            return kinds[i];
        }
    }
    return NULL;
}

static bool violations(void)
{
    read_state();
    return strstr(state, "VIOLATION") != NULL;
}

static void reset(void)
{
    DeleteFileA(state_path);
    _putenv("QUIESCE_FAKE_CATALOG_FAIL=");
}

static bool do_register(const wchar_t *dll, const wchar_t *tlb, char *message, size_t size)
{
    ProtoError *error = NULL;
    ComCatalog *catalog = com_catalog_new(&error);
    bool ok = catalog && win_provider_catalog_register(catalog, dll, tlb, &error);

    snprintf(message, size, "%s", ok ? "" : error->desc);
    if (error) {
        proto_error_free(error);
    }
    if (catalog) {
        catalog->ops->free(catalog);
    }
    return ok;
}

static bool do_unregister(void)
{
    ProtoError *error = NULL;
    ComCatalog *catalog = com_catalog_new(&error);
    bool ok = catalog && win_provider_catalog_unregister(catalog, &error);

    if (error) {
        printf("  %s\n", error->desc);
        proto_error_free(error);
    }
    if (catalog) {
        catalog->ops->free(catalog);
    }
    return ok;
}

static void test_registration(const wchar_t *dll, const wchar_t *tlb)
{
    char message[512];
    bool ok = do_register(dll, tlb, message, sizeof(message));

    check(ok, "register", message);
    check(lines_with("Applications", "\tName=s:quiesce VSS provider",
                     "\tDescription=s:quiesce VSS provider", "\tApplicationAccessChecksEnabled=b:1",
                     "\tAuthentication=i:6", "\tAuthenticationCapability=i:2",
                     "\tImpersonationLevel=i:2", (const char *)NULL) == 1,
          "the application with qemu-ga's settings", NULL);
    check(lines_with("Service", "quiesce VSS provider\t", "StartType=s:SERVICE_DEMAND_START",
                     "ErrorControl=s:SERVICE_ERROR_NORMAL", "RunAs=s:.\\localsystem",
                     "DesktopOk=b:0", (const char *)NULL) == 1,
          "its service: demand start, .\\localsystem", NULL);
    check(lines_with("Components", "{7D3E8A51-2C6B-4F08-A49E-15C26F8B30D7}",
                     "quiesce-vss-provider.dll", (const char *)NULL) == 1,
          "the component: our CLSID, from the type library, in our DLL", NULL);
    check(lines_with("Roles", "\tName=s:Administrators", "Description=s:Administrators group",
                     (const char *)NULL) == 1,
          "the Administrators role", NULL);
    check(lines_with("UsersInRole", "\tUser=s:.\\Administrators", (const char *)NULL) == 1 &&
              lines_with("UsersInRole", "\tUser=s:SYSTEM", (const char *)NULL) == 1,
          "its users .\\Administrators and SYSTEM", NULL);
    check(!violations(), "no misuse of the catalog", NULL);

    ok = do_register(dll, tlb, message, sizeof(message));
    check(ok && lines_with("Applications", (const char *)NULL) == 1 &&
              lines_with("Service", (const char *)NULL) == 1 &&
              lines_with("Components", (const char *)NULL) == 1 &&
              lines_with("UsersInRole", (const char *)NULL) == 2,
          "registering again leaves one of each", message);
    ok = do_unregister();
    check(ok && leftovers() == NULL && !violations(),
          "unregistering leaves nothing, its service included", leftovers());
    check(do_unregister() && !violations(), "unregistering when nothing is there", NULL);
}

static void test_rollback(const wchar_t *dll, const wchar_t *tlb)
{
    static const char *const steps[] = {"CreateServiceForApplication", "InstallComponent",
                                        "SaveChanges:Roles", "put_Value:User",
                                        "SaveChanges:UsersInRole"};
    char message[512], setting[128];

    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        char what[160], call[64];
        bool ok;
        reset();
        snprintf(setting, sizeof(setting), "QUIESCE_FAKE_CATALOG_FAIL=%s", steps[i]);
        _putenv(setting);
        ok = do_register(dll, tlb, message, sizeof(message));
        snprintf(what, sizeof(what), "a failing %s: the error names it, nothing is left", steps[i]);
        snprintf(call, sizeof(call), "%.*s", (int)strcspn(steps[i], ":"), steps[i]);
        check(!ok && strstr(message, call) && leftovers() == NULL, what, message);
    }
    reset();
    /* Negative control: the check above sees what a registration leaves. */
    do_register(dll, tlb, message, sizeof(message));
    check(leftovers() != NULL, "control: after a registration the check finds", leftovers());
    do_unregister();

    reset();
    check(!do_register(dll, L"C:\\no\\such.tlb", message, sizeof(message)) &&
              strstr(message, "InstallComponent") && leftovers() == NULL,
          "a missing type library: InstallComponent fails, nothing is left", message);
    check(violations(), "  ... and the fake recorded why", NULL);
}

/* Each misuse answers want and records one more violation. */
static void expect_refused(const char *what, HRESULT hr, HRESULT want)
{
    static int seen;
    char detail[64];
    int now = 0;

    read_state();
    for (const char *v = strstr(state, "VIOLATION"); v; v = strstr(v + 1, "VIOLATION")) {
        now++;
    }
    snprintf(detail, sizeof(detail), "0x%08lx, violations %d -> %d", (unsigned long)hr, seen, now);
    check(hr == want && now == seen + 1, what, detail);
    seen = now;
}

static VARIANT text(const wchar_t *s)
{
    VARIANT v;

    VariantInit(&v);
    V_VT(&v) = VT_BSTR;
    V_BSTR(&v) = SysAllocString(s);
    return v;
}

static void test_misuse(const wchar_t *dll, const wchar_t *stdole)
{
    ProtoError *error = NULL;
    ComCatalog *c;
    ComCollection *apps = NULL, *roles = NULL;
    ComObject *app = NULL, *twin = NULL;
    VARIANT v, key;
    LONG n;

    reset();
    c = com_catalog_new(&error);
    c->ops->get_collection(c, L"Applications", &apps);
    expect_refused("get_Count before Populate", c->ops->count(c, apps, &n), E_UNEXPECTED);
    c->ops->populate(c, apps);
    expect_refused("get_Item out of range", c->ops->item(c, apps, 5, &app), E_INVALIDARG);
    c->ops->add(c, apps, &app);
    v = text(L"x");
    expect_refused("put_Value of a property applications lack",
                   c->ops->put_value(c, app, L"Colour", &v), E_INVALIDARG);
    expect_refused("put_Value of a string where a number goes",
                   c->ops->put_value(c, app, L"Authentication", &v), DISP_E_TYPEMISMATCH);
    VariantClear(&v);
    V_VT(&v) = VT_I2;
    V_I2(&v) = 7;
    expect_refused("Authentication 7", c->ops->put_value(c, app, L"Authentication", &v),
                   E_INVALIDARG);
    expect_refused("SaveChanges of an application without a Name",
                   c->ops->save_changes(c, apps, &n), COMADMIN_E_OBJECTERRORS);
    v = text(L"twin");
    c->ops->put_value(c, app, L"Name", &v);
    c->ops->add(c, apps, &twin);
    c->ops->put_value(c, twin, L"Name", &v);
    VariantClear(&v);
    VariantInit(&key);
    c->ops->get_key(c, app, &key);
    expect_refused("GetCollection(Roles) under an application not saved",
                   c->ops->get_related(c, apps, L"Roles", &key, &roles),
                   COMADMIN_E_OBJECT_PARENT_MISSING);
    expect_refused("GetCollection(UsersInRole) of an application",
                   c->ops->get_related(c, apps, L"UsersInRole", &key, &roles), E_INVALIDARG);
    c->ops->save_changes(c, apps, &n);
    expect_refused("CreateServiceForApplication naming two applications",
                   c->ops->create_service(c, L"twin", L"twin", L"SERVICE_DEMAND_START",
                                          L"SERVICE_ERROR_NORMAL", L"", L".\\localsystem", L"",
                                          FALSE),
                   COMADMIN_E_AMBIGUOUS_APPLICATION_NAME);
    expect_refused("InstallComponent naming no application",
                   c->ops->install_component(c, L"nobody", dll, L"", L""),
                   COMADMIN_E_OBJECT_DOES_NOT_EXIST);
    expect_refused("InstallComponent of a type library whose classes the DLL lacks",
                   c->ops->install_component(c, V_BSTR(&key), dll, stdole, L""),
                   COMADMIN_E_COMPFILE_CLASSNOTAVAIL);
    expect_refused("CreateServiceForApplication with an unknown start type",
                   c->ops->create_service(c, V_BSTR(&key), L"s", L"SOMETIMES",
                                          L"SERVICE_ERROR_NORMAL", L"", L".\\localsystem", L"",
                                          FALSE),
                   E_INVALIDARG);
    c->ops->get_related(c, apps, L"Roles", &key, &roles);
    c->ops->populate(c, roles);
    {
        ComCollection *users = NULL;
        ComObject *role = NULL, *user = NULL;
        VARIANT role_key;
        c->ops->add(c, roles, &role);
        v = text(L"r");
        c->ops->put_value(c, role, L"Name", &v);
        VariantClear(&v);
        c->ops->save_changes(c, roles, &n);
        VariantInit(&role_key);
        c->ops->get_key(c, role, &role_key);
        c->ops->get_related(c, roles, L"UsersInRole", &role_key, &users);
        c->ops->populate(c, users);
        c->ops->add(c, users, &user);
        v = text(L".\\nobody-at-all");
        c->ops->put_value(c, user, L"User", &v);
        VariantClear(&v);
        expect_refused("SaveChanges of a user that is no account",
                       c->ops->save_changes(c, users, &n), COMADMIN_E_OBJECTERRORS);
        VariantClear(&role_key);
        c->ops->release_object(c, user);
        c->ops->release_object(c, role);
        c->ops->release_collection(c, users);
    }
    VariantClear(&key);
    c->ops->release_object(c, app);
    c->ops->release_object(c, twin);
    c->ops->release_collection(c, roles);
    c->ops->release_collection(c, apps);
    c->ops->free(c);
}

static bool key_exists(const wchar_t *key)
{
    HKEY h;

    if (RegOpenKeyExW(HKEY_LOCAL_MACHINE, key, 0, KEY_READ, &h) != ERROR_SUCCESS) {
        return false;
    }
    RegCloseKey(h);
    return true;
}

static void test_dll_registration(const wchar_t *dll_path)
{
    static const wchar_t clsid_key[] =
        L"SOFTWARE\\Classes\\CLSID\\{7D3E8A51-2C6B-4F08-A49E-15C26F8B30D7}";
    static const wchar_t progid_key[] = L"SOFTWARE\\Classes\\quiesce.VssProvider";
    HMODULE dll = LoadLibraryW(dll_path);
    HRESULT(WINAPI * reg)(void) =
        dll ? (HRESULT(WINAPI *)(void))(void (*)(void))GetProcAddress(dll, "DllRegisterServer")
            : NULL;
    char detail[64];
    HRESULT hr = reg ? reg() : E_NOINTERFACE;

    snprintf(detail, sizeof(detail), "0x%08lx", (unsigned long)hr);
    check(FAILED(hr) && !key_exists(clsid_key) && !key_exists(progid_key),
          "DllRegisterServer without VSS fails and leaves no key", detail);
    RegSetKeyValueW(HKEY_LOCAL_MACHINE, progid_key, NULL, REG_SZ, L"x", 4);
    check(key_exists(progid_key), "control: the check finds a key written by hand", NULL);
    RegDeleteTreeW(HKEY_LOCAL_MACHINE, progid_key);
    if (dll) {
        FreeLibrary(dll);
    }
}

int main(void)
{
    char dir[MAX_PATH], setting[MAX_PATH + 32];
    wchar_t wdir[MAX_PATH], dll[MAX_PATH], tlb[MAX_PATH], stdole[MAX_PATH];

    GetModuleFileNameA(NULL, dir, MAX_PATH);
    *strrchr(dir, '\\') = '\0';
    MultiByteToWideChar(CP_ACP, 0, dir, -1, wdir, MAX_PATH);
    _snwprintf(dll, MAX_PATH, L"%ls\\quiesce-vss-provider.dll", wdir);
    _snwprintf(tlb, MAX_PATH, L"%ls\\quiesce-vss-provider.tlb", wdir);
    GetSystemDirectoryW(stdole, MAX_PATH);
    wcscat(stdole, L"\\stdole2.tlb");
    snprintf(state_path, sizeof(state_path), "%s\\test-catalog-%lu.state", dir,
             GetCurrentProcessId());
    snprintf(setting, sizeof(setting), "QUIESCE_FAKE_CATALOG=%s", state_path);
    _putenv(setting);
    CoInitializeEx(NULL, COINIT_MULTITHREADED);

    reset();
    test_registration(dll, tlb);
    test_rollback(dll, tlb);
    test_misuse(dll, stdole);
    test_dll_registration(dll);
    reset();
    printf("%d failure(s)\n", failures);
    return failures ? 1 : 0;
}
