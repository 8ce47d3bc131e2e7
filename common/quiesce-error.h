/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * quiesce-error.h — the one GError domain of the GLib side (fsfreeze,
 * transports, writers, agent). Codes say what kind of failure it was; the
 * protocol layer alone maps them to QGA error classes
 * (agent/commands/command-error.c). Helpers set errors and do not log.
 */
#ifndef QUIESCE_COMMON_ERROR_H
#define QUIESCE_COMMON_ERROR_H

#include <glib.h>

#define QUIESCE_ERROR (quiesce_error_quark())
GQuark quiesce_error_quark(void);

typedef enum {
    QUIESCE_ERROR_FAILED,           /* an operation failed; errno in the message */
    QUIESCE_ERROR_INVALID_ARGUMENT, /* bad input from a peer, config or command line */
    QUIESCE_ERROR_BUSY,             /* frozen by someone else, device held, ... */
    QUIESCE_ERROR_NOT_SUPPORTED,    /* the filesystem or platform cannot do it */
    QUIESCE_ERROR_TIMED_OUT,        /* a writer or step ran past its limit */
    QUIESCE_ERROR_EXPIRED,          /* the freeze window expired before post */
    QUIESCE_ERROR_STATE,            /* wrong session state for this request */
    QUIESCE_ERROR_NOT_FOUND,        /* no such mount, session, writer */
} QuiesceError;

#endif
