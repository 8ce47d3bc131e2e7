/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * writer-server.c — the socket-writer listener and registry; see
 * writer-server.h for who may connect and the limits.
 */
#include "agent/writers/writer-server.h"

#include <errno.h>
#include <glib-unix.h>
#include <grp.h>
#include <limits.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "client/quiesce-writer.h"
#include "common/quiesce-error.h"

struct WriterServer {
    char *path;
    int listen_fd;
    dev_t dev;           /* of the socket file we created, to remove only ours */
    ino_t ino;
    GSource *listen_source; /* NULL while accepting is paused */
    GSource *resume_source; /* resumes accepting after an accept error */
    GSource *sweep_source; /* closes connections that never say hello; NULL when none wait */
    GMainContext *context;
    char *group;         /* NULL: root and our own uid only */
    gid_t gid;
    uid_t self_uid;
    GPtrArray *pending;  /* WriterConn* (ref), awaiting hello */
    GPtrArray *writers;  /* WriterConn* (ref), registered, in order */
    MemLog *log;         /* borrowed */
};

/* The name rule of the wire protocol (quiesce_writer_name_is_valid() in the
 * client library; the agent does not link the client). */
static gboolean writer_server_name_is_valid(const char *name)
{
    gsize len = strlen(name);
    if (len == 0 || len > QUIESCE_WRITER_NAME_MAX) {
        return FALSE;
    }
    for (gsize i = 0; i < len; i++) {
        if (!g_ascii_isalnum(name[i]) && !strchr("._-", name[i])) {
            return FALSE;
        }
    }
    return TRUE;
}

static gpointer writer_server_copy_conn(gconstpointer conn, gpointer user_data)
{
    return writer_conn_ref((WriterConn *)conn);
}

/* Callback data of a connection's watch (owned by the watch source). */
typedef struct {
    WriterServer *server; /* borrowed: the server destroys every watch first */
    WriterConn *conn;     /* borrowed: the connection owns its watch */
} WriterServerWatch;

static gboolean writer_server_on_pending_ready(gint fd, GIOCondition condition,
                                               gpointer user_data);
static gboolean writer_server_on_writer_ready(gint fd, GIOCondition condition,
                                              gpointer user_data);

static void writer_server_watch(WriterServer *server, WriterConn *conn, GUnixFDSourceFunc func)
{
    WriterServerWatch *watch = g_new0(WriterServerWatch, 1);
    watch->server = server;
    watch->conn = conn;
    GSource *source = g_unix_fd_source_new(writer_conn_get_fd(conn),
                                           G_IO_IN | G_IO_HUP | G_IO_ERR);
    g_source_set_callback(source, G_SOURCE_FUNC(func), watch, g_free);
    g_source_attach(source, server->context);
    writer_conn_set_source(conn, source);
}

static void writer_server_on_closed(WriterConn *conn, const char *reason, gpointer user_data)
{
    WriterServer *server = user_data;
    const char *name = writer_conn_get_name(conn);
    if (name) {
        gboolean lost = writer_conn_get_lost_reason(conn) != NULL;
        memlog_append(server->log, lost ? G_LOG_LEVEL_WARNING : G_LOG_LEVEL_INFO,
                      "socket writer %s disconnected%s: %s", name,
                      lost ? " while frozen" : "", reason);
    } else {
        memlog_append(server->log, G_LOG_LEVEL_INFO,
                      "socket writer connection from pid %d closed before registering: %s",
                      (int)writer_conn_get_pid(conn), reason);
    }
    if (!g_ptr_array_remove(server->pending, conn)) {
        g_ptr_array_remove(server->writers, conn);
    }
}

/* Tells @conn why it is refused, then closes it. */
static void writer_server_refuse(WriterServer *server, WriterConn *conn, const char *reason)
{
    g_autofree char *line = g_strdup_printf("refused %s\n", reason);
    memlog_append(server->log, G_LOG_LEVEL_WARNING,
                  "socket writer connection from pid %d (uid %u) refused: %s",
                  (int)writer_conn_get_pid(conn), (unsigned)writer_conn_get_uid(conn), reason);
    writer_conn_send_now(conn, line);
    writer_conn_close(conn, reason);
}

static WriterConn *writer_server_find(WriterServer *server, const char *name)
{
    for (guint i = 0; i < server->writers->len; i++) {
        WriterConn *conn = server->writers->pdata[i];
        if (g_strcmp0(writer_conn_get_name(conn), name) == 0) {
            return conn;
        }
    }
    return NULL;
}

/* Handles the hello line of a pending connection. */
static void writer_server_register(WriterServer *server, WriterConn *conn, const char *line)
{
    g_auto(GStrv) words = g_strsplit(line, " ", 3);
    if (g_strv_length(words) != 3 || strcmp(words[0], "hello") != 0) {
        writer_server_refuse(server, conn, "protocol violation: expected hello");
        return;
    }
    if (strcmp(words[1], G_STRINGIFY(QUIESCE_WRITER_PROTOCOL_VERSION)) != 0) {
        writer_server_refuse(server, conn, "unsupported protocol version");
        return;
    }
    if (!writer_server_name_is_valid(words[2])) {
        writer_server_refuse(server, conn, "invalid name");
        return;
    }
    /* A writer that restarted may reconnect before its old connection's
     * hang-up was noticed: a dead holder does not keep the name. */
    WriterConn *holder = writer_server_find(server, words[2]);
    if (holder && writer_conn_check_alive(holder)) {
        writer_server_refuse(server, conn, "name in use");
        return;
    }
    if (server->writers->len >= WRITER_SERVER_MAX_WRITERS) {
        writer_server_refuse(server, conn, "too many writers");
        return;
    }
    if (!writer_conn_send_now(conn, "welcome " G_STRINGIFY(QUIESCE_WRITER_PROTOCOL_VERSION) "\n")) {
        return;
    }
    writer_conn_set_name(conn, words[2]);
    g_ptr_array_add(server->writers, writer_conn_ref(conn));
    g_ptr_array_remove(server->pending, conn);
    writer_server_watch(server, conn, writer_server_on_writer_ready);
    memlog_append(server->log, G_LOG_LEVEL_INFO, "socket writer %s registered (pid %d, uid %u)",
                  words[2], (int)writer_conn_get_pid(conn), (unsigned)writer_conn_get_uid(conn));
}

static gboolean writer_server_on_pending_ready(gint fd, GIOCondition condition,
                                               gpointer user_data)
{
    WriterServerWatch *watch = user_data;
    WriterServer *server = watch->server;
    g_autoptr(WriterConn) conn = writer_conn_ref(watch->conn);
    g_autofree char *line = NULL;
    if (!writer_conn_poll_line(conn, &line)) {
        return G_SOURCE_REMOVE; /* closed; the closed func logged it */
    }
    if (line) {
        writer_server_register(server, conn, line); /* replaces or ends this watch */
    }
    return G_SOURCE_CONTINUE;
}

static gboolean writer_server_on_writer_ready(gint fd, GIOCondition condition,
                                              gpointer user_data)
{
    WriterServerWatch *watch = user_data;
    g_autoptr(WriterConn) conn = writer_conn_ref(watch->conn);
    /* Between events a writer says nothing; readable means a hang-up or a
     * violation (or data a synchronous exchange has already consumed). */
    return writer_conn_check_alive(conn) ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

static gboolean writer_server_on_sweep(gpointer user_data)
{
    WriterServer *server = user_data;
    gint64 limit = g_get_monotonic_time() - QUIESCE_WRITER_HELLO_TIMEOUT_MS * G_GINT64_CONSTANT(1000);
    g_autoptr(GPtrArray) pending = g_ptr_array_copy(server->pending,
                                                    writer_server_copy_conn, NULL);
    g_ptr_array_set_free_func(pending, (GDestroyNotify)writer_conn_unref);
    for (guint i = 0; i < pending->len; i++) {
        if (writer_conn_get_created(pending->pdata[i]) <= limit) {
            writer_conn_close(pending->pdata[i], "no hello in time");
        }
    }
    if (server->pending->len > 0) {
        return G_SOURCE_CONTINUE;
    }
    g_clear_pointer(&server->sweep_source, g_source_unref);
    return G_SOURCE_REMOVE;
}

/* Is @gid among the peer's supplementary groups (SO_PEERGROUPS)? */
static gboolean writer_server_peer_in_group(int fd, gid_t gid)
{
    socklen_t len = 64 * sizeof(gid_t);
    g_autofree gid_t *groups = g_malloc(len);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0) {
        /* ERANGE: the kernel put the size it needs in len. */
        if (errno != ERANGE || len > (NGROUPS_MAX + 1) * sizeof(gid_t)) {
            return FALSE;
        }
        groups = g_realloc(groups, len);
        if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0) {
            return FALSE;
        }
    }
    for (gsize i = 0; i < len / sizeof(gid_t); i++) {
        if (groups[i] == gid) {
            return TRUE;
        }
    }
    return FALSE;
}

/* Is the peer root, us, or in the group (primary or supplementary)? */
static gboolean writer_server_peer_allowed(WriterServer *server, int fd, const struct ucred *cred)
{
    if (cred->uid == 0 || cred->uid == server->self_uid) {
        return TRUE;
    }
    return server->group &&
           (cred->gid == server->gid || writer_server_peer_in_group(fd, server->gid));
}

static void writer_server_admit(WriterServer *server, int fd)
{
    struct ucred cred = { 0 };
    socklen_t len = sizeof cred;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
        memlog_append(server->log, G_LOG_LEVEL_WARNING,
                      "socket writer connection dropped: SO_PEERCRED: %s", g_strerror(errno));
        close(fd);
        return;
    }
    g_autoptr(WriterConn) conn = writer_conn_new(fd, cred.pid, cred.uid);
    if (!writer_server_peer_allowed(server, fd, &cred)) {
        g_autofree char *why = g_strdup_printf("not allowed: uid %u is not root%s%s",
                                               (unsigned)cred.uid,
                                               server->group ? " or in group " : "",
                                               server->group ? server->group : "");
        writer_server_refuse(server, conn, why);
        return;
    }
    if (server->pending->len >= WRITER_SERVER_MAX_PENDING) {
        writer_server_refuse(server, conn, "too many connections waiting to register");
        return;
    }
    writer_conn_set_closed_func(conn, writer_server_on_closed, server);
    writer_server_watch(server, conn, writer_server_on_pending_ready);
    g_ptr_array_add(server->pending, writer_conn_ref(conn));
    if (!server->sweep_source) {
        server->sweep_source = g_timeout_source_new(1000);
        g_source_set_callback(server->sweep_source, writer_server_on_sweep, server, NULL);
        g_source_attach(server->sweep_source, server->context);
    }
}

static gboolean writer_server_on_accept(gint fd, GIOCondition condition, gpointer user_data);

static void writer_server_watch_listen(WriterServer *server)
{
    server->listen_source = g_unix_fd_source_new(server->listen_fd, G_IO_IN);
    g_source_set_callback(server->listen_source, G_SOURCE_FUNC(writer_server_on_accept),
                          server, NULL);
    g_source_attach(server->listen_source, server->context);
}

static gboolean writer_server_on_resume(gpointer user_data)
{
    WriterServer *server = user_data;
    g_clear_pointer(&server->resume_source, g_source_unref);
    writer_server_watch_listen(server);
    return G_SOURCE_REMOVE;
}

static gboolean writer_server_on_accept(gint fd, GIOCondition condition, gpointer user_data)
{
    WriterServer *server = user_data;
    for (;;) {
        int conn_fd = accept4(server->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (conn_fd >= 0) {
            writer_server_admit(server, conn_fd);
            continue;
        }
        if (errno == EINTR) {
            continue;
        }
        if (errno == EAGAIN || errno == ECONNABORTED) {
            return G_SOURCE_CONTINUE;
        }
        /* EMFILE and the like: the listen fd stays readable, so pause for a
         * second instead of spinning on it. */
        memlog_append(server->log, G_LOG_LEVEL_WARNING,
                      "writers socket accept: %s; pausing for 1 s", g_strerror(errno));
        g_clear_pointer(&server->listen_source, g_source_unref);
        server->resume_source = g_timeout_source_new(1000);
        g_source_set_callback(server->resume_source, writer_server_on_resume, server, NULL);
        g_source_attach(server->resume_source, server->context);
        return G_SOURCE_REMOVE;
    }
}

/* Removes a socket left by a dead agent; a live one is an error. */
static gboolean writer_server_clear_stale(const char *path, const struct sockaddr_un *addr,
                                          GError **error)
{
    struct stat st;
    if (lstat(path, &st) < 0) {
        return TRUE;
    }
    if (!S_ISSOCK(st.st_mode)) {
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_INVALID_ARGUMENT,
                    "%s exists and is not a socket", path);
        return FALSE;
    }
    int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    gboolean live = probe >= 0 && connect(probe, (const struct sockaddr *)addr, sizeof *addr) == 0;
    if (probe >= 0) {
        close(probe);
    }
    if (live) {
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_BUSY,
                    "another process is listening on %s", path);
        return FALSE;
    }
    unlink(path);
    return TRUE;
}

static gboolean writer_server_listen(WriterServer *server, GError **error)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    if (strlen(server->path) >= sizeof addr.sun_path || !g_path_is_absolute(server->path)) {
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_INVALID_ARGUMENT,
                    "bad writers socket path %s (absolute, under %zu bytes)", server->path,
                    sizeof addr.sun_path);
        return FALSE;
    }
    strcpy(addr.sun_path, server->path);
    g_autofree char *dir = g_path_get_dirname(server->path);
    if (g_mkdir_with_parents(dir, 0755) < 0) {
        int saved = errno;
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED, "cannot create %s: %s", dir,
                    g_strerror(saved));
        return FALSE;
    }
    if (!writer_server_clear_stale(server->path, &addr, error)) {
        return FALSE;
    }
    server->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    struct stat st;
    if (server->listen_fd < 0 ||
        bind(server->listen_fd, (struct sockaddr *)&addr, sizeof addr) < 0 ||
        chmod(server->path, server->group ? 0660 : 0600) < 0 ||
        (server->group && chown(server->path, (uid_t)-1, server->gid) < 0) ||
        lstat(server->path, &st) < 0 || listen(server->listen_fd, 16) < 0) {
        int saved = errno;
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED,
                    "cannot listen on %s: %s", server->path, g_strerror(saved));
        return FALSE;
    }
    server->dev = st.st_dev;
    server->ino = st.st_ino;
    writer_server_watch_listen(server);
    return TRUE;
}

static gboolean writer_server_resolve_group(WriterServer *server, GError **error)
{
    struct group grp;
    struct group *found = NULL;
    char buf[4096];
    int rc = getgrnam_r(server->group, &grp, buf, sizeof buf, &found);
    if (rc != 0 || !found) {
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_INVALID_ARGUMENT,
                    "unknown writers socket group '%s'", server->group);
        return FALSE;
    }
    server->gid = found->gr_gid;
    return TRUE;
}

WriterServer *writer_server_new(const char *path, const char *group, GMainContext *context,
                                MemLog *log, GError **error)
{
    g_autoptr(WriterServer) server = g_new0(WriterServer, 1);
    server->path = g_strdup(path);
    server->listen_fd = -1;
    server->group = g_strdup(group);
    server->self_uid = geteuid();
    server->context = g_main_context_ref(context);
    server->log = log;
    server->pending = g_ptr_array_new_with_free_func((GDestroyNotify)writer_conn_unref);
    server->writers = g_ptr_array_new_with_free_func((GDestroyNotify)writer_conn_unref);
    if ((group && !writer_server_resolve_group(server, error)) ||
        !writer_server_listen(server, error)) {
        return NULL;
    }
    return g_steal_pointer(&server);
}

static void writer_server_close_all(GPtrArray *conns)
{
    while (conns->len > 0) {
        g_autoptr(WriterConn) conn = g_ptr_array_steal_index(conns, 0);
        writer_conn_set_closed_func(conn, NULL, NULL);
        writer_conn_close(conn, "the agent is shutting down");
    }
}

void writer_server_free(WriterServer *server)
{
    if (!server) {
        return;
    }
    writer_server_close_all(server->pending);
    writer_server_close_all(server->writers);
    if (server->sweep_source) {
        g_source_destroy(server->sweep_source);
        g_source_unref(server->sweep_source);
    }
    GSource *sources[] = { server->listen_source, server->resume_source };
    for (guint i = 0; i < G_N_ELEMENTS(sources); i++) {
        if (sources[i]) {
            g_source_destroy(sources[i]);
            g_source_unref(sources[i]);
        }
    }
    struct stat st;
    if (server->listen_fd >= 0 && lstat(server->path, &st) == 0 && st.st_dev == server->dev &&
        st.st_ino == server->ino) {
        unlink(server->path);
    }
    if (server->listen_fd >= 0) {
        close(server->listen_fd);
    }
    g_ptr_array_unref(server->pending);
    g_ptr_array_unref(server->writers);
    g_main_context_unref(server->context);
    g_free(server->group);
    g_free(server->path);
    g_free(server);
}

const char *writer_server_get_path(const WriterServer *server)
{
    return server->path;
}

GPtrArray *writer_server_dup_writers(WriterServer *server)
{
    GPtrArray *copy = g_ptr_array_copy(server->writers, writer_server_copy_conn, NULL);
    g_ptr_array_set_free_func(copy, (GDestroyNotify)writer_conn_unref);
    return copy;
}

guint writer_server_get_n_writers(const WriterServer *server)
{
    return server->writers->len;
}
