/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * win-error.h — the one Win32 error edge: a Win32 error code or an HRESULT
 * becomes the core's ProtoError (docs/style.md §3), with the system's own
 * text appended so an operator can search for it.
 */
#ifndef QUIESCE_WIN_ERROR_H
#define QUIESCE_WIN_ERROR_H

#include <windows.h>

#include "protocol/proto-error.h"

/* Sets *error to "<formatted>: <system message> (0x%08lx)". code is a Win32
 * error (GetLastError()) or an HRESULT; both print the same way. */
void win_error_set(ProtoError **error, DWORD code, const char *fmt, ...)
    PROTO_FORMAT_PRINTF(3, 4);

/* The system's message for code, UTF-8, without the trailing newline, or a
 * hex number when it has none (VSS_E_* codes have none outside vssapi).
 * (transfer full) */
char *win_error_message(DWORD code);

/* UTF-16 <-> UTF-8; (transfer full), never NULL (invalid input is replaced). */
char *win_utf8_from_wide(const wchar_t *wide);
wchar_t *win_wide_from_utf8(const char *utf8);

#endif
