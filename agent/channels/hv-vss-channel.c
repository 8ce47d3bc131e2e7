/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hv-vss-channel.c — see the header. Every request is answered from the
 * data callback, synchronously, exactly once: the kernel sends the next one
 * only after our reply (hv_snapshot.c serialises the host's transactions),
 * and the transport checks the one-reply-per-request rule.
 *
 * Log lines say what the host will do next (fall back, discard), because on
 * Hyper-V the operator sees only "production checkpoint fell back to
 * standard" and comes here to learn why.
 */
#include "agent/channels/hv-vss-channel.h"


#include "transports/hv-vss.h"

#define HV_VSS_FALLBACK "the host falls back to a standard checkpoint (Saved State)"

typedef struct {
    const char *spec;     /* borrowed from the Channel */
    Engine *engine;       /* borrowed */
    Transport *transport; /* owned */
    char *session_id;     /* owned: the session our FREEZE started, until THAW or loss */
    char *lost_id;        /* owned: a session thawed early because the device was lost,
                           * until the next THAW (answered E_FAIL) or FREEZE */
    char *thawed_id;      /* owned: the session the last request (a THAW) thawed, in
                           * case the kernel refuses that reply */
    GBytes *waiting;      /* owned: a request that came while the engine ran
                           * another channel's operation, or NULL */
    TransportConn waiting_conn;
    gboolean lost_waiting; /* the device was lost meanwhile */
} HvVssChannel;

/* "code: message; ..." of a saved-state verdict, for the log; failure_code
 * names failure (engine_get_failure_code()). */
static char *hv_vss_reasons(const EligibilityReport *report, const char *failure_code,
                            const GError *failure)
{
    g_autoptr(GString) out = g_string_new(NULL);

    for (guint i = 0; i < report->reasons->len; i++) {
        const EligibilityReason *reason = g_ptr_array_index(report->reasons, i);
        g_string_append_printf(out, "%s%s: %s", out->len ? "; " : "", reason->code,
                               reason->message);
    }
    if (failure) {
        g_string_append_printf(out, "%s%s: %s", out->len ? "; " : "",
                               failure_code ? failure_code : "failed", failure->message);
    }
    return g_string_free(g_steal_pointer(&out), FALSE);
}

/* Is the engine's active session the one our FREEZE started? */
static gboolean hv_vss_owns_session(const HvVssChannel *channel)
{
    const EngineSession *session = engine_get_session(channel->engine);

    return session && channel->session_id && g_str_equal(session->id, channel->session_id);
}

/* A HOT_BACKUP or FREEZE while our last session is still active: the host
 * abandoned it (it sends THAW after every successful FREEZE). Thaw it and
 * start afresh; an ended one of ours is forgotten, so no later thaw reports
 * it. */
static void hv_vss_drop_stale(HvVssChannel *channel)
{
    g_autoptr(GError) error = NULL;
    gboolean frozen = hv_vss_owns_session(channel);
    g_autofree char *id = g_steal_pointer(&channel->session_id);
    guint thawed = 0;

    if (!id) {
        return;
    }
    if (!engine_abort(channel->engine, id, &thawed, &error)) {
        if (frozen) {
            g_warning("hv-vss: aborting the host's abandoned session %s failed: %s", id,
                      error->message);
        }
        return;
    }
    if (frozen) {
        g_warning("hv-vss: a new backup while session %s was still frozen (the host never "
                  "sent its THAW): thawed %u filesystem(s), starting a new session",
                  id, thawed);
    }
}

static guint32 hv_vss_hot_backup(HvVssChannel *channel)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(EligibilityReport) report = NULL;
    const EngineSession *session = engine_get_session(channel->engine);
    g_autofree char *reasons = NULL;

    if (session && !hv_vss_owns_session(channel)) {
        g_warning("hv-vss: HOT_BACKUP: session %s of another channel holds the freeze; "
                  "answering E_FAIL, " HV_VSS_FALLBACK, session->id);
        return HV_E_FAIL;
    }
    /* A new backup while ours is still frozen: the host abandoned it. The
     * probe cannot run frozen, so thaw it now rather than at FREEZE. */
    hv_vss_drop_stale(channel);
    report = engine_check(channel->engine, &error);
    if (!report) {
        g_warning("hv-vss: HOT_BACKUP: cannot probe the guest: %s; answering E_FAIL, "
                  HV_VSS_FALLBACK, error->message);
        return HV_E_FAIL;
    }
    if (report->method != SNAPSHOT_METHOD_CHILD_SNAPSHOT) {
        reasons = hv_vss_reasons(report, NULL, NULL);
        g_warning("hv-vss: HOT_BACKUP: not eligible (%s); answering E_FAIL, " HV_VSS_FALLBACK,
                  reasons);
        return HV_E_FAIL;
    }
    g_info("hv-vss: HOT_BACKUP: eligible for a child snapshot, %u filesystem(s) to freeze",
           report->targets->len);
    return HV_S_OK;
}

/* What bounds the freeze, for the log. (transfer full) */
static char *hv_vss_window_text(const HvVssChannel *channel)
{
    guint window = engine_get_config(channel->engine)->window_seconds;

    return window ? g_strdup_printf("thawed on our own after %u s without THAW", window)
                  : g_strdup("no freeze window: frozen until THAW");
}

static guint32 hv_vss_freeze(HvVssChannel *channel)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GError) failure = NULL;
    g_autoptr(EligibilityReport) report = NULL;
    g_autofree char *reasons = NULL;
    g_autofree char *window = NULL;
    const EngineSession *session;
    gint64 start = g_get_monotonic_time();

    hv_vss_drop_stale(channel);
    g_clear_pointer(&channel->lost_id, g_free);
    if (!engine_prepare(channel->engine, &report, &failure, &error)) {
        g_warning("hv-vss: FREEZE: %s; answering E_FAIL, " HV_VSS_FALLBACK, error->message);
        return HV_E_FAIL;
    }
    session = engine_get_session(channel->engine);
    if (!session || failure) {
        /* On a failed rollback the engine keeps what it could not thaw and
         * its watchdog retries; the host is told to fall back either way. */
        reasons = hv_vss_reasons(report, engine_get_failure_code(channel->engine), failure);
        g_warning("hv-vss: FREEZE: saved-state (%s), %s; answering E_FAIL, " HV_VSS_FALLBACK,
                  reasons,
                  session ? "the thaw of what the rollback left frozen is being retried"
                          : "nothing left frozen");
        return HV_E_FAIL;
    }
    channel->session_id = g_strdup(session->id);
    window = hv_vss_window_text(channel);
    g_info("hv-vss: FREEZE: session %s, %u filesystem(s) frozen in %" G_GINT64_FORMAT " ms; %s",
           session->id, session->frozen->len, (g_get_monotonic_time() - start) / 1000,
           window);
    return HV_S_OK;
}

/* THAW with no session of ours. The host must learn that its snapshot is
 * bad when we thawed early: the device was lost meanwhile, or the agent
 * restarted while frozen (the engine remembers that broken session). */
static guint32 hv_vss_thaw_unowned(HvVssChannel *channel)
{
    const EngineEnded *ended = engine_get_ended(channel->engine);
    g_autoptr(GError) error = NULL;
    g_autofree char *id = NULL;
    guint thawed = 0;

    if (channel->lost_id) {
        id = g_steal_pointer(&channel->lost_id);
        g_warning("hv-vss: THAW: session %s was thawed early, when the device was lost; "
                  "answering E_FAIL (the host must discard the snapshot)",
                  id);
        return HV_E_FAIL;
    }
    if (!ended || ended->end != ENGINE_END_BROKEN) {
        g_info("hv-vss: THAW: nothing frozen by this channel; answering S_OK");
        return HV_S_OK;
    }
    id = g_strdup(ended->session_id);
    if (engine_post(channel->engine, id, &thawed, &error)) {
        return HV_S_OK; /* not reached: the post of an ended session fails */
    }
    g_warning("hv-vss: THAW: %s; answering E_FAIL (the host must discard the snapshot)",
              error->message);
    return HV_E_FAIL;
}

static guint32 hv_vss_thaw(HvVssChannel *channel)
{
    g_autoptr(GError) error = NULL;
    const EngineSession *session = engine_get_session(channel->engine);
    gint64 held_ms = session && session->frozen_mono
                         ? (g_get_monotonic_time() - session->frozen_mono) / 1000
                         : 0;
    g_autofree char *id = NULL;
    guint thawed = 0;

    if (!channel->session_id) {
        return hv_vss_thaw_unowned(channel);
    }
    id = g_strdup(channel->session_id);
    if (!engine_post(channel->engine, id, &thawed, &error)) {
        /* Keep the id while the engine still holds the session (a failed
         * FITHAW): a lost device or the next FREEZE then aborts it. */
        if (!hv_vss_owns_session(channel)) {
            g_clear_pointer(&channel->session_id, g_free);
        }
        g_warning("hv-vss: THAW: %s; answering E_FAIL (the host must discard the snapshot)",
                  error->message);
        return HV_E_FAIL;
    }
    g_clear_pointer(&channel->session_id, g_free);
    g_info("hv-vss: THAW: session %s, thawed %u filesystem(s) after %" G_GINT64_FORMAT " ms", id,
           thawed, held_ms);
    channel->thawed_id = g_steal_pointer(&id);
    return HV_S_OK;
}

static void hv_vss_channel_data(void *opaque, TransportConn conn, const char *bytes, gsize len)
{
    HvVssChannel *channel = opaque;
    guint operation = hv_vss_msg_get_operation(bytes);
    char reply[HV_VSS_MSG_SIZE];
    guint32 status;

    g_assert(len == HV_VSS_MSG_SIZE); /* the transport hands on whole messages */
    if (engine_get_busy(channel->engine)) {
        /* Another channel's freeze or thaw is in flight: this one waits
         * for it (the kernel sends nothing more until we reply). */
        channel->waiting = g_bytes_new(bytes, len);
        channel->waiting_conn = conn;
        return;
    }
    g_clear_pointer(&channel->thawed_id, g_free);
    /* A switch over the kernel's wire values, not an enum of ours. */
    switch (operation) {
    case VSS_OP_HOT_BACKUP:
        status = hv_vss_hot_backup(channel);
        break;
    case VSS_OP_FREEZE:
        status = hv_vss_freeze(channel);
        break;
    case VSS_OP_THAW:
        status = hv_vss_thaw(channel);
        break;
    default:
        g_warning("hv-vss: unknown operation %u (%s) from the kernel, which forwards only "
                  "HOT_BACKUP, FREEZE and THAW; answering S_OK as hv_vss_daemon does",
                  operation,
                  hv_vss_operation_name(operation) ? hv_vss_operation_name(operation)
                                                   : "not in linux/hyperv.h");
        status = HV_S_OK;
        break;
    }
    hv_vss_msg_make_reply(bytes, status, reply);
    transport_write(channel->transport, conn, reply, sizeof(reply));
}

static void hv_vss_channel_connected(void *opaque, TransportConn conn)
{
    HvVssChannel *channel = opaque;

    g_debug("%s: ready for the host's requests", channel->spec);
}

/* The registration is gone, and with it any chance of the host's THAW
 * reaching us: thaw now, as hv_vss_daemon does before it reopens. A THAW
 * whose reply was refused was hibernation's fake (hv_vss_pre_suspend): the
 * host's own THAW may still come, and must fail like the others. */
static void hv_vss_channel_disconnected(void *opaque, TransportConn conn)
{
    HvVssChannel *channel = opaque;
    g_autoptr(GError) error = NULL;
    gboolean frozen;
    g_autofree char *id = NULL;
    guint thawed = 0;

    g_clear_pointer(&channel->waiting, g_bytes_unref); /* nobody waits for its reply */
    if (engine_get_busy(channel->engine)) {
        channel->lost_waiting = TRUE; /* handled when the operation ends */
        return;
    }
    frozen = hv_vss_owns_session(channel);
    id = g_steal_pointer(&channel->session_id);

    if (!id && channel->thawed_id) {
        g_warning("hv-vss: the kernel refused our reply to the THAW of session %s (a "
                  "hibernation fakes one): the host's own THAW for it will be answered E_FAIL",
                  channel->thawed_id);
        g_free(channel->lost_id);
        channel->lost_id = g_steal_pointer(&channel->thawed_id);
    }
    if (!id) {
        return;
    }
    if (!engine_abort(channel->engine, id, &thawed, &error)) {
        if (frozen) {
            g_critical("hv-vss: lost the device with session %s frozen, and its thaw failed: %s",
                       id, error->message);
        }
        return;
    }
    if (frozen) {
        g_warning("hv-vss: lost the device while session %s was frozen: thawed %u "
                  "filesystem(s); a THAW for it will be answered E_FAIL",
                  id, thawed);
        g_free(channel->lost_id);
        channel->lost_id = g_steal_pointer(&id);
    }
}

static const TransportEvents hv_vss_channel_events = {
    .connected = hv_vss_channel_connected,
    .data = hv_vss_channel_data,
    .disconnected = hv_vss_channel_disconnected,
};

static void hv_vss_channel_resume(gpointer conversation)
{
    HvVssChannel *channel = conversation;
    g_autoptr(GBytes) waiting = NULL;
    gsize len;
    const char *bytes;

    if (engine_get_busy(channel->engine)) {
        return;
    }
    if (channel->lost_waiting) {
        channel->lost_waiting = FALSE;
        hv_vss_channel_disconnected(channel, TRANSPORT_CONN_SOLE);
    }
    if (channel->waiting) {
        waiting = g_steal_pointer(&channel->waiting);
        bytes = g_bytes_get_data(waiting, &len);
        hv_vss_channel_data(channel, channel->waiting_conn, bytes, len);
    }
}

static void hv_vss_channel_free(gpointer conversation)
{
    HvVssChannel *channel = conversation;

    if (!channel) {
        return;
    }
    transport_free(channel->transport); /* leaves the engine alone: the agent thaws on stop */
    g_free(channel->session_id);
    g_free(channel->lost_id);
    g_free(channel->thawed_id);
    g_clear_pointer(&channel->waiting, g_bytes_unref);
    g_free(channel);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HvVssChannel, hv_vss_channel_free)

static gpointer hv_vss_channel_new(Channel *handle, const char *spec,
                                   const ChannelContext *context, GError **error)
{
    g_autoptr(HvVssChannel) channel = g_new0(HvVssChannel, 1);

    channel->spec = channel_spec(handle);
    channel->engine = context->engine;
    channel->transport = transport_new(spec, &hv_vss_channel_events, channel, error);
    if (!channel->transport) {
        return NULL;
    }
    return g_steal_pointer(&channel);
}

/* Opens the device and starts the registration. Fails (QUIESCE_ERROR_BUSY
 * for EBUSY, naming the daemon to stop) when the device cannot be opened. */
static gboolean hv_vss_channel_open(gpointer conversation, GError **error)
{
    HvVssChannel *channel = conversation;

    return transport_open(channel->transport, error);
}

const ChannelKind channel_kind_hv_vss = {
    .framing = TRANSPORT_FRAMING_HV_VSS_MSG,
    .serves = "Hyper-V VSS requests",
    .new = hv_vss_channel_new,
    .open = hv_vss_channel_open,
    .resume = hv_vss_channel_resume,
    .free = hv_vss_channel_free,
};
