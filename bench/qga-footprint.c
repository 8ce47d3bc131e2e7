/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * qga-footprint.c — what an agent costs the guest when it does nothing
 * (bench/footprint-vm.sh runs it inside a QEMU guest, for quiesced and for
 * Debian's qemu-ga):
 *
 *   spawn SOCKET -- COMMAND [ARG...]
 *       starts COMMAND (an agent listening on the unix socket SOCKET, which
 *       is removed first), connects as soon as the socket accepts (retried
 *       every 100 µs), sends one guest-sync and reads its reply; prints
 *       "spawn-us N rss-kib N threads N", the time from before fork() to the
 *       reply's newline and the agent's RSS and thread count then; stops
 *       the agent (SIGTERM, SIGKILL after 5 s) and reaps it.
 *   watch SECONDS PID...
 *       samples each PID, waits SECONDS, samples again; prints per PID
 *       "pid N rss-kib N wakeups N cpu-ms N": RSS at the end, context
 *       switches (voluntary + involuntary, every thread of the process, from
 *       /proc/PID/task/T/status) and CPU time (utime + stime of
 *       /proc/PID/stat) between the samples. A process that sleeps in
 *       poll() with nothing to do switches 0 times; each timer or wake-up
 *       that runs costs at least one.
 *
 * No GLib: it runs in the busybox guest with the C library only.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

/* The value of "KEY:" in /proc/PID[/task/TID]/status (or smaps_rollup),
 * or -1. */
static long long status_field(const char *path, const char *key)
{
    char line[256];
    long long value = -1;
    size_t len = strlen(key);
    FILE *f = fopen(path, "re");

    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f)) {
        if (strncmp(line, key, len) == 0 && line[len] == ':') {
            value = strtoll(line + len + 1, NULL, 10);
            break;
        }
    }
    fclose(f);
    return value;
}

/* Resident KiB from a walk of the page tables (smaps_rollup's Rss), or
 * VmRSS where there is no smaps_rollup. Linux before 6.2 keeps VmRSS in
 * per-thread caches that reach the process's counter only every 64 page
 * faults (SPLIT_RSS_COUNTING, mm/memory.c), and with fault-around a fault
 * maps up to 16 pages: in the 6.1 guest VmRSS read 2900 KiB for quiesced
 * and 2636 for qemu-ga while their mappings held 3504 and 4128. */
static long long proc_rss_kib(pid_t pid)
{
    char path[64];
    long long rss;

    snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", (int)pid);
    rss = status_field(path, "Rss");
    if (rss >= 0)
        return rss;
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    return status_field(path, "VmRSS");
}

static long long proc_threads(pid_t pid)
{
    char path[64];

    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    return status_field(path, "Threads");
}

/* Context switches of every thread of PID. */
static long long proc_switches(pid_t pid)
{
    char path[320];
    long long total = 0;
    struct dirent *entry;
    DIR *dir;

    snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
    dir = opendir(path);
    if (!dir)
        return -1;
    while ((entry = readdir(dir))) {
        if (entry->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "/proc/%d/task/%s/status", (int)pid, entry->d_name);
        total += status_field(path, "voluntary_ctxt_switches") +
                 status_field(path, "nonvoluntary_ctxt_switches");
    }
    closedir(dir);
    return total;
}

/* utime + stime in ms. */
static long long proc_cpu_ms(pid_t pid)
{
    char path[64], buf[1024], *p;
    unsigned long long utime, stime;
    ssize_t n;
    int fd;

    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    /* After the ")" closing comm: state is field 3, utime 14, stime 15. */
    p = strrchr(buf, ')');
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
                     &utime, &stime) != 2)
        return -1;
    return (long long)(utime + stime) * 1000 / sysconf(_SC_CLK_TCK);
}

static void stop_child(pid_t pid)
{
    int i;

    kill(pid, SIGTERM);
    for (i = 0; i < 500; i++) {
        if (waitpid(pid, NULL, WNOHANG) == pid)
            return;
        usleep(10000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

static int spawn(const char *socket_path, char **argv)
{
    static const char request[] = "{\"execute\":\"guest-sync\",\"arguments\":{\"id\":4711}}\n";
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    long long start, elapsed;
    char reply[256];
    size_t got = 0;
    pid_t pid;
    int fd = -1;

    if (strlen(socket_path) >= sizeof(addr.sun_path)) {
        fprintf(stderr, "qga-footprint: socket path too long\n");
        return 2;
    }
    strcpy(addr.sun_path, socket_path);
    unlink(socket_path);
    start = now_us();
    pid = fork();
    if (pid < 0) {
        perror("qga-footprint: fork");
        return 1;
    }
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR);

        dup2(null, 0);
        dup2(null, 1);
        dup2(null, 2);
        execvp(argv[0], argv);
        _exit(127);
    }
    while (now_us() - start < 30000000LL) {
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd >= 0 && connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0)
            break;
        if (fd >= 0)
            close(fd);
        fd = -1;
        if (waitpid(pid, NULL, WNOHANG) == pid) {
            fprintf(stderr, "qga-footprint: %s exited before it listened\n", argv[0]);
            return 1;
        }
        usleep(100);
    }
    if (fd < 0) {
        fprintf(stderr, "qga-footprint: %s did not listen on %s in 30 s\n", argv[0], socket_path);
        stop_child(pid);
        return 1;
    }
    if (write(fd, request, sizeof(request) - 1) != (ssize_t)sizeof(request) - 1) {
        perror("qga-footprint: write");
        stop_child(pid);
        return 1;
    }
    while (got < sizeof(reply) - 1) {
        ssize_t n = read(fd, reply + got, sizeof(reply) - 1 - got);

        if (n <= 0)
            break;
        got += (size_t)n;
        if (memchr(reply, '\n', got))
            break;
    }
    elapsed = now_us() - start;
    reply[got] = '\0';
    if (!strstr(reply, "\"return\": 4711") && !strstr(reply, "\"return\":4711")) {
        fprintf(stderr, "qga-footprint: unexpected reply from %s: %s\n", argv[0], reply);
        close(fd);
        stop_child(pid);
        return 1;
    }
    printf("spawn-us %lld rss-kib %lld threads %lld\n", elapsed, proc_rss_kib(pid), proc_threads(pid));
    close(fd);
    stop_child(pid);
    return 0;
}

static int watch(int seconds, int count, char **pids)
{
    long long switches[count], cpu[count];
    int i;

    for (i = 0; i < count; i++) {
        pid_t pid = (pid_t)atoi(pids[i]);

        switches[i] = proc_switches(pid);
        cpu[i] = proc_cpu_ms(pid);
        if (switches[i] < 0 || cpu[i] < 0) {
            fprintf(stderr, "qga-footprint: no process %s\n", pids[i]);
            return 1;
        }
    }
    sleep((unsigned)seconds);
    for (i = 0; i < count; i++) {
        pid_t pid = (pid_t)atoi(pids[i]);

        printf("pid %d rss-kib %lld wakeups %lld cpu-ms %lld\n", (int)pid, proc_rss_kib(pid),
               proc_switches(pid) - switches[i], proc_cpu_ms(pid) - cpu[i]);
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 5 && strcmp(argv[1], "spawn") == 0 && strcmp(argv[3], "--") == 0)
        return spawn(argv[2], argv + 4);
    if (argc >= 4 && strcmp(argv[1], "watch") == 0 && atoi(argv[2]) > 0)
        return watch(atoi(argv[2]), argc - 3, argv + 3);
    fprintf(stderr, "usage: qga-footprint spawn SOCKET -- COMMAND [ARG...]\n"
                    "       qga-footprint watch SECONDS PID...\n");
    return 2;
}
