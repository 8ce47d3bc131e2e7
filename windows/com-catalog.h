/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * com-catalog.h — every COM+ catalog call the provider's registration makes
 * goes through this table, as every VSS call goes through vss-backend.h:
 * wine has no COM+ catalog, so the test build puts a fake in its place
 * that follows the same interface and refuses misuse
 * (tests/windows/fake-catalog.c). The shipped exe links the real one
 * (com-catalog-real.c: ICOMAdminCatalog2, ICatalogCollection and
 * ICatalogObject of mingw's comadmin.h, through lpVtbl).
 *
 * One op per interface method used, with the method's arguments and
 * HRESULT; collections and objects are opaque handles the backend owns
 * until released. The registration itself (which calls, which settings,
 * the rollback) is provider-catalog.c's, shared by both.
 */
#ifndef QUIESCE_COM_CATALOG_H
#define QUIESCE_COM_CATALOG_H

#include <stdbool.h>
#include <windows.h>
#include <oleauto.h>

#include "protocol/proto-error.h"

typedef struct ComCatalog ComCatalog;
typedef struct ComCollection ComCollection; /* an ICatalogCollection */
typedef struct ComObject ComObject;         /* an ICatalogObject */

typedef struct {
    /* ICOMAdminCatalog::GetCollection (a top-level collection). */
    HRESULT (*get_collection)(ComCatalog *c, const wchar_t *name, ComCollection **out);
    /* ICatalogCollection::GetCollection: the child collection name of the
     * parent's object whose key is key. */
    HRESULT (*get_related)
    (ComCatalog *c, ComCollection *parent, const wchar_t *name, const VARIANT *key,
     ComCollection **out);
    HRESULT (*populate)(ComCatalog *c, ComCollection *collection);
    HRESULT (*count)(ComCatalog *c, ComCollection *collection, LONG *n);
    /* get_Item; (transfer full) handle */
    HRESULT (*item)(ComCatalog *c, ComCollection *collection, LONG index, ComObject **out);
    HRESULT (*add)(ComCatalog *c, ComCollection *collection, ComObject **out);
    HRESULT (*remove)(ComCatalog *c, ComCollection *collection, LONG index);
    HRESULT (*save_changes)(ComCatalog *c, ComCollection *collection, LONG *changed);
    /* ICatalogObject get_Value / put_Value / get_Key; out is the caller's
     * to VariantClear. */
    HRESULT (*get_value)(ComCatalog *c, ComObject *object, const wchar_t *property, VARIANT *out);
    HRESULT (*put_value)
    (ComCatalog *c, ComObject *object, const wchar_t *property, const VARIANT *value);
    HRESULT (*get_key)(ComCatalog *c, ComObject *object, VARIANT *out);
    /* ICOMAdminCatalog2::CreateServiceForApplication / DeleteServiceForApplication */
    HRESULT (*create_service)
    (ComCatalog *c, const wchar_t *application, const wchar_t *service, const wchar_t *start_type,
     const wchar_t *error_control, const wchar_t *dependencies, const wchar_t *run_as,
     const wchar_t *password, BOOL desktop_ok);
    HRESULT (*delete_service)(ComCatalog *c, const wchar_t *application);
    /* ICOMAdminCatalog::InstallComponent */
    HRESULT (*install_component)
    (ComCatalog *c, const wchar_t *application, const wchar_t *dll, const wchar_t *tlb,
     const wchar_t *proxy_stub_dll);
    void (*release_collection)(ComCatalog *c, ComCollection *collection);
    void (*release_object)(ComCatalog *c, ComObject *object);
    void (*free)(ComCatalog *c);
} ComCatalogOps;

struct ComCatalog {
    const ComCatalogOps *ops;
};

/* The catalog the program links: com-catalog-real.c in quiesced.exe,
 * tests/windows/fake-catalog.c in the test build. (transfer full) */
ComCatalog *com_catalog_new(ProtoError **error);

/* The COM+ application that hosts our provider (provider-catalog.c). */
#define WIN_PROVIDER_APPLICATION L"quiesce VSS provider"

/* Registers the provider DLL (with its type library tlb) as the COM+
 * application WIN_PROVIDER_APPLICATION, as qemu-ga's COMRegister does
 * (docs/windows.md "The provider's registration"); an application of that
 * name already there is replaced. On failure everything it added is
 * removed again and error says which call failed. */
bool win_provider_catalog_register(ComCatalog *catalog, const wchar_t *dll, const wchar_t *tlb,
                                   ProtoError **error);
/* Removes every application of that name, and its service. */
bool win_provider_catalog_unregister(ComCatalog *catalog, ProtoError **error);

#endif
