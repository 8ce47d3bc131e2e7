/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * service.c — the SCM side. ServiceMain is called with no context of ours,
 * so the configuration reaches it through service_config, the program's
 * one mutable global (docs/style.md §5 allows what an API forces); it is
 * set once before StartServiceCtrlDispatcher and only read afterwards.
 * The control handler gets a context, so the running service hangs off it.
 */
#include "windows/service.h"

#include <stdio.h>

#include "windows/win-error.h"

typedef struct {
    SERVICE_STATUS_HANDLE handle;
    SERVICE_STATUS status;
    WinAgent *agent;
} ServiceState;

static const WinAgentConfig *service_config;

static void service_report(ServiceState *state, DWORD current, DWORD exit_code)
{
    state->status.dwServiceType = SERVICE_WIN32_OWN_PROCESS;
    state->status.dwCurrentState = current;
    state->status.dwWin32ExitCode = exit_code;
    state->status.dwControlsAccepted =
        current == SERVICE_RUNNING ? SERVICE_ACCEPT_STOP | SERVICE_ACCEPT_SHUTDOWN : 0;
    /* A stop thaws first, which VSS bounds to its 10 s hold. */
    state->status.dwWaitHint = current == SERVICE_STOP_PENDING ? 15000 : 0;
    state->status.dwCheckPoint++;
    SetServiceStatus(state->handle, &state->status);
}

static DWORD WINAPI service_control(DWORD control, DWORD type, LPVOID data, LPVOID context)
{
    ServiceState *state = context;

    switch (control) {
    case SERVICE_CONTROL_STOP:
    case SERVICE_CONTROL_SHUTDOWN:
        service_report(state, SERVICE_STOP_PENDING, NO_ERROR);
        if (state->agent) {
            SetEvent(win_agent_stop_event(state->agent));
        }
        return NO_ERROR;
    case SERVICE_CONTROL_INTERROGATE:
        return NO_ERROR;
    default:
        return ERROR_CALL_NOT_IMPLEMENTED;
    }
}

static void WINAPI service_main(DWORD argc, LPWSTR *argv)
{
    ServiceState state = { 0 };
    WinLog *log = win_log_new(true, false, service_config->debug);
    ProtoError *error = NULL;

    state.handle = RegisterServiceCtrlHandlerExW(WIN_SERVICE_NAME, service_control, &state);
    if (!state.handle) {
        win_log_free(log);
        return;
    }
    service_report(&state, SERVICE_START_PENDING, NO_ERROR);
    state.agent = win_agent_new(service_config, log, vss_backend_new, &error);
    if (!state.agent) {
        win_log(log, WIN_LOG_ERROR, "cannot start: %s", error->desc);
        proto_error_free(error);
        service_report(&state, SERVICE_STOPPED, ERROR_SERVICE_SPECIFIC_ERROR);
        win_log_free(log);
        return;
    }
    service_report(&state, SERVICE_RUNNING, NO_ERROR);
    win_log(log, WIN_LOG_INFO, "started");
    win_agent_run(state.agent);
    win_agent_free(state.agent); /* thaws an active session */
    state.agent = NULL;
    service_report(&state, SERVICE_STOPPED, NO_ERROR);
    win_log_free(log);
}

bool win_service_run(const WinAgentConfig *config, ProtoError **error)
{
    SERVICE_TABLE_ENTRYW table[] = {
        { (LPWSTR)WIN_SERVICE_NAME, service_main },
        { NULL, NULL },
    };

    service_config = config;
    if (!StartServiceCtrlDispatcherW(table)) {
        win_error_set(error, GetLastError(), "not started by the service control manager "
                      "(use --foreground in a console)");
        return false;
    }
    return true;
}
