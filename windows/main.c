/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * main.c — quiesced.exe's options. Without --foreground it runs as the
 * service (started by the SCM); --install / --uninstall register and
 * remove it. The VSS backend is the one the program was linked with: the
 * test build links a fake (tests/windows/), the shipped exe the real one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "windows/agent.h"
#include "windows/channel.h"
#include "windows/service.h"

static const char usage[] =
    "usage: quiesced [--foreground] [--channel KIND[:ADDRESS]]... [--window S]\n"
    "                [--host-lost-grace S] [--full-backup] [--strict] [--allow-dynamic]\n"
    "                [--debug]\n"
    "       quiesced --install [OPTION]... | --uninstall | --install-provider |\n"
    "                --uninstall-provider | --disable-qemu-ga | --restore-qemu-ga\n"
    "--install's options (--channel, --window ...) go on the service's command line.\n"
    "KIND: virtio-serial (default), isa-serial, pipe (pipe:\\\\.\\pipe\\NAME)\n";

static WinAgent *console_agent; /* for the console handler, which has no context */

static BOOL WINAPI console_stop(DWORD type)
{
    if (console_agent) {
        SetEvent(win_agent_stop_event(console_agent));
        return TRUE;
    }
    return FALSE;
}

static bool parse_seconds(const char *text, unsigned min, unsigned max, unsigned *out)
{
    char *end;
    unsigned long value = strtoul(text, &end, 10);

    if (*text == '\0' || *end != '\0' || value < min || value > max) {
        fprintf(stderr, "quiesced: '%s' is not a number of seconds in %u-%u\n", text, min, max);
        return false;
    }
    *out = (unsigned)value;
    return true;
}

static int run_foreground(const WinAgentConfig *config)
{
    WinLog *log = win_log_new(false, true, config->debug);
    ProtoError *error = NULL;
    WinAgent *agent = win_agent_new(config, log, vss_backend_new, &error);

    if (!agent) {
        win_log(log, WIN_LOG_ERROR, "%s", error->desc);
        proto_error_free(error);
        win_log_free(log);
        return 1;
    }
    console_agent = agent;
    SetConsoleCtrlHandler(console_stop, TRUE);
    win_log(log, WIN_LOG_INFO, "serving %zu channel(s)", config->n_channels);
    win_agent_run(agent);
    console_agent = NULL;
    win_agent_free(agent);
    win_log_free(log);
    return 0;
}

/* Takes the error's address, not its value: C leaves the order of a call's
 * arguments open, so finish(f(&error), error) may read error before f. */
static int finish(bool ok, ProtoError **errorp)
{
    ProtoError *error = *errorp;

    if (!ok) {
        fprintf(stderr, "quiesced: %s\n", error->desc);
        proto_error_free(error);
    }
    return ok ? 0 : 1;
}

/* The options after --install, each quoted, for the service's command line
 * (its ImagePath); false when one cannot be quoted or does not fit. */
static bool service_options(int argc, char **argv, int first, char *out, size_t size)
{
    size_t used = 0;

    out[0] = '\0';
    for (int i = first; i < argc; i++) {
        int n;
        if (strchr(argv[i], '"') || strcmp(argv[i], "--foreground") == 0 ||
            strcmp(argv[i], "--service") == 0) {
            fprintf(stderr, "quiesced: --install cannot pass '%s' to the service\n", argv[i]);
            return false;
        }
        n = snprintf(out + used, size - used, " \"%s\"", argv[i]);
        if (n < 0 || (size_t)n >= size - used) {
            fputs("quiesced: --install's options are too long\n", stderr);
            return false;
        }
        used += (size_t)n;
    }
    return true;
}

int main(int argc, char **argv)
{
    WinAgentConfig config = { .engine = { .window_seconds = 60, .host_lost_grace = 10 } };
    bool foreground = false;
    int install_from = 0; /* argv index of --install's first option */
    ProtoError *error = NULL;

    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(arg, "--install") == 0 && i == 1) {
            install_from = 2; /* the options are checked below, then passed on */
        } else if (strcmp(arg, "--uninstall") == 0) {
            return finish(win_service_uninstall(&error), &error);
        } else if (strcmp(arg, "--install-provider") == 0) {
            return finish(win_service_provider(true, &error), &error);
        } else if (strcmp(arg, "--uninstall-provider") == 0) {
            return finish(win_service_provider(false, &error), &error);
        } else if (strcmp(arg, "--disable-qemu-ga") == 0) {
            return finish(win_qemu_ga_services(true, &error), &error);
        } else if (strcmp(arg, "--restore-qemu-ga") == 0) {
            return finish(win_qemu_ga_services(false, &error), &error);
        } else if (strcmp(arg, "--foreground") == 0) {
            foreground = true;
        } else if (strcmp(arg, "--service") == 0) {
            foreground = false;
        } else if (strcmp(arg, "--strict") == 0) {
            config.engine.policy.strict = true;
        } else if (strcmp(arg, "--allow-dynamic") == 0) {
            config.engine.policy.allow_dynamic = true;
        } else if (strcmp(arg, "--full-backup") == 0) {
            config.engine.full_backup = true;
        } else if (strcmp(arg, "--debug") == 0) {
            config.debug = true;
        } else if (strcmp(arg, "--channel") == 0 && value &&
                   config.n_channels < WIN_AGENT_MAX_CHANNELS) {
            config.channels[config.n_channels++] = value;
            i++;
        } else if (strcmp(arg, "--window") == 0 && value) {
            if (!parse_seconds(value, 1, 600, &config.engine.window_seconds)) {
                return 2;
            }
            i++;
        } else if (strcmp(arg, "--host-lost-grace") == 0 && value) {
            if (!parse_seconds(value, 0, 600, &config.engine.host_lost_grace)) {
                return 2;
            }
            i++;
        } else {
            fputs(usage, stderr);
            return 2;
        }
    }
    if (install_from) {
        char options[1024];
        for (size_t i = 0; i < config.n_channels; i++) {
            if (!win_channel_kind_of(config.channels[i], &error)) {
                finish(false, &error);
                return 2;
            }
        }
        if (!service_options(argc, argv, install_from, options, sizeof(options))) {
            return 2;
        }
        return finish(win_service_install(options, &error), &error);
    }
    if (config.n_channels == 0) {
        config.channels[config.n_channels++] = "virtio-serial";
    }
    if (foreground) {
        return run_foreground(&config);
    }
    return finish(win_service_run(&config, &error), &error);
}
