/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * transport.c — the name -> ops table and the calls that go through it.
 */
#include "transports/transport.h"

#include "common/quiesce-error.h"

static const TransportOps *const transport_table[] = {
    &transport_unix_listen_ops,
    &transport_vsock_listen_ops,
    &transport_virtio_serial_ops,
    &transport_isa_serial_ops,
    &transport_hv_vss_ops,
};

static const TransportOps *transport_ops_lookup(const char *kind)
{
    for (gsize i = 0; i < G_N_ELEMENTS(transport_table); i++) {
        if (g_str_equal(transport_table[i]->kind, kind)) {
            return transport_table[i];
        }
    }
    return NULL;
}

char *transport_kinds_describe(void)
{
    g_autoptr(GString) out = g_string_new(NULL);

    for (gsize i = 0; i < G_N_ELEMENTS(transport_table); i++) {
        g_string_append_printf(out, "%s%s", i ? ", " : "", transport_table[i]->kind);
    }
    return g_string_free(g_steal_pointer(&out), FALSE);
}

/* The ops of spec's KIND, and its ADDRESS (*parts[1]) if any. */
static const TransportOps *transport_spec_ops(const char *spec, GStrv *parts, GError **error)
{
    const TransportOps *ops;

    *parts = g_strsplit(spec, ":", 2);
    ops = (*parts)[0] ? transport_ops_lookup((*parts)[0]) : NULL;
    if (!ops) {
        g_autofree char *kinds = transport_kinds_describe();
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_INVALID_ARGUMENT,
                    "unknown channel kind in '%s' (known: %s)", spec, kinds);
    }
    return ops;
}

/* The ops of spec's KIND and the address it names, or the kind's default;
 * an error when either is missing. */
static const TransportOps *transport_spec_parse(const char *spec, GStrv *parts,
                                                const char **address, GError **error)
{
    const TransportOps *ops = transport_spec_ops(spec, parts, error);

    if (!ops) {
        return NULL;
    }
    *address = (*parts)[1] && *(*parts)[1] ? (*parts)[1] : ops->default_address;
    if (!*address) {
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_INVALID_ARGUMENT,
                    "channel '%s' needs an address: %s:ADDRESS", spec, ops->kind);
        return NULL;
    }
    return ops;
}

gboolean transport_spec_framing(const char *spec, TransportFraming *framing, GError **error)
{
    g_auto(GStrv) parts = NULL;
    const char *address;
    const TransportOps *ops = transport_spec_parse(spec, &parts, &address, error);

    if (!ops) {
        return FALSE;
    }
    *framing = ops->framing;
    return TRUE;
}

Transport *transport_new(const char *spec, const TransportEvents *events, void *opaque,
                         GError **error)
{
    g_auto(GStrv) parts = NULL;
    const char *address;
    const TransportOps *ops = transport_spec_parse(spec, &parts, &address, error);
    Transport *transport;

    if (!ops) {
        return NULL;
    }
    transport = g_new0(Transport, 1);
    transport->ops = ops;
    transport->address = g_strdup(address);
    transport->events = *events;
    transport->opaque = opaque;
    transport->priv = g_malloc0(ops->priv_size);
    return transport;
}

gboolean transport_open(Transport *transport, GError **error)
{
    return transport->ops->open(transport, error);
}

void transport_write(Transport *transport, TransportConn conn, const char *bytes, gsize len)
{
    transport->ops->write(transport, conn, bytes, len);
}

void transport_free(Transport *transport)
{
    if (!transport) {
        return;
    }
    transport->ops->close(transport);
    g_free(transport->priv);
    g_free(transport->address);
    g_free(transport);
}
