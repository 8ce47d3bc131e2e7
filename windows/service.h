/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * service.h — running under the Service Control Manager, and --install /
 * --uninstall: the service, its event log source, our VSS provider, and
 * qemu-ga's service and provider stopped and disabled (one holder of the
 * virtio-serial port, one requester of VSS).
 */
#ifndef QUIESCE_WIN_SERVICE_H
#define QUIESCE_WIN_SERVICE_H

#include <stdbool.h>
#include <windows.h>

#include "protocol/proto-error.h"
#include "windows/agent.h"

#define WIN_SERVICE_NAME L"quiesced"

/* Blocks until the SCM stops the service; false when not started by it. */
bool win_service_run(const WinAgentConfig *config, ProtoError **error);
/* options: appended to the service's command line after --service (each
 * already quoted; "" for none). */
bool win_service_install(const char *options, ProtoError **error);
bool win_service_uninstall(ProtoError **error);
/* Only the provider (the MSI registers the service itself). */
bool win_service_provider(bool install, ProtoError **error);

/* qemu-ga's services (qemu-ga-services.c): disable records each one's start
 * type, stops and disables it; restore gives the recorded types back,
 * starts the automatic ones and drops the record (ERROR_SUCCESS, or the
 * first failure; the record is then kept for a retry). */
void win_qemu_ga_disable(SC_HANDLE manager);
DWORD win_qemu_ga_restore(SC_HANDLE manager);
/* The same on their own (the MSI's actions, --disable-qemu-ga and
 * --restore-qemu-ga). */
bool win_qemu_ga_services(bool disable, ProtoError **error);

#endif
