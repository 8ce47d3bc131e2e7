/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * wait-pump.c — see the header. The three values are written only by
 * wait_pump_set() on the main thread while no other thread waits; other
 * threads only compare the owner with themselves and do nothing.
 */
#include "common/wait-pump.h"

static WaitPumpFunc pump_func;
static gpointer pump_data;
static GThread *pump_owner;

void wait_pump_set(WaitPumpFunc func, gpointer user_data)
{
    pump_func = func;
    pump_data = user_data;
    pump_owner = func ? g_thread_self() : NULL;
}

gboolean wait_pump_active(void)
{
    return pump_func && pump_owner == g_thread_self();
}

int wait_pump_slice_ms(int wait_ms)
{
    if (!wait_pump_active()) {
        return wait_ms;
    }
    return wait_ms < 0 ? WAIT_PUMP_SLICE_MS : MIN(wait_ms, WAIT_PUMP_SLICE_MS);
}

void wait_pump_run(void)
{
    if (wait_pump_active()) {
        pump_func(pump_data);
    }
}

void wait_pump_run_due(gint64 *last_us)
{
    gint64 now = g_get_monotonic_time();

    if (now - *last_us >= WAIT_PUMP_SLICE_MS * 1000) {
        wait_pump_run();
        *last_us = g_get_monotonic_time();
    }
}
