/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-service.c — quiesced.exe (test build) under wine's service control
 * manager: --install refuses bad options and registers nothing, and so
 * it does without the provider's type library beside it; when the
 * provider's COM+ registration fails (the fake catalog told to fail
 * InstallComponent) it exits 1 and leaves nothing: no service, no COM+
 * application, qemu-ga's service (a stand-in "QEMU-GA") not disabled
 * (negative control: the same check after a good install finds them);
 * otherwise it registers the service (QueryServiceConfig, what `sc qc`
 * shows; `sc query`) and the provider's COM+ application (fake-catalog.c's
 * state) and disables QEMU-GA. `sc start` runs it on the named pipe given
 * to --install, a host freezes through it, `sc stop` makes it thaw and
 * abort the backup before it stops (the fake VSS's call log, written by
 * the service process), and --uninstall removes it and the COM+
 * application and gives QEMU-GA back its start type; the MSI's
 * --disable-qemu-ga / --restore-qemu-ga on their own (twice, and with a
 * QEMU-GA the operator had disabled). Negative control: a service killed while
 * frozen leaves a log without the thaw, and the same check says so.
 *
 * The fake reads its settings from HKLM\Software\quiesce-test when the
 * environment has none (fake_setting()): a service does not inherit ours.
 * The service and that key are removed before the test and at every exit,
 * so a failure or an earlier killed run leaves nothing installed; ctest's
 * timeout bounds the whole, and every wait here is bounded too.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/windows/agent-client.h"

#define SERVICE L"quiesced"
#define RIVAL L"QEMU-GA"
/* Where the start types of qemu-ga's services are recorded (qemu-ga-services.c). */
#define RECORD_KEY "SOFTWARE\\quiesce\\qemu-ga-start"
#define TEST_KEY "Software\\quiesce-test"

static char exe_dir[MAX_PATH];
static char vss_log[MAX_PATH];
static char catalog[MAX_PATH]; /* the fake COM+ catalog's state */
static char output[8192];
static DWORD started; /* GetTickCount() at the start, for the timings printed */

static void fail(const char *what, const char *detail)
{
    fprintf(stderr, "FAIL: %s\n  %s\n", what, detail);
    exit(1); /* the atexit cleanup removes the service */
}

/* Runs command with its output into output[]; returns its exit code. */
static DWORD run(const char *command)
{
    char line[1024];
    char path[MAX_PATH];
    STARTUPINFOA startup = { .cb = sizeof(startup) };
    SECURITY_ATTRIBUTES inherit = { sizeof(inherit), NULL, TRUE };
    PROCESS_INFORMATION process;
    DWORD code = 255;
    HANDLE out;
    FILE *file;
    size_t len;

    snprintf(path, sizeof(path), "%s\\test-service-%lu.out", exe_dir, GetCurrentProcessId());
    out = CreateFileA(path, GENERIC_WRITE, FILE_SHARE_READ, &inherit, CREATE_ALWAYS, 0, NULL);
    snprintf(line, sizeof(line), "%s", command);
    startup.dwFlags = STARTF_USESTDHANDLES;
    startup.hStdOutput = out;
    startup.hStdError = out;
    startup.hStdInput = GetStdHandle(STD_INPUT_HANDLE);
    if (!CreateProcessA(NULL, line, NULL, NULL, TRUE, 0, NULL, exe_dir, &startup, &process)) {
        CloseHandle(out);
        fail("cannot run", command);
    }
    CloseHandle(out);
    if (WaitForSingleObject(process.hProcess, 60000) != WAIT_OBJECT_0) {
        TerminateProcess(process.hProcess, 255);
    }
    GetExitCodeProcess(process.hProcess, &code);
    CloseHandle(process.hProcess);
    CloseHandle(process.hThread);
    file = fopen(path, "rb");
    len = file ? fread(output, 1, sizeof(output) - 1, file) : 0;
    output[len] = '\0';
    if (file) {
        fclose(file);
    }
    DeleteFileA(path);
    printf("[%lu ms] $ %s\n%s(exit %lu)\n", GetTickCount() - started, command, output, code);
    fflush(stdout);
    return code;
}

/* The service's state, or 0 when it is not installed. */
static DWORD service_state(DWORD *pid)
{
    SC_HANDLE manager = OpenSCManagerW(NULL, NULL, SC_MANAGER_CONNECT);
    SC_HANDLE service = manager ? OpenServiceW(manager, SERVICE, SERVICE_QUERY_STATUS) : NULL;
    SERVICE_STATUS_PROCESS status = { 0 };
    DWORD size;

    if (service) {
        QueryServiceStatusEx(service, SC_STATUS_PROCESS_INFO, (BYTE *)&status, sizeof(status),
                             &size);
        CloseServiceHandle(service);
    }
    if (manager) {
        CloseServiceHandle(manager);
    }
    if (pid) {
        *pid = status.dwProcessId;
    }
    return service ? status.dwCurrentState : 0;
}

static bool wait_state(DWORD want, DWORD ms)
{
    for (DWORD waited = 0; waited < ms; waited += 100) {
        if (service_state(NULL) == want) {
            return true;
        }
        Sleep(100);
    }
    return service_state(NULL) == want;
}

/* Stops and deletes the service if it is there, and the fake's settings. */
static void cleanup(void)
{
    SC_HANDLE manager = OpenSCManagerW(NULL, NULL, SC_MANAGER_ALL_ACCESS);
    SC_HANDLE service = manager ? OpenServiceW(manager, SERVICE, SERVICE_ALL_ACCESS) : NULL;
    SERVICE_STATUS status;
    DWORD pid = 0;

    if (service) {
        ControlService(service, SERVICE_CONTROL_STOP, &status);
        if (!wait_state(SERVICE_STOPPED, 20000) && service_state(&pid) && pid) {
            HANDLE process = OpenProcess(PROCESS_TERMINATE, FALSE, pid);
            if (process) {
                TerminateProcess(process, 1);
                CloseHandle(process);
            }
        }
        DeleteService(service);
        CloseServiceHandle(service);
    }
    service = manager ? OpenServiceW(manager, RIVAL, DELETE) : NULL;
    if (service) {
        DeleteService(service);
        CloseServiceHandle(service);
    }
    if (manager) {
        CloseServiceHandle(manager);
    }
    RegDeleteKeyA(HKEY_LOCAL_MACHINE, TEST_KEY);
    RegDeleteKeyA(HKEY_LOCAL_MACHINE, RECORD_KEY);
    RegDeleteKeyA(HKEY_LOCAL_MACHINE, "SOFTWARE\\quiesce"); /* only when empty */
    DeleteFileA(catalog);
}

static void set_setting(const char *name, const char *value)
{
    HKEY key;

    if (RegCreateKeyExA(HKEY_LOCAL_MACHINE, TEST_KEY, 0, NULL, 0, KEY_SET_VALUE, NULL, &key,
                        NULL) != ERROR_SUCCESS ||
        RegSetValueExA(key, name, 0, REG_SZ, (const BYTE *)value, (DWORD)strlen(value) + 1) !=
            ERROR_SUCCESS) {
        fail("cannot write the test's settings", TEST_KEY);
    }
    RegCloseKey(key);
}

static void read_file(const char *path, char *out, size_t size)
{
    FILE *file = fopen(path, "rb");
    size_t len = file ? fread(out, 1, size - 1, file) : 0;

    out[len] = '\0';
    if (file) {
        fclose(file);
    }
}

/* The start type of a service, or 0 when it is not installed. */
static DWORD start_type(const wchar_t *name)
{
    SC_HANDLE manager = OpenSCManagerW(NULL, NULL, SC_MANAGER_CONNECT);
    SC_HANDLE service = manager ? OpenServiceW(manager, name, SERVICE_QUERY_CONFIG) : NULL;
    union {
        QUERY_SERVICE_CONFIGW config;
        char bytes[8192];
    } buffer;
    DWORD size, type = 0;

    if (service && QueryServiceConfigW(service, &buffer.config, sizeof(buffer), &size)) {
        type = buffer.config.dwStartType;
    }
    if (service) {
        CloseServiceHandle(service);
    }
    if (manager) {
        CloseServiceHandle(manager);
    }
    return type;
}

static void set_start_type(const wchar_t *name, DWORD type)
{
    SC_HANDLE manager = OpenSCManagerW(NULL, NULL, SC_MANAGER_ALL_ACCESS);
    SC_HANDLE service = manager ? OpenServiceW(manager, name, SERVICE_CHANGE_CONFIG) : NULL;

    if (!service || !ChangeServiceConfigW(service, SERVICE_NO_CHANGE, type, SERVICE_NO_CHANGE, NULL,
                                          NULL, NULL, NULL, NULL, NULL, NULL)) {
        fail("cannot change the stand-in's start type", "ChangeServiceConfigW");
    }
    CloseServiceHandle(service);
    CloseServiceHandle(manager);
}

/* A stand-in for qemu-ga's service, demand start, never started. */
static void install_rival(void)
{
    SC_HANDLE manager = OpenSCManagerW(NULL, NULL, SC_MANAGER_ALL_ACCESS);
    SC_HANDLE service = manager ? CreateServiceW(manager, RIVAL, L"QEMU Guest Agent (stand-in)",
                                                 SERVICE_ALL_ACCESS, SERVICE_WIN32_OWN_PROCESS,
                                                 SERVICE_DEMAND_START, SERVICE_ERROR_NORMAL,
                                                 L"C:\\windows\\system32\\cmd.exe", NULL,
                                                 NULL, NULL, NULL, NULL)
                                : NULL;

    if (!service) {
        fail("cannot create the stand-in QEMU-GA service", "CreateServiceW");
    }
    CloseServiceHandle(service);
    CloseServiceHandle(manager);
}

/* NULL when --install left nothing of ours and did not touch QEMU-GA,
 * else what it left. */
static const char *install_leftovers(void)
{
    char state[4096];

    read_file(catalog, state, sizeof(state));
    if (service_state(NULL) != 0) {
        return "the quiesced service is registered";
    }
    if (strstr(state, "Applications\t") || strstr(state, "Service\t")) {
        return "the COM+ application is in the catalog";
    }
    if (start_type(RIVAL) != SERVICE_DEMAND_START) {
        return "QEMU-GA's start type was changed";
    }
    return NULL;
}

/* NULL when the log shows a freeze that ended properly: DoSnapshotSet,
 * then the provider let go (thaw), then AbortBackup; else what is wrong. */
static const char *thawed_before_exit(const char *log)
{
    const char *frozen = strstr(log, " DoSnapshotSet\n");
    const char *thaw = frozen ? strstr(frozen, " thaw\n") : NULL;
    const char *aborted = thaw ? strstr(thaw, " AbortBackup\n") : NULL;

    if (strstr(log, "VIOLATION")) {
        return "the service called VSS out of order";
    }
    if (!frozen) {
        return "the service never froze";
    }
    if (!thaw) {
        return "no thaw after the freeze";
    }
    if (!aborted) {
        return "no AbortBackup after the thaw";
    }
    return NULL;
}

static void start_and_freeze(TestAgent *agent)
{
    char session[37];

    if (run("sc.exe start quiesced") != 0) {
        fail("sc start failed", output);
    }
    if (!wait_state(SERVICE_RUNNING, 20000)) {
        fail("the service is not running", "after sc start");
    }
    run("sc.exe query quiesced");
    test_expect(output, "RUNNING");
    test_agent_connect(agent);
    test_expect(test_agent_request(agent, "{\"execute\":\"guest-ping\"}"), "{\"return\": {}}");
    test_session_of(test_agent_request(agent, "{\"execute\":\"guest-snapshot-prepare\"}"),
                    session);
    test_expect(test_agent_request(agent, "{\"execute\":\"guest-snapshot-status\"}"),
                "\"state\": \"active\"");
}

int main(void)
{
    TestAgent agent = { .host = INVALID_HANDLE_VALUE };
    char command[1024];
    char log[4096];
    const char *wrong;
    SC_HANDLE manager, service;
    QUERY_SERVICE_CONFIGW *config = malloc(8192);
    DWORD size, pid = 0, code;
    char path[1024];
    HANDLE process;

    started = GetTickCount();
    GetModuleFileNameA(NULL, exe_dir, MAX_PATH);
    *strrchr(exe_dir, '\\') = '\0';
    snprintf(vss_log, sizeof(vss_log), "%s\\test-service-%lu.vss", exe_dir,
             GetCurrentProcessId());
    snprintf(agent.pipe, sizeof(agent.pipe), "\\\\.\\pipe\\quiesce-service-test-%lu",
             GetCurrentProcessId());
    cleanup(); /* a run killed by ctest's timeout may have left it */
    atexit(cleanup);
    snprintf(catalog, sizeof(catalog), "%s\\test-service-%lu.catalog", exe_dir,
             GetCurrentProcessId());
    DeleteFileA(vss_log);
    DeleteFileA(catalog);
    set_setting("QUIESCE_FAKE_VSS_LOG", vss_log);
    set_setting("QUIESCE_FAKE_CATALOG", catalog);
    install_rival();

    /* Bad options: a clear error, nothing registered. */
    snprintf(command, sizeof(command), "\"%s\\quiesced-fake.exe\" --install --channel bogus",
             exe_dir);
    if (run(command) != 2 || service_state(NULL) != 0) {
        fail("--install with an unknown channel did not refuse, or registered", output);
    }
    test_expect(output, "unknown channel 'bogus'");

    /* The type library is missing: a clear error, nothing changed. */
    {
        char dir[MAX_PATH], copy[MAX_PATH + 32], from[MAX_PATH + 32];
        snprintf(dir, sizeof(dir), "%s\\notlb-%lu", exe_dir, GetCurrentProcessId());
        CreateDirectoryA(dir, NULL);
        for (int i = 0; i < 2; i++) {
            const char *name = i == 0 ? "quiesced-fake.exe" : "quiesce-vss-provider.dll";
            snprintf(from, sizeof(from), "%s\\%s", exe_dir, name);
            snprintf(copy, sizeof(copy), "%s\\%s", dir, name);
            CopyFileA(from, copy, FALSE);
        }
        snprintf(command, sizeof(command), "\"%s\\quiesced-fake.exe\" --install", dir);
        code = run(command);
        for (int i = 0; i < 2; i++) {
            snprintf(copy, sizeof(copy), "%s\\%s", dir,
                     i == 0 ? "quiesced-fake.exe" : "quiesce-vss-provider.dll");
            DeleteFileA(copy);
        }
        RemoveDirectoryA(dir);
        test_expect(output, "cannot find");
        test_expect(output, "quiesce-vss-provider.tlb");
        wrong = install_leftovers();
        if (code != 1 || wrong) {
            fail("--install without the type library did not exit 1, or left something",
                 wrong ? wrong : output);
        }
    }

    /* The provider's registration fails: nothing is left behind. */
    snprintf(command, sizeof(command),
             "\"%s\\quiesced-fake.exe\" --install --channel pipe:%s --debug", exe_dir,
             agent.pipe);
    set_setting("QUIESCE_FAKE_CATALOG_FAIL", "InstallComponent");
    code = run(command);
    RegDeleteKeyValueA(HKEY_LOCAL_MACHINE, TEST_KEY, "QUIESCE_FAKE_CATALOG_FAIL");
    test_expect(output, "InstallComponent failed");
    wrong = install_leftovers();
    if (code != 1 || wrong) {
        fail("a failed --install did not exit 1, or left something", wrong ? wrong : output);
    }
    printf("[%lu ms] a failed provider registration left nothing\n", GetTickCount() - started);

    /* --install: the service, with the options on its command line, and
     * the provider's COM+ application (the fake catalog: wine has none;
     * the real catalog's call of DllRegisterServer, which registers with
     * VSS, is not made here). */
    code = run(command);
    if (code != 0) {
        fail("--install failed", output);
    }
    read_file(catalog, log, sizeof(log));
    test_expect(log, "Applications\t");
    test_expect(log, "Name=s:quiesce VSS provider");
    test_expect(log, "Components\t{7D3E8A51-2C6B-4F08-A49E-15C26F8B30D7}");
    if (strstr(log, "VIOLATION")) {
        fail("--install misused the COM+ catalog", log);
    }
    if (start_type(RIVAL) != SERVICE_DISABLED) {
        fail("--install did not disable QEMU-GA", "QueryServiceConfigW");
    }
    /* Negative control: the check that found nothing after the failed
     * install finds what a good one leaves. */
    wrong = install_leftovers();
    if (!wrong) {
        fail("the leftovers check found nothing after a good install", "negative control");
    }
    printf("[%lu ms] control: after a good install the check says \"%s\"\n",
           GetTickCount() - started, wrong);
    manager = OpenSCManagerW(NULL, NULL, SC_MANAGER_CONNECT);
    service = manager ? OpenServiceW(manager, SERVICE, SERVICE_QUERY_CONFIG) : NULL;
    if (!service || !QueryServiceConfigW(service, config, 8192, &size)) {
        fail("--install did not register the service", "QueryServiceConfigW");
    }
    snprintf(path, sizeof(path), "%ls", config->lpBinaryPathName);
    printf("service: type %#lx start %lu path %s\n", config->dwServiceType, config->dwStartType,
           path);
    if (config->dwServiceType != SERVICE_WIN32_OWN_PROCESS ||
        config->dwStartType != SERVICE_AUTO_START) {
        fail("the service is not an auto-start own-process service", path);
    }
    test_expect(path, "quiesced-fake.exe\" --service \"--channel\"");
    test_expect(path, agent.pipe);
    CloseServiceHandle(service);
    CloseServiceHandle(manager);
    run("sc.exe query quiesced");
    test_expect(output, "STOPPED");

    /* Started by the SCM, frozen by a host, stopped by the SCM: it thaws
     * and aborts the backup before it is gone. */
    start_and_freeze(&agent);
    if (run("sc.exe stop quiesced") != 0) {
        fail("sc stop failed", output);
    }
    if (!wait_state(SERVICE_STOPPED, 20000)) {
        fail("the service did not stop", "after sc stop");
    }
    test_agent_disconnect(&agent);
    read_file(vss_log, log, sizeof(log));
    printf("fake VSS calls of the service:\n%s", log);
    wrong = thawed_before_exit(log);
    if (wrong) {
        fail(wrong, log);
    }

    /* Negative control: killed while frozen, the log has no thaw and the
     * check above says so. */
    DeleteFileA(vss_log);
    start_and_freeze(&agent);
    service_state(&pid);
    process = pid ? OpenProcess(PROCESS_TERMINATE | SYNCHRONIZE, FALSE, pid) : NULL;
    if (!process) {
        fail("cannot open the service's process", "negative control");
    }
    TerminateProcess(process, 1);
    WaitForSingleObject(process, 10000);
    CloseHandle(process);
    test_agent_disconnect(&agent);
    read_file(vss_log, log, sizeof(log));
    wrong = thawed_before_exit(log);
    if (!wrong) {
        fail("the check passed for a service killed while frozen", log);
    }
    printf("[%lu ms] negative control: killed while frozen -> \"%s\"\n",
           GetTickCount() - started, wrong);

    /* --uninstall removes the service and the COM+ application (the
     * provider's own DllUnregisterServer fails under wine: no VSS), and
     * gives QEMU-GA back the start type it had (demand here; an automatic
     * one would also be started). The check below sees the disabled
     * QEMU-GA the install left (its negative control). */
    if (start_type(RIVAL) == SERVICE_DEMAND_START) {
        fail("QEMU-GA is not disabled before --uninstall", "negative control");
    }
    snprintf(command, sizeof(command), "\"%s\\quiesced-fake.exe\" --uninstall", exe_dir);
    run(command);
    if (start_type(RIVAL) != SERVICE_DEMAND_START) {
        fail("--uninstall did not give QEMU-GA back its start type", output);
    }
    test_expect(output, "DllUnregisterServer of the VSS provider failed");
    if (service_state(NULL) != 0) {
        fail("--uninstall left the service registered", "OpenServiceW");
    }
    read_file(catalog, log, sizeof(log));
    if (strstr(log, "Applications\t") || strstr(log, "Service\t") ||
        strstr(log, "VIOLATION")) {
        fail("--uninstall left the COM+ application, or misused the catalog", log);
    }
    if (run("sc.exe query quiesced") == 0) {
        fail("sc query still finds the service", output);
    }
    /* The MSI's actions on their own: a demand-start QEMU-GA is disabled
     * and given back; given back twice is no error; one that was
     * disabled before stays disabled. */
    snprintf(command, sizeof(command), "\"%s\\quiesced-fake.exe\" --disable-qemu-ga", exe_dir);
    if (run(command) != 0 || start_type(RIVAL) != SERVICE_DISABLED) {
        fail("--disable-qemu-ga did not disable QEMU-GA", output);
    }
    snprintf(command, sizeof(command), "\"%s\\quiesced-fake.exe\" --restore-qemu-ga", exe_dir);
    if (run(command) != 0 || start_type(RIVAL) != SERVICE_DEMAND_START) {
        fail("--restore-qemu-ga did not give QEMU-GA back its start type", output);
    }
    if (run(command) != 0 || start_type(RIVAL) != SERVICE_DEMAND_START) {
        fail("a second --restore-qemu-ga failed or changed QEMU-GA", output);
    }
    snprintf(command, sizeof(command), "\"%s\\quiesced-fake.exe\" --disable-qemu-ga", exe_dir);
    run(command);
    run(command); /* already disabled: nothing recorded */
    snprintf(command, sizeof(command), "\"%s\\quiesced-fake.exe\" --restore-qemu-ga", exe_dir);
    if (run(command) != 0 || start_type(RIVAL) != SERVICE_DEMAND_START) {
        fail("the first recorded start type was not the one given back", output);
    }
    set_start_type(RIVAL, SERVICE_DISABLED); /* the operator's own choice */
    snprintf(command, sizeof(command), "\"%s\\quiesced-fake.exe\" --disable-qemu-ga", exe_dir);
    run(command);
    snprintf(command, sizeof(command), "\"%s\\quiesced-fake.exe\" --restore-qemu-ga", exe_dir);
    if (run(command) != 0 || start_type(RIVAL) != SERVICE_DISABLED) {
        fail("a QEMU-GA disabled before --disable-qemu-ga was enabled by the restore", output);
    }
    DeleteFileA(vss_log);
    free(config);
    printf("ok: service\n");
    return 0;
}
