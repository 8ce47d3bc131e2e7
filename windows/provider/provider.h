/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * provider.h — between the provider object (provider.c) and the DLL's
 * COM entry points and registration (provider-dll.c).
 */
#ifndef QUIESCE_PROVIDER_H
#define QUIESCE_PROVIDER_H

#include <windows.h>

HRESULT provider_create(REFIID riid, void **out);
void provider_module_lock(void);
void provider_module_unlock(void);

/* The DLL's exports (provider.def); COM and regsvr32 call them by name. */
BOOL WINAPI DllMain(HINSTANCE instance, DWORD reason, LPVOID reserved);
HRESULT WINAPI DllRegisterServer(void);
HRESULT WINAPI DllUnregisterServer(void);

#endif
