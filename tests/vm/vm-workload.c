/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vm-workload.c — the guest's workload for the vm tests: appends one
 * fixed-size record per interval to a file, fsyncs it, and only then prints
 * "committed NAME SEQ NS LAT_US" on stdout (the serial console, which the host
 * reads). So every record the host has seen reported before it sent prepare
 * must be in the snapshot, and LAT_US (write + fsync time) shows how long the
 * application stalled during a freeze. busybox `date` has no nanoseconds,
 * hence this helper (docs/testing.md §4).
 *
 * With --buffered it never fsyncs: each record is a plain write(2), left
 * dirty in the page cache, and the line is "written NAME SEQ NS LAT_US". A
 * freeze (FIFREEZE) blocks the write and syncs what was written before it, so
 * a frozen snapshot holds every record written before the freeze and none
 * after; a crash-consistent copy lacks whatever was not written back yet
 * (the vm guest turns periodic writeback off, so that is everything since
 * the last sync). The record after the snapshot's last one is the first
 * written after the thaw: the gap between their completions covers the
 * freeze (tests/vm/lib.sh, vm_check_stall).
 *
 * NS is CLOCK_REALTIME when the write starts, LAT_US the time to its end
 * (write, and fsync unless --buffered), so NS + LAT_US is when it finished.
 *
 * Record: "NAME SEQ NS\n" padded with spaces to 64 bytes; SEQ counts from 1
 * and goes on from the file's length after a restart.
 *
 * usage: vm-workload [--buffered] NAME FILE INTERVAL_MS
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define RECORD_BYTES 64

static long long now_ns(clockid_t clock)
{
    struct timespec ts;

    clock_gettime(clock, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return -1;
        }
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct stat st;
    unsigned long long seq;
    long interval_ms;
    int buffered = 0;
    int fd;

    if (argc == 5 && strcmp(argv[1], "--buffered") == 0) {
        buffered = 1;
        argc--;
        argv++;
    }
    if (argc != 4) {
        fprintf(stderr, "usage: vm-workload [--buffered] NAME FILE INTERVAL_MS\n");
        return 2;
    }
    interval_ms = strtol(argv[3], NULL, 10);
    fd = open(argv[2], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0 || fstat(fd, &st) < 0) {
        fprintf(stderr, "vm-workload %s: %s: %s\n", argv[1], argv[2], strerror(errno));
        return 1;
    }
    seq = (unsigned long long)st.st_size / RECORD_BYTES;
    setvbuf(stdout, NULL, _IOLBF, 0);
    for (;;) {
        char record[RECORD_BYTES + 1];
        long long start = now_ns(CLOCK_MONOTONIC);
        long long stamp = now_ns(CLOCK_REALTIME);
        int n;

        seq++;
        n = snprintf(record, sizeof(record), "%s %llu %lld", argv[1], seq, stamp);
        memset(record + n, ' ', RECORD_BYTES - 1 - (size_t)n);
        record[RECORD_BYTES - 1] = '\n';
        if (write_all(fd, record, RECORD_BYTES) < 0 || (!buffered && fsync(fd) < 0)) {
            printf("workload-error %s %llu %s\n", argv[1], seq, strerror(errno));
            return 1;
        }
        printf("%s %s %llu %lld %lld\n", buffered ? "written" : "committed", argv[1], seq, stamp,
               (now_ns(CLOCK_MONOTONIC) - start) / 1000);
        if (interval_ms > 0) {
            struct timespec pause = { interval_ms / 1000, (interval_ms % 1000) * 1000000L };
            nanosleep(&pause, NULL);
        }
    }
}
