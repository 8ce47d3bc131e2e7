/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hv-vss-cuse.c — runs inside the vm-test guest: creates /dev/vmbus/hv_vss
 * with CUSE (the kernel's Hyper-V VSS device, modelled in vss-device.h) and
 * serves the host's requests from a control port (vss-control.h), so the
 * unmodified daemons can be tested end to end in a QEMU guest that has no
 * VMBus. Needs /dev/cuse (modules fuse and cuse).
 *
 * usage: hv-vss-cuse --control /dev/virtio-ports/org.quiesce.hvvss-ctl.0
 *                    [--devname vmbus/hv_vss]
 * Stays in the foreground; logs to stderr.
 */
#include <stdio.h>
#include <stdlib.h>

#include "tests/vm/hv-vss-cuse/vss-control.h"
#include "tests/vm/hv-vss-cuse/vss-device.h"

/* Command-line option variables: the one allowed kind of global (docs/style.md §5). */
static char *opt_control;
static char *opt_devname;

static const GOptionEntry main_options[] = {
    {"control", 'c', 0, G_OPTION_ARG_FILENAME, &opt_control,
     "The port the host's requests come from (vss-control.h)", "PATH"},
    {"devname", 'd', 0, G_OPTION_ARG_STRING, &opt_devname,
     "The device's name under /dev (default vmbus/hv_vss)", "NAME"},
    {NULL, 0, 0, 0, NULL, NULL, NULL},
};

typedef struct {
    VssDevice *device;
    const char *path;
} MainControl;

static gpointer main_control_thread(gpointer data)
{
    MainControl *control = data;

    vss_control_serve(control->device, control->path);
    return NULL;
}

int main(int argc, char *argv[])
{
    g_autoptr(GOptionContext) context = g_option_context_new("- an emulated /dev/vmbus/hv_vss");
    g_autoptr(GError) error = NULL;
    g_autofree char *devname_arg = NULL;
    const char *dev_info[1];
    /* libfuse's own options: foreground, single-threaded loop. */
    char *fuse_argv[] = {argv[0], "-f", "-s", NULL};
    struct cuse_info info = {0};
    struct fuse_session *session;
    MainControl control;
    int multithreaded = 0;
    int rc;

    g_option_context_add_main_entries(context, main_options, NULL);
    if (!g_option_context_parse(context, &argc, &argv, &error)) {
        fprintf(stderr, "hv-vss-cuse: %s\n", error->message);
        return 2;
    }
    if (!opt_control) {
        fprintf(stderr, "hv-vss-cuse: --control PATH is required\n");
        return 2;
    }
    devname_arg = g_strdup_printf("DEVNAME=%s", opt_devname ? opt_devname : "vmbus/hv_vss");
    dev_info[0] = devname_arg;
    info.dev_info_argc = 1;
    info.dev_info_argv = dev_info;

    control.device = vss_device_new();
    control.path = opt_control;
    session = cuse_lowlevel_setup(3, fuse_argv, &info, vss_device_get_ops(), &multithreaded,
                                  control.device);
    if (!session) {
        fprintf(stderr, "hv-vss-cuse: CUSE setup failed (is /dev/cuse there? modules fuse "
                        "and cuse)\n");
        return 1;
    }
    g_thread_unref(g_thread_new("control", main_control_thread, &control));
    rc = fuse_session_loop(session);
    cuse_lowlevel_teardown(session);
    /* The control thread may still use the device: leave it to exit(). */
    return rc == 0 ? 0 : 1;
}
