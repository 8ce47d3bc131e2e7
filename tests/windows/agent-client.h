/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * agent-client.h — the end-to-end tests' host: starts the test build of
 * quiesced.exe (the fake VSS linked in) on a fresh named pipe, connects as
 * a host would, sends QGA requests and reads reply lines.
 */
#ifndef QUIESCE_TESTS_AGENT_CLIENT_H
#define QUIESCE_TESTS_AGENT_CLIENT_H

#include <stdbool.h>
#include <windows.h>

typedef struct {
    PROCESS_INFORMATION process;
    char pipe[128];
    char log[MAX_PATH];
    HANDLE host; /* the client end, or INVALID_HANDLE_VALUE */
} TestAgent;

/* env: "NAME=VALUE" lines separated by newlines (NULL for none); args appended
 * to --foreground --channel pipe:NAME. Connects before returning. With
 * QUIESCE_TEST_REAL_EXE=1 in env it starts the shipped quiesced.exe (real
 * VSS backend and probe, copied beside the test) instead of the test build. */
void test_agent_start(TestAgent *agent, const char *env, const char *args);
/* Ends the agent; fails the test if the fake VSS saw a call out of order. */
void test_agent_stop(TestAgent *agent);
void test_agent_connect(TestAgent *agent);
void test_agent_disconnect(TestAgent *agent);
/* Sends bytes and returns the next reply line (static buffer). */
const char *test_agent_request(TestAgent *agent, const char *request);
/* Fails the test unless reply contains want. */
void test_expect(const char *reply, const char *want);
/* Fails the test unless the mounts entry of reply whose mountpoint is the
 * JSON text mountpoint (escaped as on the wire) contains want. */
void test_expect_mount(const char *reply, const char *mountpoint, const char *want);
/* Copies the "session" member's value of reply into out[37]. */
void test_session_of(const char *reply, char out[37]);

#endif
