/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * win-error.c — see the header.
 */
#include "windows/win-error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/proto-alloc.h"
#include "protocol/proto-buffer.h"

char *win_utf8_from_wide(const wchar_t *wide)
{
    int len = WideCharToMultiByte(CP_UTF8, 0, wide, -1, NULL, 0, NULL, NULL);
    char *utf8;

    if (len <= 0) {
        return proto_xstrdup("");
    }
    utf8 = proto_xmalloc((size_t)len);
    WideCharToMultiByte(CP_UTF8, 0, wide, -1, utf8, len, NULL, NULL);
    return utf8;
}

wchar_t *win_wide_from_utf8(const char *utf8)
{
    int len = MultiByteToWideChar(CP_UTF8, 0, utf8, -1, NULL, 0);
    wchar_t *wide;

    if (len <= 0) {
        return proto_xcalloc(1, sizeof(wchar_t));
    }
    wide = proto_xcalloc((size_t)len, sizeof(wchar_t));
    MultiByteToWideChar(CP_UTF8, 0, utf8, -1, wide, len);
    return wide;
}

char *win_error_message(DWORD code)
{
    wchar_t *text = NULL;
    DWORD n = FormatMessageW(FORMAT_MESSAGE_ALLOCATE_BUFFER | FORMAT_MESSAGE_FROM_SYSTEM |
                                 FORMAT_MESSAGE_IGNORE_INSERTS,
                             NULL, code, 0, (wchar_t *)&text, 0, NULL);
    char *utf8;
    size_t len;

    if (n == 0 || !text) {
        char hex[32];
        snprintf(hex, sizeof(hex), "error 0x%08lx", (unsigned long)code);
        return proto_xstrdup(hex);
    }
    utf8 = win_utf8_from_wide(text);
    LocalFree(text);
    len = strlen(utf8);
    while (len > 0 && (utf8[len - 1] == '\n' || utf8[len - 1] == '\r' || utf8[len - 1] == '.')) {
        utf8[--len] = '\0';
    }
    return utf8;
}

void win_error_set(ProtoError **error, DWORD code, const char *fmt, ...)
{
    va_list ap;
    char *what;
    char *system;

    if (!error) {
        return;
    }
    va_start(ap, fmt);
    what = proto_strdup_vprintf(fmt, ap);
    va_end(ap);
    system = win_error_message(code);
    proto_error_set(error, PROTO_ERROR_CLASS_GENERIC_ERROR, "%s: %s (0x%08lx)", what, system,
                    (unsigned long)code);
    free(system);
    free(what);
}
