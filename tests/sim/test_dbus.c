/*
 * lunard's D-Bus service, against a private dbus-daemon whose policy is
 * system.conf's defaults plus deploy/dbus/org.kernel.TCMUService1.conf,
 * and lunard loading handler_file, handler_ram and handler_probe (tests
 * only: a check_config() that sleeps, fails oddly, or spots concurrency).
 *
 * Checked: the ObjectManager view targetcli builds its user:<subtype>
 * backstores from; CheckConfig answered by the handlers, whatever the
 * string, one call at a time per handler and off the main loop; calls
 * with wrong signatures or to unknown objects; RegisterHandler with an
 * external handler this test plays (export, forwarding, refusals, removal
 * when its name goes); the policy as seen by a non-root user, and lunard's
 * own refusal of one a loose policy lets through; fairness of the
 * CheckConfig queue between callers; targetcli-fb's
 * own discovery code; a second daemon; the bus going away and back; lunard
 * serving I/O without any bus; SIGTERM while check_config() runs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/shared/lunardproc.h"
#include "tests/shared/scsi_check.h"

#define BUS_NAME	"org.kernel.TCMUService1"
#define ROOT_PATH	"/org/kernel/TCMUService1"
#define HM_PATH		ROOT_PATH "/HandlerManager1"
#define HM_IFACE	BUS_NAME ".HandlerManager1"
#define OM_IFACE	"org.freedesktop.DBus.ObjectManager"
#define TARGETCLI_PYTHON "/usr/bin/python3"	/* targetcli-fb's interpreter */
#define NOBODY_UID	65534	/* the shipped policy applies to it */
#define LOOSE_UID	1	/* "daemon" (base-passwd): the test bus lets it call anything */

static struct {
	char dir[64];
	char *addr;			/* unix:path=<dir>/bus.sock */
	char **env;			/* environ + DBUS_SYSTEM_BUS_ADDRESS */
	GPid bus, lunard;
	GDBusConnection *conn;
	GDBusNodeInfo *ext_node;
} t;

/* ---- Processes and files ---- */

static char *in_dir(const char *name)
{
	return g_build_filename(t.dir, name, NULL);
}

static gint64 now_ms(void)
{
	return g_get_monotonic_time() / 1000;
}

static void sleep_ms(int ms)
{
	g_usleep((gulong)ms * 1000);
}

/* Start argv in the background, output appended to out.  0 on failure. */
static GPid spawn(char **argv, char **env, const char *out)
{
	int fd = open(out, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	GPid pid = 0;

	if (fd < 0)
		return 0;
	if (!g_spawn_async_with_fds(NULL, argv, env,
				    G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_SEARCH_PATH,
				    NULL, NULL, &pid, -1, fd, fd, NULL))
		pid = 0;
	close(fd);
	return pid;
}

static bool alive(GPid pid)
{
	return pid > 0 && waitpid(pid, NULL, WNOHANG) == 0;
}

/* SIGTERM and reap; the exit code (-1: killed by a signal or hung). */
static int terminate(GPid pid, int timeout_ms)
{
	gint64 end = now_ms() + timeout_ms;
	int status;

	kill(pid, SIGTERM);
	while (waitpid(pid, &status, WNOHANG) == 0) {
		if (now_ms() > end) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return -1;
		}
		sleep_ms(20);
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Run to completion; stdout+stderr in *out.  The exit code, or -1. */
static int run(char **argv, char **env, char **out)
{
	char *err_out = NULL;
	int status, ret = -1;

	*out = NULL;
	if (!g_spawn_sync(NULL, argv, env, G_SPAWN_SEARCH_PATH, NULL, NULL,
			  out, &err_out, &status, NULL))
		return -1;
	if (WIFEXITED(status))
		ret = WEXITSTATUS(status);
	if (err_out && *err_out) {
		char *both = g_strconcat(*out, err_out, NULL);

		g_free(*out);
		*out = both;
	}
	g_free(err_out);
	return ret;
}

static char *read_file(const char *name)
{
	char *path = in_dir(name), *text = NULL;

	if (!g_file_get_contents(path, &text, NULL, NULL))
		text = g_strdup("");
	g_free(path);
	return text;
}

static int count(const char *text, const char *needle)
{
	int n = 0;

	for (const char *p = text; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

static bool wait_file_has(const char *name, const char *needle, int ms)
{
	gint64 end = now_ms() + ms;
	bool found;

	do {
		char *text = read_file(name);

		found = strstr(text, needle) != NULL;
		g_free(text);
		if (!found)
			sleep_ms(20);
	} while (!found && now_ms() < end);
	return found;
}

static void dump(const char *name)
{
	char *text = read_file(name);

	fprintf(stderr, "---- %s ----\n%s\n", name, text);
	g_free(text);
}

/* ---- The bus and lunard ---- */

static const char bus_conf[] =
	"<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN\"\n"
	" \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
	"<busconfig>\n"
	" <type>system</type>\n"
	" <listen>unix:path=%s/bus.sock</listen>\n"
	" <auth>EXTERNAL</auth>\n"
	" <policy context=\"default\">\n"
	"  <allow user=\"*\"/>\n"
	"  <deny own=\"*\"/>\n"
	"  <deny send_type=\"method_call\"/>\n"
	"  <allow send_type=\"signal\"/>\n"
	"  <allow send_requested_reply=\"true\" send_type=\"method_return\"/>\n"
	"  <allow send_requested_reply=\"true\" send_type=\"error\"/>\n"
	"  <allow receive_type=\"method_call\"/>\n"
	"  <allow receive_type=\"method_return\"/>\n"
	"  <allow receive_type=\"error\"/>\n"
	"  <allow receive_type=\"signal\"/>\n"
	"  <allow send_destination=\"org.freedesktop.DBus\" send_interface=\"org.freedesktop.DBus\"/>\n"
	"  <allow send_destination=\"org.freedesktop.DBus\" send_interface=\"org.freedesktop.DBus.Introspectable\"/>\n"
	" </policy>\n"
	"%s"
	" <include>%s</include>\n"
	"</busconfig>\n";

static int write_bus_conf(void)
{
	char *path = in_dir("bus.conf"), *extra, *text, *tmp;
	bool ok;

	/*
	 * The shipped policy lets root own the name; a test user too here.
	 * LOOSE_UID is a user the bus lets call everything, as a careless
	 * local policy would: lunard must refuse it itself.
	 */
	extra = getuid() ? g_strdup_printf(" <policy user=\"%u\"><allow own=\"%s\"/></policy>\n",
					   getuid(), BUS_NAME) : g_strdup("");
	extra = g_strdup_printf("%s <policy user=\"%u\"><allow send_destination=\"%s\"/></policy>\n",
				tmp = extra, LOOSE_UID, BUS_NAME);
	g_free(tmp);
	text = g_strdup_printf(bus_conf, t.dir, extra, LUNAR_DBUS_POLICY);
	ok = g_file_set_contents(path, text, -1, NULL);
	g_free(text);
	g_free(extra);
	g_free(path);
	return ok ? 0 : -1;
}

static GDBusConnection *bus_connect(void)
{
	return g_dbus_connection_new_for_address_sync(t.addr,
		G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
		G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
		NULL, NULL, NULL);
}

static int bus_start(void)
{
	char *conf = in_dir("bus.conf"), *arg = g_strconcat("--config-file=", conf, NULL);
	char *out = in_dir("bus.out");
	char *argv[] = { "dbus-daemon", "--nofork", arg, NULL };
	GDBusConnection *c = NULL;

	t.bus = spawn(argv, t.env, out);
	for (int i = 0; t.bus && !c && i < 250; i++) {
		c = bus_connect();
		if (!c)
			sleep_ms(20);
	}
	g_free(conf);
	g_free(arg);
	g_free(out);
	if (!c)
		return -1;
	g_object_unref(c);
	return 0;
}

/*
 * lunard on the handler directory; log in <dir>/<logdir>/lunard.log.  It
 * serves the simulated kernel (on <logdir>.sock unless sim_socket names
 * one): this host has no TCMU.
 */
static GPid lunard_start(char **env, const char *logdir, char *sim_socket)
{
	char *hdir = in_dir("handlers"), *ldir = in_dir(logdir);
	char *out = g_strconcat(ldir, ".stderr", NULL);
	char *sock = sim_socket ? g_strdup(sim_socket) : g_strconcat(ldir, ".sock", NULL);
	char *argv[] = { LUNARD_PATH, "--handler-path", hdir, "-l", ldir,
			 "--config", "/nonexistent/tcmu.conf",
			 "--sim-socket", sock, NULL };
	GPid pid = spawn(argv, env, out);

	g_free(hdir);
	g_free(ldir);
	g_free(out);
	g_free(sock);
	return pid;
}

/* Stop a lunard; on a bad exit show what it printed. */
static int lunard_stop(GPid pid, const char *logdir)
{
	int ret = terminate(pid, 20000);

	if (ret) {
		char *name = g_strconcat(logdir, ".stderr", NULL);

		dump(name);
		g_free(name);
	}
	return ret;
}

static bool name_has_owner(GDBusConnection *c, const char *name)
{
	gboolean owned = FALSE;
	GVariant *r;

	r = g_dbus_connection_call_sync(c, "org.freedesktop.DBus",
			"/org/freedesktop/DBus", "org.freedesktop.DBus",
			"NameHasOwner", g_variant_new("(s)", name),
			G_VARIANT_TYPE("(b)"), G_DBUS_CALL_FLAGS_NONE, -1,
			NULL, NULL);
	if (r) {
		g_variant_get(r, "(b)", &owned);
		g_variant_unref(r);
	}
	return owned;
}

static bool wait_owner(const char *name, bool owned, int ms)
{
	gint64 end = now_ms() + ms;

	while (name_has_owner(t.conn, name) != owned) {
		if (now_ms() > end)
			return false;
		sleep_ms(20);
	}
	return true;
}

/* ---- Calls ---- */

static GVariant *call(GDBusConnection *c, const char *path, const char *iface,
		      const char *method, GVariant *args, const char *reply,
		      GError **err)
{
	return g_dbus_connection_call_sync(c, BUS_NAME, path, iface, method,
			args, reply ? G_VARIANT_TYPE(reply) : NULL,
			G_DBUS_CALL_FLAGS_NO_AUTO_START, 10000, NULL, err);
}

/* A (bs) answer from path's method(args); fails the test on an error. */
static bool call_bs(GDBusConnection *c, const char *path, const char *iface,
		    const char *method, GVariant *args, char **msg)
{
	GError *err = NULL;
	gboolean ok;
	GVariant *r = call(c, path, iface, method, args, "(bs)", &err);

	if (!r)
		fail_msg("%s on %s: %s", method, path, err->message);
	g_variant_get(r, "(bs)", &ok, msg);
	g_variant_unref(r);
	return ok;
}

static bool check(const char *subtype, const char *cfgstring, char **msg)
{
	char *path = g_strconcat(ROOT_PATH "/", subtype, NULL);
	bool ok = call_bs(t.conn, path, BUS_NAME, "CheckConfig",
			  g_variant_new("(s)", cfgstring), msg);

	g_free(path);
	return ok;
}

static void assert_check(const char *subtype, const char *cfgstring,
			 bool want_ok, const char *want_in_msg)
{
	char *msg;
	bool ok = check(subtype, cfgstring, &msg);

	if (ok != want_ok || !strstr(msg, want_in_msg))
		fail_msg("CheckConfig(%.80s) on %s: (%d, '%s'), want (%d, '...%s...')",
			 cfgstring, subtype, ok, msg, want_ok, want_in_msg);
	g_free(msg);
}

static bool register_handler(GDBusConnection *c, const char *subtype,
			     const char *desc, char **msg)
{
	return call_bs(c, HM_PATH, HM_IFACE, "RegisterHandler",
		       g_variant_new("(ss)", subtype, desc), msg);
}

/* path -> ConfigDesc of what GetManagedObjects lists. */
static GHashTable *managed(void)
{
	GHashTable *h = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	GVariant *r, *props;
	GVariantIter *it;
	const char *path, *desc;

	r = call(t.conn, ROOT_PATH, OM_IFACE, "GetManagedObjects", NULL,
		 "(a{oa{sa{sv}}})", NULL);
	assert_non_null(r);
	g_variant_get(r, "(a{oa{sa{sv}}})", &it);
	while (g_variant_iter_next(it, "{&o@a{sa{sv}}}", &path, &props)) {
		GVariant *iface = g_variant_lookup_value(props, BUS_NAME,
							 G_VARIANT_TYPE("a{sv}"));

		assert_non_null(iface);
		assert_true(g_variant_lookup(iface, "ConfigDesc", "&s", &desc));
		g_hash_table_insert(h, g_strdup(path), g_strdup(desc));
		g_variant_unref(iface);
		g_variant_unref(props);
	}
	g_variant_iter_free(it);
	g_variant_unref(r);
	return h;
}

static bool is_managed(const char *path)
{
	GHashTable *h = managed();
	bool found = g_hash_table_contains(h, path);

	g_hash_table_unref(h);
	return found;
}

/* An asynchronous CheckConfig, answered through the default context. */
struct pending {
	GVariant *ret;
	GError *err;
	bool done;
	int order;		/* 1 for the first answer of all, 2 ... */
};

static int answers;

static void on_reply(GObject *src, GAsyncResult *res, gpointer data)
{
	struct pending *p = data;

	p->ret = g_dbus_connection_call_finish(G_DBUS_CONNECTION(src), res, &p->err);
	p->done = true;
	p->order = ++answers;
}

/* CheckConfig on connection c, answered through the default context. */
static void check_async_on(GDBusConnection *c, const char *subtype,
			   const char *cfgstring, struct pending *p)
{
	char *path = g_strconcat(ROOT_PATH "/", subtype, NULL);

	memset(p, 0, sizeof(*p));
	g_dbus_connection_call(c, BUS_NAME, path, BUS_NAME, "CheckConfig",
			       g_variant_new("(s)", cfgstring),
			       G_VARIANT_TYPE("(bs)"),
			       G_DBUS_CALL_FLAGS_NO_AUTO_START, 30000, NULL,
			       on_reply, p);
	g_free(path);
}

static void check_async(const char *subtype, const char *cfgstring,
			struct pending *p)
{
	check_async_on(t.conn, subtype, cfgstring, p);
}

static bool wait_done(struct pending *p, int n, int ms)
{
	gint64 end = now_ms() + ms;
	int left;

	do {
		while (g_main_context_iteration(NULL, FALSE))
			;
		left = 0;
		for (int i = 0; i < n; i++)
			left += !p[i].done;
		if (left)
			sleep_ms(5);
	} while (left && now_ms() < end);
	return !left;
}

static void pending_clear(struct pending *p)
{
	if (p->ret)
		g_variant_unref(p->ret);
	if (p->err)
		g_error_free(p->err);
}

/* Answered (true, "success"); cleared. */
static void assert_success(struct pending *p)
{
	gboolean valid = FALSE;
	const char *msg = "";

	if (p->ret)
		g_variant_get(p->ret, "(b&s)", &valid, &msg);
	if (!valid || strcmp(msg, "success"))
		fail_msg("CheckConfig: (%d, '%s'), error '%s'", valid, msg,
			 p->err ? p->err->message : "");
	pending_clear(p);
}

/* ---- The external handler this test plays ---- */

static const char ext_xml[] =
	"<node><interface name='" BUS_NAME "'>"
	" <method name='CheckConfig'>"
	"  <arg type='s' name='configstr' direction='in'/>"
	"  <arg type='b' name='is_valid' direction='out'/>"
	"  <arg type='s' name='message' direction='out'/>"
	" </method>"
	"</interface></node>";

struct ext {
	char *name;			/* its bus name */
	char *path;
	GMainContext *ctx;
	GMainLoop *loop;
	GDBusConnection *conn;
	GThread *thread;
	GAsyncQueue *ready;
};

/* "*\/good": true; "*\/error": a D-Bus error; else false. */
static void ext_method(GDBusConnection *conn, const gchar *sender,
		       const gchar *path, const gchar *iface,
		       const gchar *method, GVariant *args,
		       GDBusMethodInvocation *inv, gpointer data)
{
	const char *cfgstring;
	char *msg;

	(void)conn, (void)sender, (void)path, (void)iface, (void)method, (void)data;
	g_variant_get(args, "(&s)", &cfgstring);
	if (g_str_has_suffix(cfgstring, "/error")) {
		g_dbus_method_invocation_return_dbus_error(inv,
			"org.example.Error.Nope", "nope from the test");
		return;
	}
	msg = g_strdup_printf(g_str_has_suffix(cfgstring, "/good") ?
			      "fine %s" : "test says no: %s", cfgstring);
	g_dbus_method_invocation_return_value(inv, g_variant_new("(bs)",
		g_str_has_suffix(cfgstring, "/good"), msg));
	g_free(msg);
}

static const GDBusInterfaceVTable ext_vtable = { .method_call = ext_method };

static bool ext_request_name(struct ext *e)
{
	guint32 res = 0;
	GVariant *r;

	r = g_dbus_connection_call_sync(e->conn, "org.freedesktop.DBus",
			"/org/freedesktop/DBus", "org.freedesktop.DBus",
			"RequestName", g_variant_new("(su)", e->name, 4u),
			G_VARIANT_TYPE("(u)"), G_DBUS_CALL_FLAGS_NONE, -1,
			NULL, NULL);
	if (r) {
		g_variant_get(r, "(u)", &res);
		g_variant_unref(r);
	}
	return res == 1;	/* DBUS_REQUEST_NAME_REPLY_PRIMARY_OWNER */
}

/* Its own connection and main loop, on its own thread. */
static gpointer ext_thread(gpointer data)
{
	struct ext *e = data;
	guint reg = 0;
	bool up = false;

	g_main_context_push_thread_default(e->ctx);
	e->conn = bus_connect();
	if (e->conn) {
		reg = g_dbus_connection_register_object(e->conn, e->path,
				t.ext_node->interfaces[0], &ext_vtable, e,
				NULL, NULL);
		up = reg && ext_request_name(e);
	}
	g_async_queue_push(e->ready, GINT_TO_POINTER(up ? 1 : 2));
	if (up)
		g_main_loop_run(e->loop);
	if (reg)
		g_dbus_connection_unregister_object(e->conn, reg);
	if (e->conn) {
		g_dbus_connection_close_sync(e->conn, NULL, NULL);
		g_object_unref(e->conn);
	}
	g_main_context_pop_thread_default(e->ctx);
	return NULL;
}

static struct ext *ext_start(const char *subtype)
{
	struct ext *e = g_new0(struct ext, 1);

	e->name = g_strconcat(HM_IFACE ".", subtype, NULL);
	e->path = g_strconcat(HM_PATH "/", subtype, NULL);
	e->ctx = g_main_context_new();
	e->loop = g_main_loop_new(e->ctx, FALSE);
	e->ready = g_async_queue_new();
	e->thread = g_thread_new("ext", ext_thread, e);
	assert_int_equal(GPOINTER_TO_INT(g_async_queue_pop(e->ready)), 1);
	return e;
}

/* Closing its connection releases the name. */
static void ext_stop(struct ext *e)
{
	g_main_loop_quit(e->loop);
	g_thread_join(e->thread);
	g_main_loop_unref(e->loop);
	g_main_context_unref(e->ctx);
	g_async_queue_unref(e->ready);
	g_free(e->name);
	g_free(e->path);
	g_free(e);
}

/* ---- Tests ---- */

static void test_managed_objects(void **state)
{
	GHashTable *h = managed();
	const char *file = g_hash_table_lookup(h, ROOT_PATH "/file");
	const char *ram = g_hash_table_lookup(h, ROOT_PATH "/ram");
	const char *probe = g_hash_table_lookup(h, ROOT_PATH "/probe");
	GVariant *r, *v;

	(void)state;
	assert_int_equal(g_hash_table_size(h), 3);
	assert_non_null(file);
	assert_non_null(ram);
	assert_non_null(probe);
	assert_true(g_str_has_prefix(file, "file/<path>"));
	assert_true(g_str_has_prefix(ram, "ram/<any name>"));
	/* Not valid UTF-8 in the handler: replaced, never a crash. */
	assert_true(g_utf8_validate(probe, -1, NULL));
	assert_non_null(strstr(probe, "test handler \xef\xbf\xbd"));
	assert_false(g_hash_table_contains(h, HM_PATH));

	/* What a GDBusProxy (targetcli) reads. */
	r = call(t.conn, ROOT_PATH "/file", "org.freedesktop.DBus.Properties",
		 "Get", g_variant_new("(ss)", BUS_NAME, "ConfigDesc"), "(v)", NULL);
	assert_non_null(r);
	g_variant_get(r, "(v)", &v);
	assert_string_equal(g_variant_get_string(v, NULL), file);
	g_variant_unref(v);
	g_variant_unref(r);
	g_hash_table_unref(h);
}

static void test_check_config_file(void **state)
{
	char *good = g_strconcat("file/", t.dir, "/x.img", NULL);
	char *threads = g_strconcat(good, ";engine=threads", NULL);

	(void)state;
	/* What targetcli sends: "<subtype>/" + the user's cfgstring. */
	assert_check("file", good, true, "success");
	assert_check("file", threads, true, "success");
	assert_check("file", "file//no/such/dir/x", false,
		     "/no/such/dir/x does not exist and its directory is not writable");
	assert_check("file", "file//tmp/x;engine=bogus", false,
		     "unknown engine 'bogus'");
	assert_check("ram", "ram/anything", true, "success");
	g_free(good);
	g_free(threads);
}

static void test_check_config_odd_strings(void **state)
{
	static const char *const odd[] = {
		"", "file", "file/", "/", "//", "nosuch/x", "ram/x", ";", "file/;engine=",
		"file//tmp/\xc3\xbcn\xc3\xaf/x", "file/\t\n\x01\x7f", "%s%n%x%p",
		"file//tmp/%s%n", "probe",
	};
	char *huge = g_strnfill(65536, 'a'), *huge_file = g_strconcat("file//", huge, NULL);

	(void)state;
	for (size_t i = 0; i < G_N_ELEMENTS(odd); i++) {
		char *msg = NULL;

		check("file", odd[i], &msg);
		assert_true(g_utf8_validate(msg, -1, NULL));
		g_free(msg);
		check("ram", odd[i], &msg);
		g_free(msg);
		check("probe", odd[i], &msg);
		g_free(msg);
	}
	assert_check("file", huge_file, false, "longer than");
	assert_check("file", huge, false, "no path");
	assert_check("probe", huge, false, "probe rejects 'aaaa");
	/* 1.5.4's messages when the handler gives no reason, or one with true. */
	assert_check("probe", "probe/fail", false, "unknown");
	assert_check("probe", "probe/static-reason", true, "success");
	assert_check("probe", "probe/badutf8", false, "bad \xef\xbf\xbd");
	assert_true(alive(t.lunard));
	g_free(huge);
	g_free(huge_file);
}

/* The call gets D-Bus error code, from lunard (GDBus) or the bus. */
static void assert_refused(const char *path, const char *iface,
			   const char *method, GVariant *args, GDBusError code)
{
	GError *err = NULL;
	GVariant *r = call(t.conn, path, iface, method, args, NULL, &err);

	assert_null(r);
	if (!g_error_matches(err, G_DBUS_ERROR, code))
		fail_msg("%s on %s: '%s', want D-Bus error %d", method, path,
			 err->message, code);
	g_error_free(err);
}

static void test_wrong_calls(void **state)
{
	const char *file = ROOT_PATH "/file";

	(void)state;
	assert_refused(file, BUS_NAME, "CheckConfig", g_variant_new("(i)", 7),
		       G_DBUS_ERROR_INVALID_ARGS);
	assert_refused(file, BUS_NAME, "CheckConfig",
		       g_variant_new("(ss)", "file//tmp/x", "extra"),
		       G_DBUS_ERROR_INVALID_ARGS);
	assert_refused(file, BUS_NAME, "CheckConfig", NULL,
		       G_DBUS_ERROR_INVALID_ARGS);
	/* Newer targetcli's ChangeMedium: not in 1.5.4 either. */
	assert_refused(file, BUS_NAME, "ChangeMedium",
		       g_variant_new("(sts)", "x", (guint64)1, "file//tmp/x"),
		       G_DBUS_ERROR_UNKNOWN_METHOD);
	assert_refused(ROOT_PATH "/nosuch", BUS_NAME, "CheckConfig",
		       g_variant_new("(s)", "nosuch/x"),
		       G_DBUS_ERROR_UNKNOWN_METHOD);
	assert_refused(HM_PATH, HM_IFACE, "RegisterHandler",
		       g_variant_new("(s)", "x"), G_DBUS_ERROR_INVALID_ARGS);
	assert_refused(ROOT_PATH, OM_IFACE, "GetManagedObjects",
		       g_variant_new("(s)", "x"), G_DBUS_ERROR_INVALID_ARGS);
	assert_refused(file, "org.freedesktop.DBus.Properties", "Set",
		       g_variant_new("(ssv)", BUS_NAME, "ConfigDesc",
				     g_variant_new_string("x")),
		       G_DBUS_ERROR_INVALID_ARGS);
	assert_true(alive(t.lunard));
	assert_check("ram", "ram/x", true, "success");
}

static void test_check_config_off_main_loop(void **state)
{
	struct pending slow, four[4], flood[100];
	int ok = 0, limited = 0;
	gint64 start;

	(void)state;
	/* A blocking check_config() leaves the main loop free. */
	check_async("probe", "probe/sleep=1500", &slow);
	sleep_ms(100);
	start = now_ms();
	assert_true(is_managed(ROOT_PATH "/file"));
	assert_check("ram", "ram/x", true, "success");
	assert_check("file", "file//no/such/dir/x", false, "does not exist");
	assert_in_range(now_ms() - start, 0, 1000);	/* blocked: >= 1400 */
	assert_true(wait_done(&slow, 1, 5000));
	assert_success(&slow);

	/* One call at a time per handler, as 1.5.4's main thread did. */
	start = now_ms();
	for (int i = 0; i < 4; i++)
		check_async("probe", "probe/sleep=150", &four[i]);
	assert_true(wait_done(four, 4, 5000));
	for (int i = 0; i < 4; i++)
		assert_success(&four[i]);	/* else "concurrent" */
	assert_true(now_ms() - start >= 550);

	/* A flood is answered (or refused), never crashes nor hangs. */
	for (int i = 0; i < 100; i++)
		check_async("probe", "probe/sleep=0", &flood[i]);
	assert_true(wait_done(flood, 100, 20000));
	for (int i = 0; i < 100; i++) {
		if (flood[i].ret)
			ok++;
		else if (g_error_matches(flood[i].err, G_DBUS_ERROR,
					 G_DBUS_ERROR_LIMITS_EXCEEDED))
			limited++;
		pending_clear(&flood[i]);
	}
	assert_int_equal(ok + limited, 100);
	assert_true(ok > 0);
	assert_true(alive(t.lunard));
}

static int om_added, om_removed;

static void on_om_signal(GDBusConnection *c, const gchar *sender,
			 const gchar *path, const gchar *iface,
			 const gchar *signal, GVariant *args, gpointer data)
{
	const char *obj;

	(void)c, (void)sender, (void)path, (void)iface, (void)data;
	g_variant_get_child(args, 0, "&o", &obj);
	if (strcmp(obj, ROOT_PATH "/test"))
		return;
	if (!strcmp(signal, "InterfacesAdded"))
		om_added++;
	else
		om_removed++;
}

static bool wait_count(const int *n, int want, int ms)
{
	gint64 end = now_ms() + ms;

	do {
		while (g_main_context_iteration(NULL, FALSE))
			;
		if (*n >= want)
			return true;
		sleep_ms(10);
	} while (now_ms() < end);
	return false;
}

static void assert_register_refused(const char *subtype, const char *why)
{
	char *msg;

	if (register_handler(t.conn, subtype, "x", &msg) || !strstr(msg, why))
		fail_msg("RegisterHandler(%.40s): '%s', want refusal '...%s...'",
			 subtype, msg, why);
	g_free(msg);
}

static void test_register_handler(void **state)
{
	struct ext *e = ext_start("test"), *other;
	char *msg, *long_name = g_strnfill(300, 'x');
	GHashTable *h;
	guint sub;

	(void)state;
	sub = g_dbus_connection_signal_subscribe(t.conn, BUS_NAME, OM_IFACE, NULL,
			ROOT_PATH, NULL, G_DBUS_SIGNAL_FLAGS_NONE, on_om_signal,
			NULL, NULL);
	assert_true(register_handler(e->conn, "test", "test/<anything>: external", &msg));
	assert_string_equal(msg, "succeeded");
	g_free(msg);
	assert_true(wait_count(&om_added, 1, 5000));
	h = managed();
	assert_string_equal(g_hash_table_lookup(h, ROOT_PATH "/test"),
			    "test/<anything>: external");
	assert_int_equal(g_hash_table_size(h), 4);
	g_hash_table_unref(h);

	/* Forwarded verbatim; the external handler's answer comes back. */
	assert_check("test", "test/good", true, "fine test/good");
	assert_check("test", "test/bad", false, "test says no: test/bad");
	assert_check("test", "test/error", false, "nope from the test");

	assert_register_refused("test", "subtype test is already registered");
	assert_register_refused("file", "subtype file is already registered");
	assert_register_refused("", "empty subtype");
	assert_register_refused("a/b", "must not contain '/'");
	assert_register_refused(long_name, "longer than 128");
	assert_register_refused("1abc", "letters, digits and '_'");
	assert_register_refused("a-b", "letters, digits and '_'");
	assert_register_refused("a.b", "letters, digits and '_'");
	assert_register_refused("\xc3\xbc", "letters, digits and '_'");
	assert_register_refused("HandlerManager1", "reserved");
	assert_register_refused("nobody",
		"Cannot find handler bus name: " HM_IFACE ".nobody");
	/* Only the name's owner may register it. */
	other = ext_start("other");
	assert_register_refused("other", "is owned by");
	ext_stop(other);
	assert_false(is_managed(ROOT_PATH "/other"));

	/* The name goes: so does the object. */
	ext_stop(e);
	assert_true(wait_count(&om_removed, 1, 5000));
	assert_false(is_managed(ROOT_PATH "/test"));
	assert_null(call(t.conn, ROOT_PATH "/test", BUS_NAME, "CheckConfig",
			 g_variant_new("(s)", "test/good"), NULL, NULL));

	/* And the subtype can be registered again. */
	e = ext_start("test");
	assert_true(register_handler(e->conn, "test", "again", &msg));
	g_free(msg);
	assert_check("test", "test/good", true, "fine");
	ext_stop(e);
	assert_true(wait_count(&om_removed, 2, 5000));
	g_dbus_connection_signal_unsubscribe(t.conn, sub);
	g_free(long_name);
	assert_true(alive(t.lunard));
}

/* gdbus call as uid (setpriv); its exit code, its output in *out. */
static int gdbus_as(unsigned int uid, char *dest, char *path, char *method,
		    char *arg1, char *arg2, char **out)
{
	char *reuid = g_strdup_printf("--reuid=%u", uid);
	char *regid = g_strdup_printf("--regid=%u", uid);
	char *argv[] = { "setpriv", reuid, regid, "--clear-groups",
			 "gdbus", "call", "--system", "--dest", dest,
			 "--object-path", path, "--method", method, arg1, arg2,
			 NULL };
	int ret;

	if (getuid() != 0)
		fail_msg("calls as other users need root (the sim tier runs as root, as CI does)");
	ret = run(argv, t.env, out);
	g_free(reuid);
	g_free(regid);
	return ret;
}

static void assert_gdbus_as(unsigned int uid, char *dest, char *path,
			    char *method, char *arg1, char *arg2, bool want_ok,
			    const char *want_in_out)
{
	char *out;
	int ret = gdbus_as(uid, dest, path, method, arg1, arg2, &out);

	if ((ret == 0) != want_ok || !strstr(out, want_in_out))
		fail_msg("%s as uid %u: exit %d, '%s'; want %s with '...%s...'",
			 method, uid, ret, out, want_ok ? "success" : "failure",
			 want_in_out);
	g_free(out);
}

/*
 * The shipped policy: other users may look (the ObjectManager, ConfigDesc)
 * but not make lunard act (CheckConfig, RegisterHandler) nor own its names.
 */
static void test_policy_for_non_root(void **state)
{
	(void)state;
	assert_gdbus_as(NOBODY_UID, BUS_NAME, ROOT_PATH, OM_IFACE ".GetManagedObjects",
			NULL, NULL, true, ROOT_PATH "/ram");
	assert_gdbus_as(NOBODY_UID, BUS_NAME, ROOT_PATH "/ram",
			"org.freedesktop.DBus.Properties.Get", BUS_NAME,
			"ConfigDesc", true, "ram/");
	assert_gdbus_as(NOBODY_UID, BUS_NAME, ROOT_PATH "/ram",
			BUS_NAME ".CheckConfig", "ram/x", NULL, false,
			"AccessDenied");
	assert_gdbus_as(NOBODY_UID, BUS_NAME, HM_PATH, HM_IFACE ".RegisterHandler",
			"x", "y", false, "AccessDenied");
	assert_gdbus_as(NOBODY_UID, "org.freedesktop.DBus", "/org/freedesktop/DBus",
			"org.freedesktop.DBus.RequestName", HM_IFACE ".nobodys",
			"4", false, "AccessDenied");
	assert_gdbus_as(NOBODY_UID, "org.freedesktop.DBus", "/org/freedesktop/DBus",
			"org.freedesktop.DBus.RequestName", BUS_NAME, "4", false,
			"AccessDenied");
	assert_true(alive(t.lunard));
}

/*
 * A bus policy that lets another user through (LOOSE_UID here): lunard
 * itself refuses what would make it act, and logs who asked.
 */
static void test_lunard_refuses_non_root(void **state)
{
	char *log;

	(void)state;
	assert_gdbus_as(LOOSE_UID, BUS_NAME, ROOT_PATH "/file",
			BUS_NAME ".CheckConfig", "file//etc/shadow", NULL,
			false, "CheckConfig is for root only");
	assert_gdbus_as(LOOSE_UID, BUS_NAME, ROOT_PATH "/ram",
			BUS_NAME ".CheckConfig", "ram/x", NULL, false,
			"CheckConfig is for root only");
	assert_gdbus_as(LOOSE_UID, BUS_NAME, HM_PATH, HM_IFACE ".RegisterHandler",
			"x", "y", false, "RegisterHandler is for root only");
	/* What is not acting stays open to it. */
	assert_gdbus_as(LOOSE_UID, BUS_NAME, ROOT_PATH, OM_IFACE ".GetManagedObjects",
			NULL, NULL, true, ROOT_PATH "/ram");
	assert_true(wait_file_has("log/lunard.log", "refused RegisterHandler from", 5000));
	log = read_file("log/lunard.log");
	assert_non_null(strstr(log, "uid 1: only root may call it"));
	g_free(log);
	assert_check("ram", "ram/x", true, "success");	/* root still may */
	assert_true(alive(t.lunard));
}

/*
 * One caller flooding a slow check_config() neither fills the queue for
 * the others nor makes them wait behind its backlog.
 */
static void test_check_config_fair_between_callers(void **state)
{
	struct pending flood[12], other;
	GDBusConnection *second = bus_connect();
	int accepted = 0, limited = 0, answered_after_other = 0;

	(void)state;
	assert_non_null(second);
	for (int i = 0; i < 12; i++)
		check_async("probe", "probe/sleep=200", &flood[i]);
	sleep_ms(100);		/* the flood is queued before the other call */
	check_async_on(second, "probe", "probe/sleep=0", &other);
	assert_true(wait_done(&other, 1, 10000));
	assert_success(&other);
	assert_true(wait_done(flood, 12, 20000));
	for (int i = 0; i < 12; i++) {
		if (flood[i].ret) {
			accepted++;
			answered_after_other += flood[i].order > other.order;
			assert_success(&flood[i]);
		} else {
			assert_true(g_error_matches(flood[i].err, G_DBUS_ERROR,
						    G_DBUS_ERROR_LIMITS_EXCEEDED));
			limited++;
			pending_clear(&flood[i]);
		}
	}
	/* Per caller at most 8 queued or running; the rest refused. */
	assert_int_equal(accepted, 8);
	assert_int_equal(limited, 4);
	/* The other caller waited for at most the one running and one more. */
	assert_true(answered_after_other >= 6);
	g_object_unref(second);
	assert_true(alive(t.lunard));
}

/*
 * targetcli-fb's own code: how it lists user:<subtype> and checks configs.
 * (targetcli itself needs LIO in configfs: vm_lunard_targetcli runs it.)
 */
static char targetcli_py[] =
	"import sys\n"
	"from targetcli.ui_backstore import UIBackstores\n"
	"for name, iface, props in UIBackstores._user_backstores(None):\n"
	"    ok, msg = iface.CheckConfig('(s)', name + '/' + sys.argv[1])\n"
	"    print('user:%s %s %s' % (name, ok, props['" BUS_NAME "']['ConfigDesc']))\n";

static void test_targetcli(void **state)
{
	char *cfg = g_strconcat("/", t.dir, "/tc.img", NULL);
	char *py[] = { TARGETCLI_PYTHON, "-c", targetcli_py, cfg, NULL };
	char *out;

	(void)state;
	if (run((char *[]){ TARGETCLI_PYTHON, "-c", "import targetcli", NULL },
		t.env, &out))
		fail_msg("targetcli-fb is not installed (apt-get install targetcli-fb): %s", out);
	g_free(out);
	assert_int_equal(run(py, t.env, &out), 0);
	if (!strstr(out, "user:file True file/<path>") ||
	    !strstr(out, "user:ram True ram/<any name>"))
		fail_msg("targetcli's discovery saw:\n%s", out);
	g_free(out);
	g_free(cfg);
}

static void test_second_daemon(void **state)
{
	GPid second = lunard_start(t.env, "log2", NULL);

	(void)state;
	assert_true(second > 0);
	assert_true(wait_file_has("log2/lunard.log",
		"cannot own the D-Bus name " BUS_NAME, 10000));
	assert_true(alive(second));
	assert_true(is_managed(ROOT_PATH "/file"));
	assert_int_equal(lunard_stop(second, "log2"), 0);
}

static void test_bus_restart(void **state)
{
	char *log;

	(void)state;
	assert_int_equal(terminate(t.bus, 5000), 0);
	t.bus = 0;
	assert_true(wait_file_has("log/lunard.log", "lost the D-Bus system bus", 5000));
	assert_true(alive(t.lunard));
	g_clear_object(&t.conn);
	assert_int_equal(bus_start(), 0);
	t.conn = bus_connect();
	assert_non_null(t.conn);
	assert_true(wait_owner(BUS_NAME, true, 10000));
	assert_true(is_managed(ROOT_PATH "/ram"));
	assert_check("ram", "ram/x", true, "success");
	log = read_file("log/lunard.log");
	assert_int_equal(count(log, "D-Bus name " BUS_NAME " acquired"), 2);
	g_free(log);
}

static void test_no_bus_serves_io(void **state)
{
	char *sock = in_dir("sim.sock"), *nobus = g_strconcat("unix:path=", t.dir,
							      "/nobus.sock", NULL);
	char **env = g_environ_setenv(g_strdupv(t.env), "DBUS_SYSTEM_BUS_ADDRESS",
				      nobus, TRUE);
	struct siminit_opts o = {
		.cfgstring = "ram/nobus", .name = "lun-nobus", .size = 8 << 20,
		.sim_socket = sock,
	};
	uint8_t out[16 * 512];
	struct siminit *si;
	gint64 start = now_ms();
	GPid pid = lunard_start(env, "log-nobus", sock);
	char *log;

	(void)state;
	assert_true(pid > 0 && lunardproc_wait_socket(sock));
	assert_int_equal(siminit_open(&o, &si), 0);
	for (size_t i = 0; i < sizeof(out); i++)
		out[i] = (uint8_t)(i * 7 + 3);
	write_read_back(si, 100, 16, out, sizeof(out));
	siminit_close(si);
	/* Retried after 1 s and 2 s more: still one warning. */
	if (now_ms() - start < 3500)
		sleep_ms((int)(3500 - (now_ms() - start)));
	assert_true(alive(pid));
	log = read_file("log-nobus/lunard.log");
	assert_int_equal(count(log, "no D-Bus system bus"), 1);
	g_free(log);
	assert_int_equal(lunard_stop(pid, "log-nobus"), 0);
	g_strfreev(env);
	g_free(nobus);
	g_free(sock);
}

/* Last: stops the daemon while check_config() is running and queued. */
static void test_sigterm_during_check_config(void **state)
{
	struct pending p[3];
	char *log;

	(void)state;
	for (int i = 0; i < 3; i++)
		check_async("probe", "probe/sleep=1000", &p[i]);
	sleep_ms(300);
	assert_int_equal(lunard_stop(t.lunard, "log"), 0);
	t.lunard = 0;
	/* The running call is answered, the queued ones refused. */
	assert_true(wait_done(p, 3, 10000));
	assert_success(&p[0]);
	for (int i = 1; i < 3; i++) {
		assert_null(p[i].ret);
		assert_non_null(strstr(p[i].err->message, "lunard is stopping"));
		pending_clear(&p[i]);
	}
	log = read_file("log/lunard.log");
	assert_non_null(strstr(log, "lunard stopped"));
	g_free(log);
}

/* ---- Setup ---- */

static int link_handler(const char *target, const char *name)
{
	char *path = g_build_filename(t.dir, "handlers", name, NULL);
	int ret = symlink(target, path);

	g_free(path);
	return ret;
}

static int make_dir(void)
{
	char *hdir;
	int ret;

	snprintf(t.dir, sizeof(t.dir), "/tmp/lunar-dbus.XXXXXX");
	if (!mkdtemp(t.dir) || chmod(t.dir, 0755))
		return -1;
	hdir = in_dir("handlers");
	ret = mkdir(hdir, 0755);
	g_free(hdir);
	if (ret || link_handler(LUNAR_HANDLER_DIR "/handler_file.so", "handler_file.so") ||
	    link_handler(LUNAR_HANDLER_DIR "/handler_ram.so", "handler_ram.so") ||
	    link_handler(PROBE_HANDLER_PATH, "handler_probe.so"))
		return -1;
	return 0;
}

static int setup(void **state)
{
	(void)state;
	if (make_dir() || write_bus_conf())
		return -1;
	t.addr = g_strconcat("unix:path=", t.dir, "/bus.sock", NULL);
	t.env = g_environ_setenv(g_get_environ(), "DBUS_SYSTEM_BUS_ADDRESS",
				 t.addr, TRUE);
	t.ext_node = g_dbus_node_info_new_for_xml(ext_xml, NULL);
	if (!t.ext_node || bus_start())
		return -1;
	t.conn = bus_connect();
	t.lunard = lunard_start(t.env, "log", NULL);
	if (!t.conn || !t.lunard || !wait_owner(BUS_NAME, true, 10000)) {
		dump("log.stderr");
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	char *argv[] = { "rm", "-rf", t.dir, NULL }, *out;
	int ret = 0;

	(void)state;
	if (t.lunard > 0 && lunard_stop(t.lunard, "log"))
		ret = -1;
	if (t.bus > 0)
		terminate(t.bus, 5000);
	g_clear_object(&t.conn);
	if (t.ext_node)
		g_dbus_node_info_unref(t.ext_node);
	if (run(argv, t.env, &out))
		ret = -1;
	g_free(out);
	g_strfreev(t.env);
	g_free(t.addr);
	return ret;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_managed_objects),
		cmocka_unit_test(test_check_config_file),
		cmocka_unit_test(test_check_config_odd_strings),
		cmocka_unit_test(test_wrong_calls),
		cmocka_unit_test(test_check_config_off_main_loop),
		cmocka_unit_test(test_register_handler),
		cmocka_unit_test(test_policy_for_non_root),
		cmocka_unit_test(test_lunard_refuses_non_root),
		cmocka_unit_test(test_check_config_fair_between_callers),
		cmocka_unit_test(test_targetcli),
		cmocka_unit_test(test_second_daemon),
		cmocka_unit_test(test_bus_restart),
		cmocka_unit_test(test_no_bus_serves_io),
		cmocka_unit_test(test_sigterm_during_check_config),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
