/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * com-catalog-real.c — the COM+ catalog on Windows: ICOMAdminCatalog2
 * (CLSID_COMAdminCatalog, in-process), ICatalogCollection and
 * ICatalogObject from mingw's comadmin.h, called through lpVtbl. The
 * handles of com-catalog.h are these interface pointers. GetCollection,
 * get_Item and Add hand out IDispatch pointers; each is asked for the
 * interface it stands for rather than cast (qemu-ga casts them).
 */
#include <stdlib.h>
#include <windows.h>
#include <comadmin.h>

#include "windows/com-catalog.h"
#include "windows/win-error.h"

/* comadmin.h declares these; libuuid does not define them. */
static const CLSID admin_catalog_clsid = {
    0xf618c514, 0xdfb8, 0x11d1, {0xa2, 0xcf, 0x00, 0x80, 0x5f, 0xc7, 0x92, 0x35}};
static const IID admin_catalog2_iid = {
    0x790c6e0b, 0x9194, 0x4cc9, {0x94, 0x26, 0xa4, 0x8a, 0x63, 0x18, 0x56, 0x96}};
static const IID collection_iid = {
    0x6eb22872, 0x8a19, 0x11d0, {0x81, 0xb6, 0x00, 0xa0, 0xc9, 0x23, 0x1c, 0x29}};
static const IID object_iid = {
    0x6eb22871, 0x8a19, 0x11d0, {0x81, 0xb6, 0x00, 0xa0, 0xc9, 0x23, 0x1c, 0x29}};

typedef struct {
    ComCatalog base;
    ICOMAdminCatalog2 *admin;
    bool com_initialized;
} RealCatalog;

static ICOMAdminCatalog2 *admin_of(ComCatalog *c)
{
    return ((RealCatalog *)c)->admin;
}

/* Takes over the IDispatch and gives the interface iid of the same object. */
static HRESULT as_interface(IDispatch *dispatch, HRESULT hr, const IID *iid, void **out)
{
    *out = NULL;
    if (SUCCEEDED(hr) && !dispatch) {
        hr = E_POINTER;
    }
    if (SUCCEEDED(hr)) {
        hr = dispatch->lpVtbl->QueryInterface(dispatch, iid, out);
    }
    if (dispatch) {
        dispatch->lpVtbl->Release(dispatch);
    }
    return hr;
}

/* A BSTR of text for one call; NULL only when out of memory. */
static BSTR bstr(const wchar_t *text)
{
    return SysAllocString(text);
}

static HRESULT real_get_collection(ComCatalog *c, const wchar_t *name, ComCollection **out)
{
    IDispatch *dispatch = NULL;
    BSTR b = bstr(name);
    HRESULT hr = b ? admin_of(c)->lpVtbl->GetCollection(admin_of(c), b, &dispatch) : E_OUTOFMEMORY;

    SysFreeString(b);
    return as_interface(dispatch, hr, &collection_iid, (void **)out);
}

static HRESULT real_get_related(ComCatalog *c, ComCollection *parent, const wchar_t *name,
                                const VARIANT *key, ComCollection **out)
{
    ICatalogCollection *p = (ICatalogCollection *)parent;
    IDispatch *dispatch = NULL;
    BSTR b = bstr(name);
    HRESULT hr = b ? p->lpVtbl->GetCollection(p, b, *key, &dispatch) : E_OUTOFMEMORY;

    SysFreeString(b);
    return as_interface(dispatch, hr, &collection_iid, (void **)out);
}

static HRESULT real_populate(ComCatalog *c, ComCollection *collection)
{
    ICatalogCollection *p = (ICatalogCollection *)collection;
    return p->lpVtbl->Populate(p);
}

static HRESULT real_count(ComCatalog *c, ComCollection *collection, LONG *n)
{
    ICatalogCollection *p = (ICatalogCollection *)collection;
    return p->lpVtbl->get_Count(p, n);
}

static HRESULT real_item(ComCatalog *c, ComCollection *collection, LONG index, ComObject **out)
{
    ICatalogCollection *p = (ICatalogCollection *)collection;
    IDispatch *dispatch = NULL;
    HRESULT hr = p->lpVtbl->get_Item(p, index, &dispatch);

    return as_interface(dispatch, hr, &object_iid, (void **)out);
}

static HRESULT real_add(ComCatalog *c, ComCollection *collection, ComObject **out)
{
    ICatalogCollection *p = (ICatalogCollection *)collection;
    IDispatch *dispatch = NULL;
    HRESULT hr = p->lpVtbl->Add(p, &dispatch);

    return as_interface(dispatch, hr, &object_iid, (void **)out);
}

static HRESULT real_remove(ComCatalog *c, ComCollection *collection, LONG index)
{
    ICatalogCollection *p = (ICatalogCollection *)collection;
    return p->lpVtbl->Remove(p, index);
}

static HRESULT real_save_changes(ComCatalog *c, ComCollection *collection, LONG *changed)
{
    ICatalogCollection *p = (ICatalogCollection *)collection;
    return p->lpVtbl->SaveChanges(p, changed);
}

static HRESULT real_get_value(ComCatalog *c, ComObject *object, const wchar_t *property,
                              VARIANT *out)
{
    ICatalogObject *o = (ICatalogObject *)object;
    BSTR b = bstr(property);
    HRESULT hr = b ? o->lpVtbl->get_Value(o, b, out) : E_OUTOFMEMORY;

    SysFreeString(b);
    return hr;
}

static HRESULT real_put_value(ComCatalog *c, ComObject *object, const wchar_t *property,
                              const VARIANT *value)
{
    ICatalogObject *o = (ICatalogObject *)object;
    BSTR b = bstr(property);
    HRESULT hr = b ? o->lpVtbl->put_Value(o, b, *value) : E_OUTOFMEMORY;

    SysFreeString(b);
    return hr;
}

static HRESULT real_get_key(ComCatalog *c, ComObject *object, VARIANT *out)
{
    ICatalogObject *o = (ICatalogObject *)object;
    return o->lpVtbl->get_Key(o, out);
}

static HRESULT real_create_service(ComCatalog *c, const wchar_t *application,
                                   const wchar_t *service, const wchar_t *start_type,
                                   const wchar_t *error_control, const wchar_t *dependencies,
                                   const wchar_t *run_as, const wchar_t *password, BOOL desktop_ok)
{
    const wchar_t *texts[7] = {application,  service, start_type, error_control,
                               dependencies, run_as,  password};
    BSTR b[7];
    HRESULT hr = S_OK;

    for (size_t i = 0; i < 7; i++) {
        b[i] = bstr(texts[i]);
        if (!b[i]) {
            hr = E_OUTOFMEMORY;
        }
    }
    if (SUCCEEDED(hr)) {
        hr = admin_of(c)->lpVtbl->CreateServiceForApplication(
            admin_of(c), b[0], b[1], b[2], b[3], b[4], b[5], b[6],
            desktop_ok ? VARIANT_TRUE : VARIANT_FALSE);
    }
    for (size_t i = 0; i < 7; i++) {
        SysFreeString(b[i]);
    }
    return hr;
}

static HRESULT real_delete_service(ComCatalog *c, const wchar_t *application)
{
    BSTR b = bstr(application);
    HRESULT hr =
        b ? admin_of(c)->lpVtbl->DeleteServiceForApplication(admin_of(c), b) : E_OUTOFMEMORY;

    SysFreeString(b);
    return hr;
}

static HRESULT real_install_component(ComCatalog *c, const wchar_t *application, const wchar_t *dll,
                                      const wchar_t *tlb, const wchar_t *proxy_stub_dll)
{
    BSTR app = bstr(application), d = bstr(dll), t = bstr(tlb), ps = bstr(proxy_stub_dll);
    HRESULT hr = app && d && t && ps
                     ? admin_of(c)->lpVtbl->InstallComponent(admin_of(c), app, d, t, ps)
                     : E_OUTOFMEMORY;

    SysFreeString(app);
    SysFreeString(d);
    SysFreeString(t);
    SysFreeString(ps);
    return hr;
}

static void real_release_collection(ComCatalog *c, ComCollection *collection)
{
    ICatalogCollection *p = (ICatalogCollection *)collection;
    p->lpVtbl->Release(p);
}

static void real_release_object(ComCatalog *c, ComObject *object)
{
    ICatalogObject *o = (ICatalogObject *)object;
    o->lpVtbl->Release(o);
}

static void real_free(ComCatalog *c)
{
    RealCatalog *real = (RealCatalog *)c;

    real->admin->lpVtbl->Release(real->admin);
    if (real->com_initialized) {
        CoUninitialize();
    }
    free(real);
}

static const ComCatalogOps real_ops = {
    real_get_collection,
    real_get_related,
    real_populate,
    real_count,
    real_item,
    real_add,
    real_remove,
    real_save_changes,
    real_get_value,
    real_put_value,
    real_get_key,
    real_create_service,
    real_delete_service,
    real_install_component,
    real_release_collection,
    real_release_object,
    real_free,
};

ComCatalog *com_catalog_new(ProtoError **error)
{
    RealCatalog *real = calloc(1, sizeof(*real));
    HRESULT hr;

    if (!real) {
        win_error_set(error, (DWORD)E_OUTOFMEMORY, "cannot open the COM+ catalog");
        return NULL;
    }
    real->base.ops = &real_ops;
    real->com_initialized = SUCCEEDED(CoInitializeEx(NULL, COINIT_MULTITHREADED));
    hr = CoCreateInstance(&admin_catalog_clsid, NULL, CLSCTX_INPROC_SERVER, &admin_catalog2_iid,
                          (void **)&real->admin);
    if (FAILED(hr)) {
        win_error_set(error, (DWORD)hr, "cannot open the COM+ catalog (COMAdminCatalog)");
        if (real->com_initialized) {
            CoUninitialize();
        }
        free(real);
        return NULL;
    }
    return &real->base;
}
