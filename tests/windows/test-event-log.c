/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-event-log.c — logs one line of each level through the service's log
 * (windows/win-log.c) with the event log on, or with "--no-event-log" off
 * (the negative control of check-event-log.sh). Wine has no event log:
 * its ReportEventW only prints the strings on its "eventlog" debug channel
 * (err/warn/trace by event type), which the script reads.
 */
#include <string.h>

#include "windows/win-log.h"

int main(int argc, char **argv)
{
    bool event_log = !(argc > 1 && strcmp(argv[1], "--no-event-log") == 0);
    WinLog *log = win_log_new(event_log, false, false);

    win_log(log, WIN_LOG_ERROR, "test error %d", 1);
    win_log(log, WIN_LOG_WARNING, "test warning %d", 2);
    win_log(log, WIN_LOG_INFO, "test info %d", 3);
    win_log(log, WIN_LOG_DEBUG, "test debug %d (not logged without --debug)", 4);
    win_log_free(log);
    return 0;
}
