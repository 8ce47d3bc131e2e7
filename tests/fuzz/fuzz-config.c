/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz-config.c — libFuzzer target for the configuration file parser
 * (agent/config.c): the input is the file, handed to config_load() through
 * a memfd (/proc/self/fd/N), so nothing is written to disk.
 *
 * Checks: config_load() returns TRUE or FALSE-with-an-error, never crashes;
 * the error names the file; after a success every setting is in the range
 * agent/config.h documents (window 1-600 s, grace 0-600 s, request bytes
 * and depth in range or untouched, writer timeouts 1-3600 s or the
 * default), the state dir is set, and confine/exclude paths are absolute.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "agent/config.h"
#include "tests/fuzz/fuzz-support.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_DEFAULT_BYTES 1048576
#define FUZZ_DEFAULT_DEPTH 64

static void fuzz_fail(const char *why, const char *detail)
{
    fprintf(stderr, "fuzz-config: %s%s%s\n", why, detail ? ": " : "", detail ? detail : "");
    abort();
}

static void fuzz_check_loaded(const AgentConfig *agent, const EngineConfig *engine,
                              const WritersConfig *defaults)
{
    const EligibilityPolicy *policy = engine->policy;

    if (engine->window_seconds < CONFIG_WINDOW_SECONDS_MIN ||
        engine->window_seconds > CONFIG_WINDOW_SECONDS_MAX) {
        fuzz_fail("window out of range", NULL);
    }
    if (engine->host_lost_grace_seconds > CONFIG_HOST_LOST_GRACE_MAX) {
        fuzz_fail("host-lost-grace out of range", NULL);
    }
    if (agent->max_request_bytes != FUZZ_DEFAULT_BYTES &&
        (agent->max_request_bytes < CONFIG_MAX_REQUEST_BYTES_MIN ||
         agent->max_request_bytes > CONFIG_MAX_REQUEST_BYTES_MAX)) {
        fuzz_fail("max-request-bytes out of range", NULL);
    }
    if (agent->max_depth < CONFIG_MAX_DEPTH_MIN || agent->max_depth > CONFIG_MAX_DEPTH_MAX) {
        fuzz_fail("max-depth out of range", NULL);
    }
    if (!engine->state_dir) {
        fuzz_fail("no state dir", NULL);
    }
    if (!engine->running_state_command) {
        fuzz_fail("no running-state command (\"\" means none)", NULL);
    }
    if (policy->confine && !g_path_is_absolute(policy->confine)) {
        fuzz_fail("confine not absolute", policy->confine);
    }
    for (guint i = 0; i < policy->exclude->len; i++) {
        if (!g_path_is_absolute(g_ptr_array_index(policy->exclude, i))) {
            fuzz_fail("exclude not absolute", g_ptr_array_index(policy->exclude, i));
        }
    }
    if (engine->writers.writer_timeout_ms != defaults->writer_timeout_ms &&
        (engine->writers.writer_timeout_ms < 1000 ||
         engine->writers.writer_timeout_ms > 3600 * 1000)) {
        fuzz_fail("writers timeout out of range", NULL);
    }
    if (engine->writers.total_timeout_ms != defaults->total_timeout_ms &&
        (engine->writers.total_timeout_ms < 1000 ||
         engine->writers.total_timeout_ms > 3600 * 1000)) {
        fuzz_fail("writers total-timeout out of range", NULL);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_auto(AgentConfig) agent = { .max_request_bytes = FUZZ_DEFAULT_BYTES,
                                  .max_depth = FUZZ_DEFAULT_DEPTH };
    g_autoptr(EngineConfig) engine = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *path = NULL;
    WritersConfig defaults;
    int fd;

    fuzz_support_init();
    fd = memfd_create("quiesced.conf", MFD_CLOEXEC);
    if (fd < 0 || (size > 0 && write(fd, data, size) != (ssize_t)size)) {
        abort();
    }
    path = g_strdup_printf("/proc/self/fd/%d", fd);
    engine = engine_config_new();
    defaults = engine->writers;
    if (config_load(path, TRUE, &agent, engine, &error)) {
        if (error) {
            fuzz_fail("TRUE with an error set", error->message);
        }
        fuzz_check_loaded(&agent, engine, &defaults);
    } else if (!error || !strstr(error->message, path)) {
        fuzz_fail("FALSE without an error naming the file", error ? error->message : NULL);
    }
    close(fd);
    return 0;
}
