/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fake-vss.h — the test build's VSS backend and probe (fake-vss.c,
 * fake-volumes.c); scenario strings are described there.
 */
#ifndef QUIESCE_TESTS_FAKE_VSS_H
#define QUIESCE_TESTS_FAKE_VSS_H

#include "windows/volumes.h"
#include "windows/vss-backend.h"

VssBackend *fake_vss_new(const char *scenario);

/* A setting of the test build: the environment variable NAME, else the
 * string value NAME under HKLM\Software\quiesce-test (for the service
 * test: a service process does not get the test's environment), else NULL.
 * The shipped exe links neither this nor the fakes that read it. */
const char *fake_setting(const char *name);

#endif
