/*
 * listener.h — a listening socket serving one client at a time, shared by
 * unix-listen and vsock-listen.
 *
 * Like qemu-ga, only one host connection is served at once: while a client is
 * connected the listening socket is not watched, so a second client waits in
 * the backlog and is served when the first leaves. Every accepted connection
 * is reported as "connected" so the protocol layer starts from a clean parser.
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

typedef struct {
    int listen_fd;
    int client_fd;
    guint listen_watch; /* 0 while a client is served or accepting is paused */
    guint retry_timer;  /* re-arms listen_watch after a resource error */
    int accept_errno;   /* the last accept() error that paused us; 0 when none */
    FdStream *stream;
    Transport *transport;
} Listener;

/* Takes ownership of listen_fd (bound, listening, O_NONBLOCK|O_CLOEXEC). */
void listener_start(Listener *listener, Transport *transport, int listen_fd);
void listener_write(Listener *listener, const char *bytes, gsize len);
void listener_stop(Listener *listener);

#endif
