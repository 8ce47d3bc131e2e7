/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * quiesce-error.c — the QUIESCE_ERROR quark.
 */
#include "common/quiesce-error.h"

G_DEFINE_QUARK(quiesce-error-quark, quiesce_error)
