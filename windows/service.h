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

#endif
