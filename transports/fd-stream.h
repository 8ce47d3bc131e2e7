/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fd-stream.h — non-blocking reads and queued writes on one connected fd,
 * shared by every byte-stream transport.
 *
 * Reads at most 4096 bytes at a time (qemu-ga's QGA_READ_COUNT_DEFAULT) and
 * hands them on; end of file, a read error or POLLHUP ends the stream through
 * the closed callback. What was queued and not yet written when the peer
 * hung up stays in the stream for fd_stream_take_unsent() until it is freed
 * (virtio-serial hands it to the next host, transports/virtio-serial.c). Writes that would block are queued behind a G_IO_OUT
 * watch; a peer that stops reading may queue at most FD_STREAM_MAX_QUEUED
 * bytes before the stream is closed, so it cannot grow our memory. One
 * write alone may exceed it when nothing is queued: a single reply is
 * bounded by its command (qemu-ga's largest, a 48 MiB guest-file-read,
 * is 64 MiB in base64), and refusing it would fail a valid request.
 */
#ifndef QUIESCE_TRANSPORTS_FD_STREAM_H
#define QUIESCE_TRANSPORTS_FD_STREAM_H

#include <glib.h>

#define FD_STREAM_MAX_QUEUED (16u * 1024 * 1024)

typedef struct FdStream FdStream;

typedef void (*FdStreamData)(void *opaque, const char *bytes, gsize len);
/* Called once when the stream ends; the owner then frees the stream (not from
 * inside the callback's caller frame: schedule or just free, both are safe). */
typedef void (*FdStreamClosed)(void *opaque);

/* fd is borrowed (the transport owns and closes it) and must be O_NONBLOCK. */
FdStream *fd_stream_new(int fd, FdStreamData data, FdStreamClosed closed, void *opaque);
void fd_stream_write(FdStream *stream, const char *bytes, gsize len);
/* Moves the bytes queued but not written (after a hang-up: see above) to the
 * end of `into`. A stream ended for a write error or an overfull queue keeps
 * none. */
void fd_stream_take_unsent(FdStream *stream, GByteArray *into);
void fd_stream_free(FdStream *stream);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(FdStream, fd_stream_free)

#endif
