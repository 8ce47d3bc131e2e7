/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * agent-client.h — the host's side of the guest agent channel (the chardev
 * socket behind the virtio-serial port org.qemu.guest_agent.0).
 *
 * Two ways to talk, because both matter:
 *   - ours: agent_client_sync() resynchronises the way QEMU's docs ask —
 *     0xFF, then guest-sync-delimited, retried with backoff until the agent
 *     answers, skipping everything before the 0xFF sentinel (the agent may not
 *     have the port open yet, and bytes sent before then pile up in the
 *     chardev, docs/qga-reference.md §4); commands then carry an "id" and replies are matched
 *     by it, so a late reply to an earlier request is never mistaken for the
 *     answer.
 *   - libvirt's (qemu_agent.c, docs/qga-reference.md §7): line framing, a plain
 *     guest-sync whose id is the time in ms, replies with another id skipped,
 *     commands without "id" whose next reply is the answer.
 */
#ifndef QUIESCE_HOST_AGENT_CLIENT_H
#define QUIESCE_HOST_AGENT_CLIENT_H

#include <glib.h>

#include "host/json-channel.h"

typedef struct AgentClient AgentClient;

AgentClient *agent_client_connect(const char *path, JsonChannelFraming framing,
                                  int timeout_ms, GError **error);
void agent_client_free(AgentClient *client);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AgentClient, agent_client_free)

/* 0xFF + guest-sync-delimited with backoff (100 ms doubling to 1 s) until a
 * reply carries one of the ids sent, or timeout_ms passes (TIMED_OUT).
 * *attempts, if non-NULL, receives the number of requests sent. */
gboolean agent_client_sync(AgentClient *client, int timeout_ms, guint *attempts, GError **error);

/* libvirt's sync: {"execute":"guest-sync", "arguments":{"id":<ms>}} once,
 * replies with another "return" skipped; out_id receives the id sent. */
gboolean agent_client_sync_libvirt(AgentClient *client, int timeout_ms, gint64 *out_id,
                                   GError **error);

/* Runs command with arguments (transfer full, may be NULL) and returns its
 * "return" member (transfer full). with_id: add an "id" and match the reply
 * by it (ours); without, the next reply is the answer (libvirt's). An error
 * reply is a GError: QUIESCE_ERROR_NOT_FOUND for CommandNotFound, else
 * QUIESCE_ERROR_FAILED, the message "CLASS: desc"; no reply TIMED_OUT. */
JsonValue *agent_client_execute(AgentClient *client, const char *command, JsonValue *arguments,
                                gboolean with_id, int timeout_ms, GError **error);

/* libvirt's way: sends text exactly as given (one request and its '\n')
 * and takes the next reply as the answer; command names it in errors. */
JsonValue *agent_client_execute_text(AgentClient *client, const char *command, const char *text,
                                     int timeout_ms, GError **error);

/* Sends a request and does not wait for the reply (a best-effort abort). */
gboolean agent_client_send(AgentClient *client, const char *command, JsonValue *arguments,
                           GError **error);

/* For reports, from a guest-snapshot-* reply: "code mountpoint: message;
 * ..." of its "reasons", and "a b c" of an array of mountpoints (strings, or
 * objects with a "mountpoint"). (transfer full) */
char *agent_reply_reasons(const JsonValue *reply);
char *agent_reply_mountpoints(const JsonValue *array);

#endif
