/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * listener.h — a listening socket serving several clients at once, shared by
 * unix-listen and vsock-listen.
 *
 * Unlike qemu-ga, which serves one connection and leaves the next in the
 * backlog until the first hangs up, every accepted client is served at
 * once (docs/design.md §3): a client that connects and sends nothing, or a
 * request a byte a second, cannot hold up another host. Each client is a
 * connection of its own (TransportConn, numbered from 1 and never reused):
 * "connected" when accepted, so the protocol layer gives it a clean parser,
 * "disconnected" when it leaves. At most LISTENER_MAX_CLIENTS are served
 * at a time (a limit on what peers control); while that many are
 * connected the listening socket is not watched and further clients wait
 * in the backlog.
 *
 * When accept() fails for want of resources (EMFILE, ENFILE, ENOBUFS,
 * ENOMEM) the pending connection stays queued and the listening socket stays
 * readable: watching it would spin the main loop at full CPU. The watch is
 * then removed and re-armed after LISTENER_RETRY_MS instead.
 */
#ifndef QUIESCE_TRANSPORTS_LISTENER_H
#define QUIESCE_TRANSPORTS_LISTENER_H

#include "transports/fd-stream.h"
#include "transports/transport.h"

#define LISTENER_RETRY_MS 250
#define LISTENER_MAX_CLIENTS 16
#define LISTENER_BACKLOG LISTENER_MAX_CLIENTS

typedef struct {
    int listen_fd;
    guint listen_watch; /* 0 while full or while accepting is paused */
    guint retry_timer;  /* re-arms listen_watch after a resource error */
    int accept_errno;   /* the last accept() error that paused us; 0 when none */
    GPtrArray *clients; /* ListenerClient (listener.c), owned */
    guint reap_idle;    /* frees the clients that left */
    TransportConn last_conn;
    Transport *transport;
} Listener;

/* Takes ownership of listen_fd (bound, listening, O_NONBLOCK|O_CLOEXEC). */
void listener_start(Listener *listener, Transport *transport, int listen_fd);
/* To client conn; dropped when it is gone. */
void listener_write(Listener *listener, TransportConn conn, const char *bytes, gsize len);
void listener_stop(Listener *listener);

#endif
