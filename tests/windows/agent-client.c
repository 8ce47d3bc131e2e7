/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * agent-client.c — see the header. A failure prints what was expected and
 * what came, and exits 1 (ctest shows it).
 */
#include "tests/windows/agent-client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char reply_line[65536];
static TestAgent *running; /* ended at exit, so a failing test does not wait for it */

static void fail(const char *what, const char *detail)
{
    fprintf(stderr, "FAIL: %s\n  %s\n", what, detail);
    exit(1);
}

static void end_running(void)
{
    if (running) {
        TerminateProcess(running->process.hProcess, 1);
        WaitForSingleObject(running->process.hProcess, 5000);
    }
}

void test_expect_mount(const char *reply, const char *mountpoint, const char *want)
{
    char key[300];
    const char *at, *start, *end;

    snprintf(key, sizeof(key), "\"mountpoint\": \"%s\"", mountpoint);
    at = strstr(reply, key);
    if (!at) {
        fail("no mounts entry for", key);
    }
    for (start = at; start > reply && *start != '{'; start--) {
    }
    end = strchr(at, '}');
    if (!end || !strstr(start, want) || strstr(start, want) > end) {
        fprintf(stderr, "FAIL: expected '%s' in the entry of %s in\n  %s\n", want, mountpoint,
                reply);
        exit(1);
    }
}

void test_expect(const char *reply, const char *want)
{
    if (!strstr(reply, want)) {
        fprintf(stderr, "FAIL: expected '%s' in\n  %s\n", want, reply);
        exit(1);
    }
}

void test_agent_connect(TestAgent *agent)
{
    for (int i = 0; i < 200; i++) {
        agent->host = CreateFileA(agent->pipe, GENERIC_READ | GENERIC_WRITE, 0, NULL,
                                  OPEN_EXISTING, 0, NULL);
        if (agent->host != INVALID_HANDLE_VALUE) {
            return;
        }
        Sleep(50);
    }
    fail("cannot connect to the agent's pipe", agent->pipe);
}

void test_agent_disconnect(TestAgent *agent)
{
    CloseHandle(agent->host);
    agent->host = INVALID_HANDLE_VALUE;
}

void test_agent_start(TestAgent *agent, const char *env, const char *args)
{
    static int count;
    char command[1024];
    char exe[MAX_PATH];
    char *slash;
    STARTUPINFOA startup = { .cb = sizeof(startup) };
    SECURITY_ATTRIBUTES inherit = { sizeof(inherit), NULL, TRUE };
    HANDLE log;
    char *copy = env ? _strdup(env) : NULL;

    snprintf(agent->pipe, sizeof(agent->pipe), "\\\\.\\pipe\\quiesce-test-%lu-%d",
             GetCurrentProcessId(), count++);
    GetModuleFileNameA(NULL, exe, MAX_PATH);
    slash = strrchr(exe, '\\');
    snprintf(slash + 1, exe + MAX_PATH - slash - 1, "%s",
             env && strstr(env, "QUIESCE_TEST_REAL_EXE=1") ? "quiesced.exe" : "quiesced-fake.exe");
    snprintf(agent->log, sizeof(agent->log), "%s.log", agent->pipe + 9);
    log = CreateFileA(agent->log, GENERIC_WRITE, FILE_SHARE_READ, &inherit, CREATE_ALWAYS, 0,
                      NULL);
    for (char *item = copy ? strtok(copy, "\n") : NULL; item; item = strtok(NULL, "\n")) {
        char *eq = strchr(item, '=');
        *eq = '\0';
        SetEnvironmentVariableA(item, eq + 1);
    }
    free(copy);
    snprintf(command, sizeof(command), "\"%s\" --foreground --debug --channel pipe:%s %s", exe,
             agent->pipe, args ? args : "");
    startup.dwFlags = STARTF_USESTDHANDLES;
    startup.hStdError = log;
    startup.hStdOutput = log;
    startup.hStdInput = GetStdHandle(STD_INPUT_HANDLE);
    if (!CreateProcessA(NULL, command, NULL, NULL, TRUE, 0, NULL, NULL, &startup,
                        &agent->process)) {
        fail("cannot start", command);
    }
    CloseHandle(log);
    if (!running) {
        atexit(end_running);
    }
    running = agent;
    test_agent_connect(agent);
}

void test_agent_stop(TestAgent *agent)
{
    FILE *log;
    char line[1024];
    bool violated = false;

    if (agent->host != INVALID_HANDLE_VALUE) {
        test_agent_disconnect(agent);
    }
    TerminateProcess(agent->process.hProcess, 0);
    running = NULL;
    WaitForSingleObject(agent->process.hProcess, 5000);
    CloseHandle(agent->process.hProcess);
    CloseHandle(agent->process.hThread);
    log = fopen(agent->log, "r");
    while (log && fgets(line, sizeof(line), log)) {
        fputs(line, stderr); /* the agent's log, for a failing test's output */
        violated |= strstr(line, "FAKE-VSS VIOLATION") != NULL;
    }
    if (log) {
        fclose(log);
    }
    DeleteFileA(agent->log);
    if (violated) {
        fail("the agent called VSS out of order", agent->log);
    }
}

const char *test_agent_request(TestAgent *agent, const char *request)
{
    DWORD n;
    size_t len = 0;

    if (!WriteFile(agent->host, request, (DWORD)strlen(request), &n, NULL)) {
        fail("write to the agent failed", request);
    }
    while (len + 1 < sizeof(reply_line)) {
        if (!ReadFile(agent->host, reply_line + len, 1, &n, NULL) || n == 0) {
            fail("the agent closed the pipe", request);
        }
        if (reply_line[len++] == '\n') {
            break;
        }
    }
    reply_line[len] = '\0';
    return reply_line;
}

void test_session_of(const char *reply, char out[37])
{
    const char *at = strstr(reply, "\"session\": \"");

    if (!at) {
        fail("no session in", reply);
    }
    snprintf(out, 37, "%.36s", at + strlen("\"session\": \""));
}
