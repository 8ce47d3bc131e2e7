/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * network.c — guest-network-get-interfaces with qemu-ga 7.2's result
 * (qga/qapi-schema.json GuestNetworkInterface, qga/commands-posix.c): what
 * `virsh domifaddr --source agent` and Proxmox's IP display read.
 *
 * Interfaces come in getifaddrs() order, each once; an interface has
 * ip-addresses only when it has an IPv4 or IPv6 address, and statistics
 * (from /proc/net/dev) only then too, as in qemu-ga.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent/commands/commands.h"
#include "common/quiesce-error.h"

typedef struct {
    char *name;
    char *hardware_address; /* NULL until the ioctl gave one */
    JsonValue *addresses;   /* NULL until the first address */
    JsonValue *statistics;  /* NULL until /proc/net/dev had the interface */
} NetworkInterface;

static void network_interface_free(NetworkInterface *iface)
{
    g_free(iface->name);
    g_free(iface->hardware_address);
    json_value_free(iface->addresses);
    json_value_free(iface->statistics);
    g_free(iface);
}

/* The interface's counters from /proc/net/dev, or NULL when it is not
 * listed there (an alias such as "eth0:1", as in qemu-ga). (transfer full) */
static JsonValue *network_read_statistics(const char *name)
{
    static const char *const keys[] = { "rx-bytes", "rx-packets", "rx-errs", "rx-dropped",
                                        "tx-bytes", "tx-packets", "tx-errs", "tx-dropped" };
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;
    size_t name_len = strlen(name);

    if (!g_file_get_contents("/proc/net/dev", &text, NULL, NULL)) {
        return NULL;
    }
    lines = g_strsplit(text, "\n", -1);
    for (char **line = lines; *line; line++) {
        char *start = g_strchug(*line);
        char *colon = strchr(start, ':');
        long long v[16];

        if (!colon || (size_t)(colon - start) != name_len || strncmp(start, name, name_len)) {
            continue;
        }
        if (sscanf(colon + 1,
                   "%lld %lld %lld %lld %lld %lld %lld %lld %lld %lld %lld %lld %lld %lld %lld "
                   "%lld",
                   &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9], &v[10],
                   &v[11], &v[12], &v[13], &v[14], &v[15]) != 16) {
            continue;
        }
        JsonValue *stats = json_object_new();
        const long long picked[] = { v[0], v[1], v[2], v[3], v[8], v[9], v[10], v[11] };
        for (gsize i = 0; i < G_N_ELEMENTS(keys); i++) {
            json_object_set(stats, keys[i], json_uint_new((guint64)picked[i]));
        }
        return stats;
    }
    return NULL;
}

/* SIOCGIFHWADDR as qemu-ga asks it. FALSE only when no socket could be
 * made (which fails the whole command in qemu-ga); an interface without a
 * hardware address leaves *address NULL. */
static gboolean network_read_hw_address(const char *name, char **address, GError **error)
{
    struct ifreq ifr;
    int sock = socket(PF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (sock < 0) {
        int saved = errno;
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED, "failed to create socket: %s", g_strerror(saved));
        return FALSE;
    }
    memset(&ifr, 0, sizeof(ifr));
    g_strlcpy(ifr.ifr_name, name, IF_NAMESIZE);
    if (ioctl(sock, SIOCGIFHWADDR, &ifr) == 0) {
        const unsigned char *mac = (const unsigned char *)ifr.ifr_hwaddr.sa_data;
        *address = g_strdup_printf("%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2],
                                   mac[3], mac[4], mac[5]);
    } else {
        g_debug("no MAC address for %s: %s", name, g_strerror(errno));
    }
    close(sock);
    return TRUE;
}

static int network_prefix_length(const void *mask, gsize bytes)
{
    int bits = 0;

    for (gsize i = 0; i < bytes; i++) {
        bits += __builtin_popcount(((const unsigned char *)mask)[i]);
    }
    return bits;
}

/* An IPv4 or IPv6 address as qemu-ga lists it, or NULL for another family.
 * (transfer full) */
static JsonValue *network_address_new(const struct ifaddrs *ifa)
{
    char text[INET6_ADDRSTRLEN];
    const void *addr;
    const void *mask = NULL;
    gsize mask_bytes;
    int family;
    JsonValue *item;

    if (!ifa->ifa_addr) {
        return NULL;
    }
    family = ifa->ifa_addr->sa_family;
    if (family == AF_INET) {
        addr = &((const struct sockaddr_in *)ifa->ifa_addr)->sin_addr;
        mask = ifa->ifa_netmask ? &((const struct sockaddr_in *)ifa->ifa_netmask)->sin_addr : NULL;
        mask_bytes = sizeof(struct in_addr);
    } else if (family == AF_INET6) {
        addr = &((const struct sockaddr_in6 *)ifa->ifa_addr)->sin6_addr;
        mask = ifa->ifa_netmask ? &((const struct sockaddr_in6 *)ifa->ifa_netmask)->sin6_addr
                                : NULL;
        mask_bytes = sizeof(struct in6_addr);
    } else {
        return NULL;
    }
    /* Cannot fail: the family is right and the buffer is large enough. */
    g_assert(inet_ntop(family, addr, text, sizeof(text)));
    item = json_object_new();
    json_object_set_string(item, "ip-address", text);
    json_object_set_string(item, "ip-address-type", family == AF_INET ? "ipv4" : "ipv6");
    /* Without a netmask qemu-ga still sends the required prefix, as 0. */
    json_object_set_int(item, "prefix", mask ? network_prefix_length(mask, mask_bytes) : 0);
    return item;
}

static NetworkInterface *network_interface_find(GPtrArray *list, const char *name)
{
    for (guint i = 0; i < list->len; i++) {
        NetworkInterface *iface = g_ptr_array_index(list, i);
        if (g_str_equal(iface->name, name)) {
            return iface;
        }
    }
    return NULL;
}

static JsonValue *network_interface_json(NetworkInterface *iface)
{
    JsonValue *item = json_object_new();

    json_object_set_string(item, "name", iface->name);
    if (iface->hardware_address) {
        json_object_set_string(item, "hardware-address", iface->hardware_address);
    }
    if (iface->addresses) {
        json_object_set(item, "ip-addresses", g_steal_pointer(&iface->addresses));
    }
    if (iface->statistics) {
        json_object_set(item, "statistics", g_steal_pointer(&iface->statistics));
    }
    return item;
}

/* Every getifaddrs() entry adds to its interface: the hardware address is
 * asked again until one entry gets it, and the statistics are read with
 * the first address (again with the next one if that failed), as in
 * qemu-ga. */
static gboolean network_collect(const struct ifaddrs *ifap, GPtrArray *list, GError **error)
{
    for (const struct ifaddrs *ifa = ifap; ifa; ifa = ifa->ifa_next) {
        NetworkInterface *iface = network_interface_find(list, ifa->ifa_name);
        JsonValue *address;

        if (!iface) {
            iface = g_new0(NetworkInterface, 1);
            iface->name = g_strdup(ifa->ifa_name);
            g_ptr_array_add(list, iface);
        }
        if (!iface->hardware_address &&
            !network_read_hw_address(ifa->ifa_name, &iface->hardware_address, error)) {
            return FALSE;
        }
        address = network_address_new(ifa);
        if (!address) {
            continue;
        }
        if (!iface->addresses) {
            iface->addresses = json_array_new();
        }
        json_array_append(iface->addresses, address);
        if (!iface->statistics) {
            iface->statistics = network_read_statistics(iface->name);
        }
    }
    return TRUE;
}

static bool cmd_network_get_interfaces(void *context, const JsonValue *args, JsonValue **result,
                                       ProtoError **error)
{
    g_autoptr(GPtrArray) list =
        g_ptr_array_new_with_free_func((GDestroyNotify)network_interface_free);
    g_autoptr(GError) gerror = NULL;
    struct ifaddrs *ifap = NULL;
    gboolean ok;

    if (getifaddrs(&ifap) < 0) {
        proto_error_set(error, PROTO_ERROR_CLASS_GENERIC_ERROR, "getifaddrs failed: %s",
                        g_strerror(errno));
        return false;
    }
    ok = network_collect(ifap, list, &gerror);
    freeifaddrs(ifap);
    if (!ok) {
        proto_error_take_gerror(error, g_steal_pointer(&gerror));
        return false;
    }
    *result = json_array_new();
    for (guint i = 0; i < list->len; i++) {
        json_array_append(*result, network_interface_json(g_ptr_array_index(list, i)));
    }
    return true;
}

const CommandSpec commands_network[] = {
    { "guest-network-get-interfaces", cmd_network_get_interfaces, NULL, 0 },
};
const gsize commands_network_count = G_N_ELEMENTS(commands_network);
