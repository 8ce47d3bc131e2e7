/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * proto-compiler.h — compiler attributes shared by the protocol core's headers.
 *
 * mingw-w64's GCC maps the "printf" format archetype to msvcrt's dialect, which
 * has no %zu, so -Wformat (an error in CI) would reject correct calls. The
 * core formats through mingw's C99 printf (__USE_MINGW_ANSI_STDIO, set in
 * protocol/CMakeLists.txt), whose dialect is "gnu_printf". Clang and
 * native GCC know only "printf", which is already the C99 dialect there.
 */
#ifndef QUIESCE_PROTO_COMPILER_H
#define QUIESCE_PROTO_COMPILER_H

#if defined(__MINGW32__) && !defined(__clang__)
#define PROTO_FORMAT_PRINTF(fmt, args) __attribute__((format(gnu_printf, fmt, args)))
#else
#define PROTO_FORMAT_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#endif

#endif
