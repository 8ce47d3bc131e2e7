/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * transport.h — the one small ops table every channel kind fills.
 *
 * A transport moves bytes between the host and the agent and tells its owner
 * when a host connects or goes away; it knows nothing of JSON or commands.
 * One file per kind (unix.c, vsock.c, virtio-serial.c, isa-serial.c,
 * hv-vss.c); transport_new() picks the ops by the KIND of "KIND:ADDRESS"
 * from a name -> ops table (transport.c), so no shared code switches on the
 * kind. Each kind says how its bytes are framed, which is all the agent
 * needs to pick the conversation that runs over it (agent/channels/).
 */
#ifndef QUIESCE_TRANSPORTS_TRANSPORT_H
#define QUIESCE_TRANSPORTS_TRANSPORT_H

#include <glib.h>

typedef struct Transport Transport;

/* One host connection of a transport. A listening transport serves several
 * clients at once and numbers them from 1, never reusing a number; the
 * others have one host at a time, always TRANSPORT_CONN_SOLE. */
typedef guint TransportConn;
#define TRANSPORT_CONN_SOLE 0

typedef struct {
    /* A host connected (or reconnected): any partial input is stale. */
    void (*connected)(void *opaque, TransportConn conn);
    /* Bytes from that host (borrowed). */
    void (*data)(void *opaque, TransportConn conn, const char *bytes, gsize len);
    /* That host went away; may come from inside data() for the same conn
     * (a write to it failed or its queue overflowed). */
    void (*disconnected)(void *opaque, TransportConn conn);
} TransportEvents;

/* How a transport's bytes are cut into what the owner reads. */
typedef enum {
    TRANSPORT_FRAMING_STREAM,     /* a byte stream: QGA's JSON requests */
    TRANSPORT_FRAMING_HV_VSS_MSG, /* hv_vss's fixed-size records (hv-vss.h) */
} TransportFraming;

typedef struct {
    const char *kind;            /* "unix-listen", "virtio-serial", ... */
    TransportFraming framing;
    const char *default_address; /* NULL when an address is required */
    gsize priv_size;             /* bytes of private state, zeroed */
    /* Opens the channel and starts watching it on the thread-default main
     * context. */
    gboolean (*open)(Transport *transport, GError **error);
    /* Queues one reply to conn; dropped when that host is gone. */
    void (*write)(Transport *transport, TransportConn conn, const char *bytes, gsize len);
    /* Stops watching and releases everything open() acquired. */
    void (*close)(Transport *transport);
} TransportOps;

struct Transport {
    const TransportOps *ops;
    char *address;
    TransportEvents events;
    void *opaque;
    void *priv; /* ops->priv_size bytes owned by the transport kind */
};

/* Parses "KIND[:ADDRESS]" and returns an unopened transport, or NULL with
 * QUIESCE_ERROR_INVALID_ARGUMENT naming the known kinds. */
Transport *transport_new(const char *spec, const TransportEvents *events, void *opaque,
                         GError **error);
/* The framing of the kind a "KIND[:ADDRESS]" spec names; FALSE with the
 * same error as transport_new() for an unknown kind or a missing address
 * (the agent checks its channels with it before it touches anything). */
gboolean transport_spec_framing(const char *spec, TransportFraming *framing, GError **error);
gboolean transport_open(Transport *transport, GError **error);
void transport_write(Transport *transport, TransportConn conn, const char *bytes, gsize len);
/* Closes (if open) and frees. */
void transport_free(Transport *transport);
/* "unix-listen, vsock-listen, ..." for help texts. */
char *transport_kinds_describe(void);

/* Ops tables, one per file. */
extern const TransportOps transport_unix_listen_ops;
extern const TransportOps transport_vsock_listen_ops;
extern const TransportOps transport_virtio_serial_ops;
extern const TransportOps transport_isa_serial_ops;
extern const TransportOps transport_hv_vss_ops; /* hv-vss.h: its wire format */

G_DEFINE_AUTOPTR_CLEANUP_FUNC(Transport, transport_free)

#endif
