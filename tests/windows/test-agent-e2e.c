/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-agent-e2e.c — quiesced.exe (test build: fake VSS and volumes) on a
 * named pipe under wine, driven as a host drives it: one scenario per run,
 * named by argv[1], so ctest lists each as its own test.
 */
#include <stdio.h>
#include <string.h>

#include "tests/windows/agent-client.h"

#define PREPARE "{\"execute\":\"guest-snapshot-prepare\"}"

static char request[256];

static const char *post(const char *session)
{
    snprintf(request, sizeof(request),
             "{\"execute\":\"guest-snapshot-post\",\"arguments\":{\"session\":\"%s\"}}", session);
    return request;
}

static void basic(TestAgent *a)
{
    test_expect(test_agent_request(a, "{\"execute\":\"guest-ping\"}"), "{\"return\": {}}");
    test_expect(test_agent_request(a, "\xff{\"execute\":\"guest-sync-delimited\",\"arguments\":"
                                      "{\"id\":42}}"),
                "JSON parse error, stray");
    test_expect(test_agent_request(a, ""), "\xff{\"return\": 42}");
    test_expect(test_agent_request(a, "{\"execute\":\"guest-info\"}"), "guest-snapshot-prepare");
    test_expect(test_agent_request(a, "{\"execute\":\"guest-nope\"}"),
                "The command guest-nope has not been found");
    test_expect(test_agent_request(a, "{\"execute\":\"guest-sync\",\"arguments\":{\"id\":\"x\"}}"),
                "Invalid parameter type for 'id', expected: integer");
    test_expect(test_agent_request(a, "garbage "), "invalid keyword 'garbage'");
    test_expect(test_agent_request(a, "{\"execute\":\"guest-get-fsinfo\"}"), "\"type\": \"NTFS\"");
}

static void child(TestAgent *a)
{
    char session[37];
    const char *reply = test_agent_request(a, "{\"execute\":\"guest-snapshot-check\"}");

    test_expect(reply, "\"method\": \"child-snapshot\"");
    test_expect(reply, "\"class\": \"basic\"");
    reply = test_agent_request(a, PREPARE);
    test_expect(reply, "\"method\": \"child-snapshot\"");
    test_expect(reply, "\"frozen\": [\"C:\\\\\"]");
    test_session_of(reply, session);
    test_expect(test_agent_request(a, "{\"execute\":\"guest-snapshot-status\"}"),
                "\"state\": \"active\"");
    test_expect(test_agent_request(a, "{\"execute\":\"guest-get-fsinfo\"}"),
                "has been disabled: the agent is in frozen state");
    test_expect(test_agent_request(a, PREPARE), "has been disabled");
    reply = test_agent_request(a, post(session));
    test_expect(reply, "\"thawed\": 1");
    test_expect(reply, session);
    test_expect(test_agent_request(a, "{\"execute\":\"guest-fsfreeze-status\"}"), "thawed");
}

static void saved_state(TestAgent *a)
{
    const char *reply = test_agent_request(a, PREPARE);

    test_expect(reply, "\"method\": \"saved-state\"");
    test_expect(reply, "\"code\": \"unsupported-filesystem\"");
    test_expect(reply, "\"code\": \"dynamic-disk\"");
    test_expect(reply, "\"class\": \"not-host-visible\"");
    test_expect(reply, "\"frozen\": []");
    test_expect(test_agent_request(a, "{\"execute\":\"guest-fsfreeze-status\"}"), "thawed");
}

#define CHECK "{\"execute\":\"guest-snapshot-check\"}"

/* C:\ basic, F:\ dynamic, V:\ on a VHD: the policies of docs/design.md §5. */
#define POLICY_VOLUMES "QUIESCE_FAKE_VOLUMES=C:\\|NTFS|;F:\\|NTFS|dynamic;V:\\|NTFS|vhd"

static void policy_default(TestAgent *a)
{
    const char *reply = test_agent_request(a, CHECK);

    test_expect(reply, "\"strict\": false");
    test_expect(reply, "\"allow-dynamic\": false");
    test_expect(reply, "\"method\": \"saved-state\"");
    test_expect(reply, "\"code\": \"dynamic-disk\"");
    test_expect_mount(reply, "V:\\\\", "\"class\": \"loop-backed\"");
    test_expect_mount(reply, "V:\\\\", "\"verdict\": \"freeze\"");
    test_expect_mount(reply, "F:\\\\", "\"verdict\": \"blocks-child-snapshot\"");
    if (strstr(reply, "not-basic-disk")) {
        test_expect(reply, "no not-basic-disk without --strict");
    }
    test_expect(test_agent_request(a, PREPARE), "\"frozen\": []");
}

static void policy_allow_dynamic(TestAgent *a)
{
    char session[37];
    const char *reply = test_agent_request(a, CHECK);

    test_expect(reply, "\"strict\": false");
    test_expect(reply, "\"allow-dynamic\": true");
    test_expect(reply, "\"method\": \"child-snapshot\"");
    test_expect_mount(reply, "F:\\\\", "\"class\": \"dynamic\"");
    test_expect_mount(reply, "F:\\\\", "\"verdict\": \"freeze\"");
    test_expect(reply, "\"freeze-order\": [\"C:\\\\\", \"F:\\\\\", \"V:\\\\\"]");
    reply = test_agent_request(a, PREPARE);
    test_expect(reply, "\"frozen\": [\"C:\\\\\", \"F:\\\\\", \"V:\\\\\"]");
    test_session_of(reply, session);
    test_expect(test_agent_request(a, post(session)), "\"thawed\": 3");
}

static void policy_strict(TestAgent *a)
{
    const char *reply = test_agent_request(a, CHECK);

    test_expect(reply, "\"strict\": true");
    test_expect(reply, "\"allow-dynamic\": true"); /* configured, but strict wins */
    test_expect(reply, "\"method\": \"saved-state\"");
    test_expect_mount(reply, "V:\\\\", "\"reason-code\": \"not-basic-disk\"");
    test_expect_mount(reply, "F:\\\\", "\"reason-code\": \"dynamic-disk\"");
    test_expect(reply, "F:\\\\ is on a dynamic disk or spans several disks: strict mode allows "
                       "basic disks only");
    test_expect(reply, "V:\\\\ is on a VHD attached inside the guest: strict mode");
    test_expect(reply, "\"freeze-order\": [\"C:\\\\\"]");
    reply = test_agent_request(a, PREPARE);
    test_expect(reply, "\"method\": \"saved-state\"");
    test_expect(reply, "\"frozen\": []");
}

static size_t count_of(const char *text, const char *what)
{
    size_t n = 0;

    for (const char *at = strstr(text, what); at; at = strstr(at + 1, what)) {
        n++;
    }
    return n;
}

/* guest-get-fsinfo's disk list, as qemu-ga fills it on Windows, from the
 * fake probe: C:\ on one virtio-scsi disk, F:\ dynamic over two, Z:\ iSCSI. */
static void fsinfo_disks(TestAgent *a)
{
    const char *reply = test_agent_request(a, "{\"execute\":\"guest-get-fsinfo\"}");

    test_expect(reply, "\"dev\": \"\\\\\\\\.\\\\PhysicalDrive0\"");
    test_expect(reply, "\"serial\": \"QM00000\"");
    test_expect(reply, "\"pci-controller\": {");
    test_expect(reply, "\"slot\": 5");
    test_expect(reply, "\"dev\": \"\\\\\\\\.\\\\PhysicalDrive1\"");
    test_expect(reply, "\"dev\": \"\\\\\\\\.\\\\PhysicalDrive11\"");
    test_expect(reply, "\"serial\": \"QM00011\"");
    test_expect(reply, "\"bus-type\": \"iscsi\"");
    if (count_of(reply, "\"bus-type\":") != 4 || count_of(reply, "\"bus-type\": \"scsi\"") != 3 ||
        count_of(reply, "\"serial\":") != 3 || count_of(reply, "\"target\": 0") != 4 ||
        count_of(reply, "\"domain\": -1") != 1) {
        test_expect(reply, "4 disks: 3 scsi with serials, 1 iscsi with no PCI address");
    }
}

/* The shipped exe (real VSS backend and probe) under wine: it serves
 * requests; its probe lists wine's drives (C: is NTFS, docs/testing.md
 * §5), whose volumes have no disk extents under wine, so they have no disk
 * entries (and no pci-controller to look up: disk-pci-real.c's walk is run
 * by windows/pci-address instead); without LDM or extents, C: is basic. */
static void real_probe(TestAgent *a)
{
    const char *reply = test_agent_request(a, "{\"execute\":\"guest-get-fsinfo\"}");

    printf("guest-get-fsinfo: %s\n", reply);
    test_expect(reply, "\"mountpoint\": \"C:\\\\\"");
    test_expect(reply, "\"type\": \"NTFS\"");
    test_expect(reply, "\"disk\": []");
    reply = test_agent_request(a, "{\"execute\":\"guest-snapshot-check\"}");
    printf("guest-snapshot-check: %s\n", reply);
    test_expect_mount(reply, "C:\\\\", "\"class\": \"basic\"");
}

static void not_running(TestAgent *a)
{
    const char *reply = test_agent_request(a, PREPARE);
    test_expect(reply, "\"code\": \"not-running\"");
    test_expect(reply, "\"frozen\": []");
}

static void abort_session(TestAgent *a)
{
    char session[37];

    test_session_of(test_agent_request(a, PREPARE), session);
    test_expect(test_agent_request(a, "{\"execute\":\"guest-snapshot-abort\"}"), "\"thawed\": 1");
    test_expect(test_agent_request(a, post(session)), "no snapshot session");
    test_expect(test_agent_request(a, "{\"execute\":\"guest-snapshot-abort\",\"arguments\":"
                                      "{\"session\":\"not-a-uuid\"}}"),
                "is not a session id");
}

static void window(TestAgent *a)
{
    char session[37];

    test_session_of(test_agent_request(a, PREPARE), session);
    Sleep(1600);
    test_expect(test_agent_request(a, "{\"execute\":\"guest-snapshot-status\"}"),
                "\"end\": \"expired\"");
    test_expect(test_agent_request(a, post(session)), "the freeze window of 1 s expired");
    test_expect(test_agent_request(a, post(session)), "no snapshot session"); /* once */
}

static void host_lost(TestAgent *a)
{
    char session[37];

    test_session_of(test_agent_request(a, PREPARE), session);
    test_agent_disconnect(a);
    Sleep(1800);
    test_agent_connect(a); /* the channel serves the next host */
    test_expect(test_agent_request(a, post(session)),
                "disconnected and did not come back within 1 s");
}

static void host_back(TestAgent *a)
{
    char session[37];

    test_session_of(test_agent_request(a, PREPARE), session);
    test_agent_disconnect(a);
    test_agent_connect(a); /* back within the grace: the session lives */
    Sleep(1500);
    test_expect(test_agent_request(a, post(session)), "\"thawed\": 1");
}

static void writer_failed(TestAgent *a)
{
    const char *reply = test_agent_request(a, PREPARE);
    test_expect(reply, "\"code\": \"writer-failed\"");
    test_expect(reply, "SqlServerWriter");
    test_expect(test_agent_request(a, "{\"execute\":\"guest-fsfreeze-status\"}"), "thawed");
}

static void writer_freeze(TestAgent *a)
{
    const char *reply = test_agent_request(a, PREPARE);
    test_expect(reply, "\"code\": \"writer-failed\"");
    test_expect(reply, "ExchangeWriter");
    test_expect(reply, "failed at freeze");
}

static void hold_limit(TestAgent *a)
{
    char session[37];

    test_session_of(test_agent_request(a, PREPARE), session);
    Sleep(900);
    test_expect(test_agent_request(a, post(session)), "VSS ended the hold of writes on its own");
}

static void fsfreeze(TestAgent *a)
{
    test_expect(test_agent_request(a, "{\"execute\":\"guest-fsfreeze-freeze\"}"), "{\"return\": 2}");
    test_expect(test_agent_request(a, "{\"execute\":\"guest-fsfreeze-status\"}"), "frozen");
    test_expect(test_agent_request(a, "{\"execute\":\"guest-fsfreeze-thaw\"}"), "{\"return\": 2}");
    test_expect(test_agent_request(a, "{\"execute\":\"guest-fsfreeze-freeze-list\",\"arguments\":"
                                      "{\"mountpoints\":[\"d:\"]}}"),
                "{\"return\": 1}");
    test_expect(test_agent_request(a, "{\"execute\":\"guest-fsfreeze-thaw\"}"), "{\"return\": 1}");
    test_expect(test_agent_request(a, "{\"execute\":\"guest-fsfreeze-freeze-list\",\"arguments\":"
                                      "{\"mountpoints\":[\"Q:\\\\\"]}}"),
                "Q:\\\\ is not a volume that can be frozen");
    test_expect(test_agent_request(a, "{\"execute\":\"guest-fsfreeze-thaw\"}"), "{\"return\": 0}");
}

static const struct {
    const char *name;
    const char *env;
    const char *args;
    void (*run)(TestAgent *a);
} scenarios[] = {
    { "basic", NULL, NULL, basic },
    { "child-snapshot", NULL, NULL, child },
    { "saved-state", "QUIESCE_FAKE_VOLUMES=C:\\|NTFS|;E:\\|FAT32|data;F:\\|NTFS|dynamic;Z:\\|NTFS|iscsi",
      NULL, saved_state },
    { "not-running", "QUIESCE_FAKE_STATE=setup", NULL, not_running },
    { "policy-default", POLICY_VOLUMES, NULL, policy_default },
    { "fsinfo-disks", "QUIESCE_FAKE_VOLUMES=C:\\|NTFS|;F:\\|NTFS|dynamic;Z:\\|NTFS|iscsi", NULL,
      fsinfo_disks },
    { "policy-allow-dynamic", POLICY_VOLUMES, "--allow-dynamic", policy_allow_dynamic },
    { "policy-strict", POLICY_VOLUMES, "--strict --allow-dynamic", policy_strict },
    { "abort", NULL, NULL, abort_session },
    { "window-expiry", NULL, "--window 1", window },
    { "host-lost", NULL, "--host-lost-grace 1", host_lost },
    { "host-back", NULL, "--host-lost-grace 1 --window 5", host_back },
    { "writer-failed", "QUIESCE_FAKE_VSS=writer-failed=SqlServerWriter", NULL, writer_failed },
    { "writer-fails-freeze", "QUIESCE_FAKE_VSS=writer-fail-freeze=ExchangeWriter", NULL,
      writer_freeze },
    { "vss-hold-limit", "QUIESCE_FAKE_VSS=hold-ms=400", NULL, hold_limit },
    { "fsfreeze", "QUIESCE_FAKE_VOLUMES=C:\\|NTFS|;D:\\|ReFS|", NULL, fsfreeze },
    { "real-probe", "QUIESCE_TEST_REAL_EXE=1", NULL, real_probe },
};

int main(int argc, char **argv)
{
    for (size_t i = 0; argc > 1 && i < sizeof(scenarios) / sizeof(scenarios[0]); i++) {
        TestAgent agent;
        if (strcmp(argv[1], scenarios[i].name) != 0) {
            continue;
        }
        test_agent_start(&agent, scenarios[i].env, scenarios[i].args);
        scenarios[i].run(&agent);
        test_agent_stop(&agent);
        printf("ok: %s\n", scenarios[i].name);
        return 0;
    }
    fprintf(stderr, "usage: test-agent-e2e SCENARIO\n");
    return 2;
}
