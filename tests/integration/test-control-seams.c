/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-control-seams.c — what guest-shutdown, guest-suspend-*,
 * guest-set-vcpus, guest-set-memory-blocks and guest-set-user-password do,
 * proved on this machine without doing it: a confined quiesced with a test
 * system root (agent/commands/control-system.h) runs fake programs that
 * record their arguments and stdin, and writes a fake sysfs. Also: without
 * the test root a confined agent refuses them, and bad input runs nothing.
 * The real effects are checked in the QEMU guest (tests/vm).
 */
#include <glib/gstdio.h>

#include "tests/support/agent-process.h"
#include "tests/support/test-run.h"

typedef struct {
    char *root; /* the fake system */
    AgentProcess *agent;
} Fixture;

static void write_file(const char *root, const char *path, const char *text, int mode)
{
    g_autofree char *full = g_build_filename(root, path, NULL);
    g_autofree char *dir = g_path_get_dirname(full);

    g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
    g_assert_true(g_file_set_contents(full, text, -1, NULL));
    g_assert_cmpint(g_chmod(full, mode), ==, 0);
}

static char *read_file(const Fixture *f, const char *path)
{
    g_autofree char *full = g_build_filename(f->root, path, NULL);
    char *text = NULL;

    return g_file_get_contents(full, &text, NULL, NULL) ? text : NULL;
}

/* A fake program: records "$*" in <root>/<name>.args and its stdin in
 * <root>/<name>.stdin, then exits with status. */
static void fake_program(const char *root, const char *path, int status)
{
    g_autofree char *name = g_path_get_basename(path);
    g_autofree char *script = g_strdup_printf(
        "#!/bin/sh\necho \"$*\" >> '%s/%s.args'\ncat > '%s/%s.stdin'\nexit %d\n", root, name,
        root, name, status);

    write_file(root, path, script, 0755);
}

static void start(Fixture *f, gboolean with_root)
{
    g_autoptr(GError) error = NULL;
    g_auto(GStrv) env = g_get_environ();
    AgentProcessOptions options = { 0 };

    if (with_root) {
        env = g_environ_setenv(env, "QUIESCE_TEST_SYSTEM_ROOT", f->root, TRUE);
    }
    options.envp = (const char *const *)env;
    f->agent = agent_process_start_full("quiesced", g_getenv("QUIESCED"), &options, &error);
    g_assert_no_error(error);
}

static void setup(Fixture *f, gconstpointer data)
{
    f->root = g_dir_make_tmp("quiesce-control-XXXXXX", NULL);
    g_assert_nonnull(f->root);
    fake_program(f->root, "sbin/shutdown", 0);
    fake_program(f->root, "usr/sbin/chpasswd", 0);
    write_file(f->root, "sys/devices/system/cpu/cpu0/uevent", "", 0644);
    write_file(f->root, "sys/devices/system/cpu/cpu1/online", "1\n", 0644);
    write_file(f->root, "sys/devices/system/memory/block_size_bytes", "8000000\n", 0644);
    write_file(f->root, "sys/devices/system/memory/memory0/state", "online\n", 0644);
    write_file(f->root, "sys/devices/system/memory/memory0/removable", "1\n", 0644);
    write_file(f->root, "sys/power/state", "freeze mem disk\n", 0644);
    start(f, data == NULL);
}

static void teardown(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *command = g_strdup_printf("rm -rf '%s'", f->root);

    g_assert_true(agent_process_stop(f->agent, &error));
    agent_process_free(f->agent);
    g_assert_true(g_spawn_command_line_sync(command, NULL, NULL, NULL, NULL));
    g_free(f->root);
}

/* Sends request, then guest-ping, and reads `lines` replies: what comes
 * before the ping's reply is the request's own ("" for a command that
 * answers nothing). */
static char *ask_lines(const Fixture *f, const char *request, guint lines)
{
    g_autofree char *input = g_strdup_printf("%s{\"execute\":\"guest-ping\",\"id\":\"end\"}",
                                             request);
    g_autoptr(GError) error = NULL;
    g_autoptr(GByteArray) got = NULL;
    const char *end = "{\"return\": {}, \"id\": \"end\"}\n";
    char *text;

    got = agent_process_exchange_lines(agent_process_socket(f->agent), (const guint8 *)input,
                                       strlen(input), lines, 5000, &error);
    g_assert_no_error(error);
    text = g_strndup((const char *)got->data, got->len);
    g_assert_true(g_str_has_suffix(text, end));
    text[strlen(text) - strlen(end)] = '\0';
    return text;
}

/* A command that answers. */
static char *ask(const Fixture *f, const char *request)
{
    return ask_lines(f, request, 2);
}

/* A command that answers nothing on success. */
static char *ask_quiet(const Fixture *f, const char *request)
{
    return ask_lines(f, request, 1);
}

static void test_shutdown(Fixture *f, gconstpointer data)
{
    g_autofree char *reply = ask_quiet(f, "{\"execute\":\"guest-shutdown\"}");
    g_autofree char *reboot = ask_quiet(f, "{\"execute\":\"guest-shutdown\",\"arguments\":"
                                     "{\"mode\":\"reboot\"}}");
    g_autofree char *halt = ask_quiet(f, "{\"execute\":\"guest-shutdown\",\"arguments\":"
                                   "{\"mode\":\"halt\"}}");
    g_autofree char *args = read_file(f, "shutdown.args");

    g_assert_cmpstr(reply, ==, ""); /* success-response: false */
    g_assert_cmpstr(reboot, ==, "");
    g_assert_cmpstr(halt, ==, "");
    g_assert_cmpstr(args, ==, "-h -P +0 hypervisor initiated shutdown\n"
                              "-h -r +0 hypervisor initiated shutdown\n"
                              "-h -H +0 hypervisor initiated shutdown\n");
}

static void test_shutdown_fails(Fixture *f, gconstpointer data)
{
    fake_program(f->root, "sbin/shutdown", 1);
    g_autofree char *reply = ask(f, "{\"execute\":\"guest-shutdown\"}");

    g_assert_cmpstr(reply, ==, "{\"error\": {\"class\": \"GenericError\", \"desc\": "
                               "\"child process has failed to shutdown\"}}\n");
}

static void test_password(Fixture *f, gconstpointer data)
{
    /* "s3cr:t p" and a crypted hash */
    g_autofree char *plain = ask(f, "{\"execute\":\"guest-set-user-password\",\"arguments\":"
                                    "{\"username\":\"root\",\"password\":\"czNjcjp0IHA=\","
                                    "\"crypted\":false}}");
    g_autofree char *args = read_file(f, "chpasswd.args");
    g_autofree char *input = read_file(f, "chpasswd.stdin");

    g_assert_cmpstr(plain, ==, "{\"return\": {}}\n");
    g_assert_cmpstr(args, ==, "\n"); /* no -e, and nothing on the command line */
    g_assert_cmpstr(input, ==, "root:s3cr:t p\n");
}

static void test_password_crypted(Fixture *f, gconstpointer data)
{
    g_autofree char *reply = ask(f, "{\"execute\":\"guest-set-user-password\",\"arguments\":"
                                    "{\"username\":\"root\",\"password\":\"JDYkYWJjJGRlZg==\","
                                    "\"crypted\":true}}");
    g_autofree char *args = read_file(f, "chpasswd.args");
    g_autofree char *input = read_file(f, "chpasswd.stdin");

    g_assert_cmpstr(reply, ==, "{\"return\": {}}\n");
    g_assert_cmpstr(args, ==, "-e\n");
    g_assert_cmpstr(input, ==, "root:$6$abc$def\n");
}

static void test_password_bad_input_runs_nothing(Fixture *f, gconstpointer data)
{
    g_autofree char *no_user = ask(f, "{\"execute\":\"guest-set-user-password\",\"arguments\":"
                                      "{\"username\":\"quiesce-no-such-user\",\"password\":"
                                      "\"YWJj\",\"crypted\":false}}");
    g_autofree char *bad = ask(f, "{\"execute\":\"guest-set-user-password\",\"arguments\":"
                                  "{\"username\":\"root\",\"password\":\"a*b\",\"crypted\":false}}");
    g_autofree char *args = read_file(f, "chpasswd.args");

    g_assert_cmpstr(no_user, ==, "{\"error\": {\"class\": \"GenericError\", \"desc\": "
                                 "\"child process has failed to set user password\"}}\n");
    g_assert_cmpstr(bad, ==, "{\"error\": {\"class\": \"GenericError\", \"desc\": "
                             "\"Base64 data contains invalid characters\"}}\n");
    g_assert_null(args);
}

static void test_vcpus(Fixture *f, gconstpointer data)
{
    g_autofree char *off = ask(f, "{\"execute\":\"guest-set-vcpus\",\"arguments\":{\"vcpus\":"
                                  "[{\"logical-id\":1,\"online\":false}]}}");
    g_autofree char *online = read_file(f, "sys/devices/system/cpu/cpu1/online");
    g_autofree char *cpu0 = ask(f, "{\"execute\":\"guest-set-vcpus\",\"arguments\":{\"vcpus\":"
                                   "[{\"logical-id\":0,\"online\":false}]}}");
    g_autofree char *partial = ask(f, "{\"execute\":\"guest-set-vcpus\",\"arguments\":{\"vcpus\":"
                                      "[{\"logical-id\":1,\"online\":true},"
                                      "{\"logical-id\":7,\"online\":true}]}}");
    g_autofree char *get = ask(f, "{\"execute\":\"guest-get-vcpus\"}");

    g_assert_cmpstr(off, ==, "{\"return\": 1}\n");
    g_assert_cmpint(online[0], ==, '0');
    g_assert_cmpstr(cpu0, ==, "{\"error\": {\"class\": \"GenericError\", \"desc\": "
                              "\"logical processor #0 can't be offlined\"}}\n");
    g_assert_cmpstr(partial, ==, "{\"return\": 1}\n"); /* the count before the failure */
    g_assert_nonnull(strstr(get, "{\"online\": true, \"can-offline\": true, \"logical-id\": 1}"));
    g_assert_nonnull(strstr(get, "{\"online\": true, \"can-offline\": false, \"logical-id\": 0}"));
}

static void test_memory_blocks(Fixture *f, gconstpointer data)
{
    g_autofree char *set = ask(f, "{\"execute\":\"guest-set-memory-blocks\",\"arguments\":"
                                  "{\"mem-blks\":[{\"phys-index\":0,\"online\":false},"
                                  "{\"phys-index\":5,\"online\":false}]}}");
    g_autofree char *state = read_file(f, "sys/devices/system/memory/memory0/state");
    g_autofree char *get = ask(f, "{\"execute\":\"guest-get-memory-blocks\"}");
    g_autofree char *info = ask(f, "{\"execute\":\"guest-get-memory-block-info\"}");

    g_assert_cmpstr(set, ==, "{\"return\": [{\"response\": \"success\", \"phys-index\": 0}, "
                             "{\"response\": \"not-found\", \"error-code\": 2, "
                             "\"phys-index\": 5}]}\n");
    g_assert_true(g_str_has_prefix(state, "offline"));
    g_assert_cmpstr(get, ==, "{\"return\": [{\"online\": false, \"can-offline\": true, "
                             "\"phys-index\": 0}]}\n");
    g_assert_cmpstr(info, ==, "{\"return\": {\"size\": 134217728}}\n");
}

static void test_suspend(Fixture *f, gconstpointer data)
{
    g_autofree char *ram = ask_quiet(f, "{\"execute\":\"guest-suspend-ram\"}");
    g_autofree char *state = read_file(f, "sys/power/state");
    g_autofree char *hybrid = ask(f, "{\"execute\":\"guest-suspend-hybrid\"}");

    g_assert_cmpstr(ram, ==, "");
    g_assert_true(g_str_has_prefix(state, "mem"));
    g_assert_cmpstr(hybrid, ==, "{\"error\": {\"class\": \"GenericError\", \"desc\": "
                                "\"the requested suspend mode is not supported by the guest\"}}\n");
}

/* A systemctl stand-in that logs its arguments: "systemctl status" exits 3
 * (unit known, not running), so systemd is used; its verbs exit VERB_STATUS. */
static void fake_systemctl(Fixture *f, int verb_status)
{
    g_autofree char *systemctl = g_strdup_printf("#!/bin/sh\necho \"$*\" >> '%s/systemctl.args'\n"
                                                 "[ \"$1\" = status ] && exit 3\nexit %d\n",
                                                 f->root, verb_status);
    write_file(f->root, "usr/bin/systemctl", systemctl, 0755);
}

static void test_suspend_systemd(Fixture *f, gconstpointer data)
{
    fake_systemctl(f, 0);
    g_autofree char *disk = ask_quiet(f, "{\"execute\":\"guest-suspend-disk\"}");
    g_autofree char *args = read_file(f, "systemctl.args");
    g_autofree char *state = read_file(f, "sys/power/state");

    g_assert_cmpstr(disk, ==, "");
    g_assert_cmpstr(args, ==, "status systemd-hibernate\nhibernate\n");
    g_assert_cmpstr(state, ==, "freeze mem disk\n");
}

static void test_suspend_systemd_fails(Fixture *f, gconstpointer data)
{
    /* systemd knows every mode but its sleep fails (hybrid-sleep without
     * swap); no pm-utils. qemu-ga 7.2 answers hybrid with its
     * /sys/power/state step's error, and ram with that step's result. */
    fake_systemctl(f, 1);
    g_autofree char *hybrid = ask(f, "{\"execute\":\"guest-suspend-hybrid\"}");
    g_autofree char *ram = ask_quiet(f, "{\"execute\":\"guest-suspend-ram\"}");
    g_autofree char *args = read_file(f, "systemctl.args");
    g_autofree char *state = read_file(f, "sys/power/state");

    g_assert_cmpstr(hybrid, ==, "{\"error\": {\"class\": \"GenericError\", \"desc\": "
                                "\"unknown guest suspend mode\"}}\n");
    g_assert_cmpstr(ram, ==, "");
    g_assert_cmpstr(args, ==, "status systemd-hybrid-sleep\nhybrid-sleep\n"
                              "status systemd-suspend\nsuspend\n");
    g_assert_true(g_str_has_prefix(state, "mem"));
}

static void test_confined_refuses(Fixture *f, gconstpointer data)
{
    g_autofree char *shutdown = ask(f, "{\"execute\":\"guest-shutdown\"}");
    g_autofree char *password = ask(f, "{\"execute\":\"guest-set-user-password\",\"arguments\":"
                                       "{\"username\":\"root\",\"password\":\"YWJj\","
                                       "\"crypted\":false}}");
    g_autofree char *suspend = ask(f, "{\"execute\":\"guest-suspend-ram\"}");

    g_assert_true(g_str_has_prefix(shutdown, "{\"error\": {\"class\": \"GenericError\", "
                                             "\"desc\": \"refusing to shut down: the agent is "
                                             "confined to "));
    g_assert_true(g_str_has_prefix(password, "{\"error\": {\"class\": \"GenericError\", "
                                             "\"desc\": \"refusing to set a password"));
    g_assert_true(g_str_has_prefix(suspend, "{\"error\": {\"class\": \"GenericError\", "
                                            "\"desc\": \"refusing to suspend"));
    g_assert_null(read_file(f, "shutdown.args"));
    g_assert_null(read_file(f, "chpasswd.args"));
}

#define ADD(path, test, data) \
    g_test_add("/control/" path, Fixture, data, setup, test, teardown)

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    if (!g_getenv("QUIESCED")) {
        g_printerr("QUIESCED is not set\n");
        return 1;
    }
    ADD("shutdown", test_shutdown, NULL);
    ADD("shutdown-fails", test_shutdown_fails, NULL);
    ADD("password", test_password, NULL);
    ADD("password-crypted", test_password_crypted, NULL);
    ADD("password-bad-input-runs-nothing", test_password_bad_input_runs_nothing, NULL);
    ADD("vcpus", test_vcpus, NULL);
    ADD("memory-blocks", test_memory_blocks, NULL);
    ADD("suspend", test_suspend, NULL);
    ADD("suspend-systemd", test_suspend_systemd, NULL);
    ADD("suspend-systemd-fails", test_suspend_systemd_fails, NULL);
    ADD("confined-without-test-root-refuses", test_confined_refuses, "no-root");
    return quiesce_test_run();
}
