/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * writer-result.c — names of phases, kinds and outcomes; WriterRun and
 * WriterFailure (writer-result.h).
 */
#include "agent/writers/writer-result.h"

#include "agent/writers/writer-output.h"

const char *writer_phase_to_string(WriterPhase phase)
{
    switch (phase) {
    case WRITER_PHASE_PREPARE:
        return "prepare";
    case WRITER_PHASE_FREEZE:
        return "freeze";
    case WRITER_PHASE_FREEZE_FAIL:
        return "freeze-fail";
    case WRITER_PHASE_THAW:
        return "thaw";
    case WRITER_PHASE_POST_SNAPSHOT:
        return "post-snapshot";
    }
    g_assert_not_reached();
}

const char *writer_kind_to_string(WriterKind kind)
{
    switch (kind) {
    case WRITER_KIND_SCRIPT:
        return "script";
    case WRITER_KIND_SOCKET:
        return "socket writer";
    }
    g_assert_not_reached();
}

const char *writer_outcome_to_string(WriterOutcome outcome)
{
    switch (outcome) {
    case WRITER_OUTCOME_OK:
        return "ok";
    case WRITER_OUTCOME_EXITED:
        return "exited";
    case WRITER_OUTCOME_SIGNALED:
        return "signaled";
    case WRITER_OUTCOME_TIMED_OUT:
        return "timed-out";
    case WRITER_OUTCOME_REFUSED:
        return "refused";
    case WRITER_OUTCOME_ANSWERED_FAIL:
        return "failed";
    case WRITER_OUTCOME_DISCONNECTED:
        return "disconnected";
    }
    g_assert_not_reached();
}

WriterRun *writer_run_new(WriterOutcome outcome)
{
    WriterRun *run = g_new0(WriterRun, 1);
    run->outcome = outcome;
    return run;
}

void writer_run_free(WriterRun *run)
{
    if (!run) {
        return;
    }
    g_free(run->detail);
    writer_output_free(run->output);
    g_free(run);
}

/* (transfer full) The last non-empty line of @text, at most 200 bytes, or NULL. */
static char *writer_text_last_line(const char *text)
{
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    for (guint i = g_strv_length(lines); i > 0; i--) {
        g_strstrip(lines[i - 1]);
        if (lines[i - 1][0] != '\0') {
            return g_utf8_substring(lines[i - 1], 0,
                                    MIN(g_utf8_strlen(lines[i - 1], -1), 200));
        }
    }
    return NULL;
}

/* (transfer full) "exit status 3", "killed by signal 9", the detail, ... */
static char *writer_run_describe(const WriterRun *run)
{
    switch (run->outcome) {
    case WRITER_OUTCOME_EXITED:
        return g_strdup_printf("exit status %d", run->exit_status);
    case WRITER_OUTCOME_SIGNALED:
        return g_strdup_printf("killed by signal %d (%s)", run->signal,
                               g_strsignal(run->signal));
    case WRITER_OUTCOME_OK:
        return g_strdup("ok");
    case WRITER_OUTCOME_TIMED_OUT:
    case WRITER_OUTCOME_REFUSED:
    case WRITER_OUTCOME_ANSWERED_FAIL:
    case WRITER_OUTCOME_DISCONNECTED:
        return g_strdup(run->detail ? run->detail : writer_outcome_to_string(run->outcome));
    }
    g_assert_not_reached();
}

WriterFailure *writer_failure_new(WriterKind kind, const char *name, WriterPhase phase,
                                  const WriterRun *run)
{
    WriterFailure *failure = g_new0(WriterFailure, 1);
    failure->kind = kind;
    failure->name = g_strdup(name);
    failure->phase = phase;
    failure->outcome = run->outcome;
    failure->exit_status = run->exit_status;
    failure->signal = run->signal;
    if (run->output) {
        failure->output_tail = writer_output_dup_tail(run->output, WRITER_FAILURE_TAIL_BYTES);
    } else {
        failure->output_tail = g_strdup(run->outcome == WRITER_OUTCOME_ANSWERED_FAIL &&
                                        run->detail ? run->detail : "");
    }
    g_autofree char *what = writer_run_describe(run);
    g_autofree char *last = run->output ? writer_text_last_line(failure->output_tail) : NULL;
    failure->message = g_strdup_printf("%s %s: %s: %s%s%s", writer_kind_to_string(kind), name,
                                       writer_phase_to_string(phase), what,
                                       last ? ": " : "", last ? last : "");
    return failure;
}

void writer_failure_free(WriterFailure *failure)
{
    if (!failure) {
        return;
    }
    g_free(failure->name);
    g_free(failure->message);
    g_free(failure->output_tail);
    g_free(failure);
}
