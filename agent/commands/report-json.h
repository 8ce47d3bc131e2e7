/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * report-json.h — eligibility reports and sessions as JSON values, for
 * guest-snapshot-* replies and `quiesced --check --json`. The shapes are
 * documented in docs/protocol.md.
 */
#ifndef QUIESCE_AGENT_REPORT_JSON_H
#define QUIESCE_AGENT_REPORT_JSON_H

#include "agent/engine/engine.h"
#include "protocol/json-value.h"

/* {"method", "reasons", "running-state", "strict", "allow-dynamic",
 *  "mounts": [...], "freeze-order": [...]} (transfer full) */
JsonValue *report_json_eligibility(const EligibilityReport *report);
/* [{"code", "mountpoint"?, "message"}] (transfer full) */
JsonValue *report_json_reasons(const EligibilityReport *report);
/* Mounts the host must back up from inside the guest or that were left out:
 * [{"mountpoint", "class", "reason"}] (transfer full) */
JsonValue *report_json_excluded(const EligibilityReport *report);
/* An ISO 8601 UTC time from wall-clock µs. (transfer full) */
JsonValue *report_json_time(gint64 real_us);
/* ["a", "b"] from a GPtrArray of char *. (transfer full) */
JsonValue *report_json_strings(const GPtrArray *strings);

#endif
