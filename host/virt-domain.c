/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * virt-domain.c — libvirt calls for one domain, with libvirt's errors as
 * GErrors (see the header).
 */
#include "host/virt-domain.h"

#include <libvirt/libvirt-qemu.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <string.h>

#include "protocol/json-stream.h"
#include "protocol/json-writer.h"
#include "common/quiesce-error.h"

#define VIRT_JOB_POLL_MS 250

struct VirtDomain {
    virConnectPtr conn;
    virDomainPtr dom;
    GPtrArray *disks; /* char * targets, owned */
    gboolean local;
};

/* libvirt's last error of this thread (errors are per thread) as a GError. */
static void virt_error(GError **error, int code, const char *what)
{
    const char *message = virGetLastErrorMessage();

    g_set_error(error, QUIESCE_ERROR, code, "%s: %s", what, message ? message : "unknown error");
    virResetLastError();
}

/* GMarkup collector of <devices><disk device='disk|lun'><target dev=.../>. */
typedef struct {
    GPtrArray *disks;
    int depth;          /* element depth: 1 domain, 2 devices, 3 disk */
    gboolean in_devices;
    gboolean in_disk;
    gboolean copy;      /* this disk is one we copy */
    char *target;
} DiskParse;

static void disk_parse_start(GMarkupParseContext *context, const char *element,
                             const char **names, const char **values, gpointer data,
                             GError **error)
{
    DiskParse *parse = data;

    (void)context;
    (void)error;
    parse->depth++;
    if (parse->depth == 2 && strcmp(element, "devices") == 0) {
        parse->in_devices = TRUE;
    } else if (parse->in_devices && parse->depth == 3 && strcmp(element, "disk") == 0) {
        const char *device = "disk";
        for (int i = 0; names[i]; i++) {
            if (strcmp(names[i], "device") == 0) {
                device = values[i];
            }
        }
        parse->in_disk = TRUE;
        parse->copy = strcmp(device, "disk") == 0 || strcmp(device, "lun") == 0;
        g_clear_pointer(&parse->target, g_free);
    } else if (parse->in_disk && parse->depth == 4 && strcmp(element, "target") == 0) {
        for (int i = 0; names[i]; i++) {
            if (strcmp(names[i], "dev") == 0) {
                g_free(parse->target);
                parse->target = g_strdup(values[i]);
            }
        }
    } else if (parse->in_disk && parse->depth == 4 && strcmp(element, "readonly") == 0) {
        parse->copy = FALSE;
    }
}

static void disk_parse_end(GMarkupParseContext *context, const char *element, gpointer data,
                           GError **error)
{
    DiskParse *parse = data;

    (void)context;
    (void)error;
    if (parse->in_disk && parse->depth == 3 && strcmp(element, "disk") == 0) {
        if (parse->copy && parse->target) {
            g_ptr_array_add(parse->disks, g_steal_pointer(&parse->target));
        }
        parse->in_disk = FALSE;
    } else if (parse->depth == 2 && strcmp(element, "devices") == 0) {
        parse->in_devices = FALSE;
    }
    parse->depth--;
}

static gboolean virt_domain_read_disks(VirtDomain *domain, GError **error)
{
    static const GMarkupParser parser = { disk_parse_start, disk_parse_end, NULL, NULL, NULL };
    g_autofree char *xml = virDomainGetXMLDesc(domain->dom, 0);
    DiskParse parse = { .disks = domain->disks };
    GMarkupParseContext *context;
    gboolean ok;

    if (!xml) {
        virt_error(error, QUIESCE_ERROR_FAILED, "virDomainGetXMLDesc");
        return FALSE;
    }
    context = g_markup_parse_context_new(&parser, 0, &parse, NULL);
    ok = g_markup_parse_context_parse(context, xml, -1, error) &&
         g_markup_parse_context_end_parse(context, error);
    g_markup_parse_context_free(context);
    g_free(parse.target);
    if (ok && domain->disks->len == 0) {
        g_set_error_literal(error, QUIESCE_ERROR, QUIESCE_ERROR_NOT_FOUND,
                            "the domain has no writable disk to back up");
        return FALSE;
    }
    return ok;
}

VirtDomain *virt_domain_open(const char *uri, const char *name, GError **error)
{
    g_autoptr(VirtDomain) domain = g_new0(VirtDomain, 1);
    g_autofree char *hostname = NULL;
    int state = 0;
    int reason = 0;

    domain->disks = g_ptr_array_new_with_free_func(g_free);
    domain->conn = virConnectOpen(uri);
    if (!domain->conn) {
        virt_error(error, QUIESCE_ERROR_FAILED, "virConnectOpen");
        return NULL;
    }
    /* virConnectIsRemote() is 0 only for a connection inside this process;
     * what matters here is whether the daemon's files are ours to delete. */
    domain->local = !uri || !strstr(uri, "://") || strncmp(strstr(uri, "://"), ":///", 4) == 0;
    domain->dom = virDomainLookupByName(domain->conn, name);
    if (!domain->dom) {
        virt_error(error, QUIESCE_ERROR_NOT_FOUND, name);
        return NULL;
    }
    if (virDomainGetState(domain->dom, &state, &reason, 0) < 0) {
        virt_error(error, QUIESCE_ERROR_FAILED, "virDomainGetState");
        return NULL;
    }
    if (state != VIR_DOMAIN_RUNNING && state != VIR_DOMAIN_PAUSED) {
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_STATE,
                    "%s is not running (state %d): only a running domain is backed up", name,
                    state);
        return NULL;
    }
    if (!virt_domain_read_disks(domain, error)) {
        return NULL;
    }
    return g_steal_pointer(&domain);
}

void virt_domain_free(VirtDomain *domain)
{
    if (!domain) {
        return;
    }
    if (domain->dom) {
        virDomainFree(domain->dom);
    }
    if (domain->conn) {
        virConnectClose(domain->conn);
    }
    g_ptr_array_unref(domain->disks);
    g_free(domain);
}

GPtrArray *virt_domain_disks(const VirtDomain *domain)
{
    return domain->disks;
}

char *virt_domain_describe(const VirtDomain *domain)
{
    g_autoptr(GString) text = g_string_new(NULL);

    for (guint i = 0; i < domain->disks->len; i++) {
        g_string_append_printf(text, "%s%s", i ? " " : "",
                               (const char *)g_ptr_array_index(domain->disks, i));
    }
    return g_string_free(g_steal_pointer(&text), FALSE);
}

gboolean virt_domain_is_local(const VirtDomain *domain)
{
    return domain->local;
}

gboolean virt_domain_is_paused(const VirtDomain *domain)
{
    int state = 0;
    int reason = 0;

    return virDomainGetState(domain->dom, &state, &reason, 0) == 0 && state == VIR_DOMAIN_PAUSED;
}

JsonValue *virt_domain_agent(VirtDomain *domain, const char *command, JsonValue *arguments,
                             int timeout_s, GError **error)
{
    g_autoptr(JsonValue) request = json_object_new();
    g_autofree char *text = NULL;
    g_autofree char *reply_text = NULL;
    g_autoptr(JsonValue) reply = NULL;
    ProtoError *perror = NULL;
    JsonValue *result;

    json_object_set_string(request, "execute", command);
    if (arguments) {
        json_object_set(request, "arguments", arguments);
    }
    text = json_value_to_wire(request, NULL);
    reply_text = virDomainQemuAgentCommand(domain->dom, text, timeout_s, 0);
    if (!reply_text) {
        const virError *last = virGetLastError();
        int code = last && last->code == VIR_ERR_AGENT_UNRESPONSIVE ? QUIESCE_ERROR_NOT_FOUND
                                                                    : QUIESCE_ERROR_FAILED;
        virt_error(error, code, command);
        return NULL;
    }
    reply = json_parse_string(reply_text, strlen(reply_text), &perror);
    if (!reply) {
        quiesce_error_take_proto(error, perror, "the agent's reply");
        return NULL;
    }
    result = json_object_get(reply, "return");
    if (!result) {
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED, "%s: no \"return\" in %s",
                    command, reply_text);
        return NULL;
    }
    return json_value_copy(result);
}

gboolean virt_domain_backup_begin(VirtDomain *domain, const char *dir, const char *prefix,
                                  GPtrArray *created, GError **error)
{
    g_autoptr(GString) xml = g_string_new("<domainbackup mode='push'><disks>");

    for (guint i = 0; i < domain->disks->len; i++) {
        const char *target = g_ptr_array_index(domain->disks, i);
        g_autofree char *path = g_strdup_printf("%s/%s.%s.img", dir, prefix, target);
        g_autofree char *escaped_target = g_markup_escape_text(target, -1);
        g_autofree char *escaped_path = g_markup_escape_text(path, -1);

        g_string_append_printf(xml,
                               "<disk name='%s' backup='yes' type='file'><target file='%s'/>"
                               "<driver type='raw'/></disk>",
                               escaped_target, escaped_path);
        g_ptr_array_add(created, g_steal_pointer(&path));
    }
    g_string_append(xml, "</disks></domainbackup>");
    if (virDomainBackupBegin(domain->dom, xml->str, NULL, 0) < 0) {
        virt_error(error, QUIESCE_ERROR_FAILED, "virDomainBackupBegin");
        return FALSE;
    }
    return TRUE;
}

static gboolean virt_job_stats(VirtDomain *domain, unsigned int flags, int *type, guint64 *done,
                               guint64 *total, char **errmsg, GError **error)
{
    virTypedParameterPtr params = NULL;
    int nparams = 0;
    unsigned long long value = 0;
    const char *text = NULL;

    if (virDomainGetJobStats(domain->dom, type, &params, &nparams, flags) < 0) {
        virt_error(error, QUIESCE_ERROR_FAILED, "virDomainGetJobStats");
        return FALSE;
    }
    *done = virTypedParamsGetULLong(params, nparams, VIR_DOMAIN_JOB_DISK_PROCESSED, &value) == 1
                ? value
                : 0;
    *total = virTypedParamsGetULLong(params, nparams, VIR_DOMAIN_JOB_DISK_TOTAL, &value) == 1
                 ? value
                 : 0;
    if (errmsg && virTypedParamsGetString(params, nparams, VIR_DOMAIN_JOB_ERRMSG, &text) == 1) {
        *errmsg = g_strdup(text);
    }
    virTypedParamsFree(params, nparams);
    return TRUE;
}

gboolean virt_domain_backup_wait(VirtDomain *domain, VirtProgressFunc progress, gpointer data,
                                 guint64 *bytes, GError **error)
{
    int type = VIR_DOMAIN_JOB_NONE;
    guint64 done = 0;
    guint64 total = 0;
    g_autofree char *errmsg = NULL;

    for (;;) {
        if (!virt_job_stats(domain, 0, &type, &done, &total, NULL, error)) {
            return FALSE;
        }
        if (type == VIR_DOMAIN_JOB_NONE) {
            break;
        }
        if (progress) {
            progress(done, total, data);
        }
        g_usleep(VIRT_JOB_POLL_MS * 1000);
    }
    /* The job ended: libvirt keeps its last statistics and how it ended. */
    if (!virt_job_stats(domain, VIR_DOMAIN_JOB_STATS_COMPLETED, &type, &done, &total, &errmsg,
                        error)) {
        return FALSE;
    }
    if (type != VIR_DOMAIN_JOB_COMPLETED) {
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED,
                    "the backup job ended without completing (job type %d, %" G_GUINT64_FORMAT
                    " of %" G_GUINT64_FORMAT " bytes): %s",
                    type, done, total, errmsg ? errmsg : "no reason given");
        return FALSE;
    }
    if (progress) {
        progress(done, total, data);
    }
    *bytes = done;
    return TRUE;
}

void virt_domain_backup_abort(VirtDomain *domain)
{
    int type = VIR_DOMAIN_JOB_NONE;
    virDomainJobInfo info;

    if (virDomainGetJobInfo(domain->dom, &info) == 0) {
        type = info.type;
    } else {
        virResetLastError();
    }
    if (type != VIR_DOMAIN_JOB_NONE && virDomainAbortJob(domain->dom) < 0) {
        virResetLastError();
    }
}

gboolean virt_domain_suspend(VirtDomain *domain, GError **error)
{
    if (virDomainSuspend(domain->dom) < 0) {
        virt_error(error, QUIESCE_ERROR_FAILED, "virDomainSuspend");
        return FALSE;
    }
    return TRUE;
}

gboolean virt_domain_resume(VirtDomain *domain, GError **error)
{
    if (virDomainResume(domain->dom) < 0) {
        virt_error(error, QUIESCE_ERROR_FAILED, "virDomainResume");
        return FALSE;
    }
    return TRUE;
}

gboolean virt_domain_save_memory(VirtDomain *domain, const char *path, GError **error)
{
    g_autoptr(GString) xml = g_string_new(NULL);
    g_autofree char *escaped = g_markup_escape_text(path, -1);
    virDomainSnapshotPtr snapshot;

    /* Memory only: every disk snapshot='no' (the disks are copied by the
     * backup job), no metadata (nothing for libvirt to track or delete). */
    g_string_append_printf(xml, "<domainsnapshot><memory snapshot='external' file='%s'/><disks>",
                           escaped);
    for (guint i = 0; i < domain->disks->len; i++) {
        g_autofree char *target = g_markup_escape_text(g_ptr_array_index(domain->disks, i), -1);
        g_string_append_printf(xml, "<disk name='%s' snapshot='no'/>", target);
    }
    g_string_append(xml, "</disks></domainsnapshot>");
    snapshot = virDomainSnapshotCreateXML(domain->dom, xml->str,
                                          VIR_DOMAIN_SNAPSHOT_CREATE_NO_METADATA);
    if (!snapshot) {
        virt_error(error, QUIESCE_ERROR_FAILED, "virDomainSnapshotCreateXML (memory)");
        return FALSE;
    }
    virDomainSnapshotFree(snapshot);
    return TRUE;
}
