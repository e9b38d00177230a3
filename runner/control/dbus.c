/*
 * lunard's D-Bus service.  See dbus.h for the API and the threading.
 *
 * The connection is lunard's own, not GLib's shared system bus one, so
 * losing the bus never raises SIGTERM: it is logged, the objects go, and
 * the connection is retried with back-off (1 s doubling to 60 s), as when
 * there is no bus at start-up.
 *
 * Objects: one per loaded handler, kept for the service's lifetime and
 * exported on every connection; one per external handler (RegisterHandler)
 * while its caller owns org.kernel.TCMUService1.HandlerManager1.<subtype>,
 * with CheckConfig forwarded asynchronously to that name.  As in 1.5.4,
 * the registration answers once the name's owner is known, and vanishing
 * ends it (the process registers again).  Unlike 1.5.4, the caller must be
 * the name's owner (libtcmu registers from the connection owning it), and
 * the subtype must be usable in a bus name and an object path.  lunard
 * serves no devices for external subtypes: 1.5.4 registered a stub whose
 * open() failed and left the external process to answer the kernel.
 */
#define _GNU_SOURCE
#include "dbus.h"

#include <errno.h>
#include <gio/gio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "check_queue.h"
#include "dbus_caller.h"
#include "runner/handler.h"
#include "runner/log.h"

#define BUS_NAME	"org.kernel.TCMUService1"
#define ROOT_PATH	"/org/kernel/TCMUService1"
#define HM_NAME		"HandlerManager1"
#define HM_PATH		ROOT_PATH "/" HM_NAME
#define HM_IFACE	BUS_NAME "." HM_NAME
#define OM_IFACE	"org.freedesktop.DBus.ObjectManager"

#define SUBTYPE_MAX	128	/* external subtypes; bus names end at 255 */
#define EXT_MAX		64	/* external handlers, pending or exported */
#define RETRY_MIN_S	1
#define RETRY_MAX_S	60

static const char introspection_xml[] =
	"<node>"
	" <interface name='" OM_IFACE "'>"
	"  <method name='GetManagedObjects'>"
	"   <arg type='a{oa{sa{sv}}}' name='object_paths_interfaces_and_properties' direction='out'/>"
	"  </method>"
	"  <signal name='InterfacesAdded'>"
	"   <arg type='o' name='object_path'/>"
	"   <arg type='a{sa{sv}}' name='interfaces_and_properties'/>"
	"  </signal>"
	"  <signal name='InterfacesRemoved'>"
	"   <arg type='o' name='object_path'/>"
	"   <arg type='as' name='interfaces'/>"
	"  </signal>"
	" </interface>"
	" <interface name='" BUS_NAME "'>"
	"  <property name='ConfigDesc' type='s' access='read'/>"
	"  <method name='CheckConfig'>"
	"   <arg type='s' name='configstr' direction='in'/>"
	"   <arg type='b' name='is_valid' direction='out'/>"
	"   <arg type='s' name='message' direction='out'/>"
	"  </method>"
	" </interface>"
	" <interface name='" HM_IFACE "'>"
	"  <method name='RegisterHandler'>"
	"   <arg type='s' name='subtype' direction='in'/>"
	"   <arg type='s' name='cfgstr_desc' direction='in'/>"
	"   <arg type='b' name='succeeded' direction='out'/>"
	"   <arg type='s' name='message' direction='out'/>"
	"  </method>"
	" </interface>"
	"</node>";

/* /org/kernel/TCMUService1/<subtype>: a loaded or an external handler. */
struct hobj {
	char *subtype;			/* [A-Za-z0-9_]+: it is in the path */
	char *cfg_desc;			/* valid UTF-8 */
	char *path;
	guint reg_id;			/* 0 while not exported */
	/* A loaded handler; checks queues its check_config() calls, if any. */
	struct tcmur_handler *ops;
	struct check_queue *checks;
	/* An external handler. */
	char *ext_name;			/* ...HandlerManager1.<subtype> */
	char *ext_path;			/* ...HandlerManager1/<subtype> */
	char *sender;			/* who called RegisterHandler */
	guint watch_id;
	GDBusMethodInvocation *pending;	/* that call, until the watch answers */
	struct hobj *next;
};

static struct {
	GDBusNodeInfo *node;
	GDBusConnection *conn;
	GCancellable *connecting;
	gulong closed_handler;
	guint owner_id, om_id, hm_id, retry_id;
	unsigned int retry_s;
	bool warned;			/* bus trouble logged since connected */
	bool owned;			/* primary owner of BUS_NAME */
	struct hobj *loaded, *ext;
	unsigned int n_ext;
} svc;

static void bus_connect(void);

static GDBusInterfaceInfo *iface_info(const char *name)
{
	return g_dbus_node_info_lookup_interface(svc.node, name);
}

static struct hobj *hobj_new(const char *subtype, const char *cfg_desc)
{
	struct hobj *o = g_new0(struct hobj, 1);

	o->subtype = g_strdup(subtype);
	o->cfg_desc = g_utf8_make_valid(cfg_desc ? cfg_desc : "", -1);
	o->path = g_strconcat(ROOT_PATH "/", subtype, NULL);
	return o;
}

static void hobj_free(struct hobj *o)
{
	g_free(o->subtype);
	g_free(o->cfg_desc);
	g_free(o->path);
	g_free(o->ext_name);
	g_free(o->ext_path);
	g_free(o->sender);
	g_free(o);
}

static struct hobj *hobj_find(struct hobj *list, const char *subtype)
{
	for (; list; list = list->next)
		if (!strcmp(list->subtype, subtype))
			return list;
	return NULL;
}

/* {"org.kernel.TCMUService1": {"ConfigDesc": <cfg_desc>}} */
static GVariant *hobj_interfaces(const struct hobj *o)
{
	return g_variant_new_parsed("{%s: {'ConfigDesc': <%s>}}", BUS_NAME,
				    o->cfg_desc);
}

static void emit_om(const char *signal, GVariant *args)
{
	g_dbus_connection_emit_signal(svc.conn, NULL, ROOT_PATH, OM_IFACE,
				      signal, args, NULL);
}

/* ---- CheckConfig ---- */

static void on_forwarded(GObject *src, GAsyncResult *res, gpointer data)
{
	GDBusMethodInvocation *inv = data;
	GError *err = NULL;
	GVariant *ret;

	ret = g_dbus_connection_call_finish(G_DBUS_CONNECTION(src), res, &err);
	if (ret) {
		g_dbus_method_invocation_return_value(inv, ret);
		g_variant_unref(ret);
		return;
	}
	g_dbus_error_strip_remote_error(err);
	dbus_caller_reply(inv, FALSE, err->message);
	g_error_free(err);
}

/* The external handler answers; its reply must be (bs) too. */
static void check_forward(struct hobj *o, GDBusMethodInvocation *inv,
			  const char *cfgstring)
{
	g_dbus_connection_call(svc.conn, o->ext_name, o->ext_path, BUS_NAME,
			       "CheckConfig", g_variant_new("(s)", cfgstring),
			       G_VARIANT_TYPE("(bs)"),
			       G_DBUS_CALL_FLAGS_NO_AUTO_START, -1, NULL,
			       on_forwarded, inv);
}

/*
 * The caller may act.  The object is looked up again by its path: an
 * external one may have gone while the bus answered who the caller is.
 */
static void check_config(GDBusMethodInvocation *inv)
{
	const char *path = g_dbus_method_invocation_get_object_path(inv);
	const char *subtype = strrchr(path, '/') + 1, *cfgstring;
	struct hobj *o = hobj_find(svc.loaded, subtype);

	if (!o)
		o = hobj_find(svc.ext, subtype);
	if (!o || !o->reg_id) {
		g_dbus_method_invocation_return_error(inv, G_DBUS_ERROR,
			G_DBUS_ERROR_UNKNOWN_OBJECT, "handler %s is gone", subtype);
		return;
	}
	g_variant_get(g_dbus_method_invocation_get_parameters(inv), "(&s)",
		      &cfgstring);
	if (o->ext_name)
		check_forward(o, inv, cfgstring);
	else if (o->checks)
		check_queue_push(o->checks, inv,
				 g_dbus_method_invocation_get_sender(inv),
				 cfgstring);
	else
		dbus_caller_reply(inv, TRUE, "success");
}

/* GDBus has checked the method and its (s) signature. */
static void hobj_method(GDBusConnection *conn, const gchar *sender,
			const gchar *path, const gchar *iface,
			const gchar *method, GVariant *args,
			GDBusMethodInvocation *inv, gpointer data)
{
	(void)sender, (void)path, (void)iface, (void)method, (void)args;
	(void)data;
	dbus_caller_authorize(conn, inv, check_config);
}

static GVariant *hobj_get_property(GDBusConnection *conn, const gchar *sender,
				   const gchar *path, const gchar *iface,
				   const gchar *prop, GError **err,
				   gpointer data)
{
	struct hobj *o = data;

	(void)conn, (void)sender, (void)path, (void)iface, (void)prop, (void)err;
	return g_variant_new_string(o->cfg_desc);
}

static const GDBusInterfaceVTable hobj_vtable = {
	.method_call = hobj_method,
	.get_property = hobj_get_property,
};

static int hobj_export(struct hobj *o)
{
	GError *err = NULL;

	o->reg_id = g_dbus_connection_register_object(svc.conn, o->path,
			iface_info(BUS_NAME), &hobj_vtable, o, NULL, &err);
	if (!o->reg_id) {
		lunar_err(NULL, "cannot export %s: %s", o->path, err->message);
		g_error_free(err);
		return -EEXIST;
	}
	emit_om("InterfacesAdded", g_variant_new("(o@a{sa{sv}})", o->path,
						 hobj_interfaces(o)));
	return 0;
}

static void hobj_unexport(struct hobj *o)
{
	if (!o->reg_id)
		return;
	g_dbus_connection_unregister_object(svc.conn, o->reg_id);
	o->reg_id = 0;
	emit_om("InterfacesRemoved",
		g_variant_new_parsed("(%o, [%s])", o->path, BUS_NAME));
}

/* ---- ObjectManager ---- */

static void add_managed(GVariantBuilder *b, const struct hobj *o)
{
	for (; o; o = o->next)
		if (o->reg_id)
			g_variant_builder_add(b, "{o@a{sa{sv}}}", o->path,
					      hobj_interfaces(o));
}

static void om_method(GDBusConnection *conn, const gchar *sender,
		      const gchar *path, const gchar *iface,
		      const gchar *method, GVariant *args,
		      GDBusMethodInvocation *inv, gpointer data)
{
	GVariantBuilder b;

	(void)conn, (void)sender, (void)path, (void)iface, (void)method;
	(void)args, (void)data;
	g_variant_builder_init(&b, G_VARIANT_TYPE("a{oa{sa{sv}}}"));
	add_managed(&b, svc.loaded);
	add_managed(&b, svc.ext);
	g_dbus_method_invocation_return_value(inv,
		g_variant_new("(a{oa{sa{sv}}})", &b));
}

static const GDBusInterfaceVTable om_vtable = { .method_call = om_method };

/* ---- HandlerManager1 ---- */

const char *dbus_subtype_problem(const char *s)
{
	size_t n = strlen(s);

	if (!n)
		return "empty subtype";
	if (strchr(s, '/'))
		return "the subtype must not contain '/'";
	if (n > SUBTYPE_MAX)
		return "the subtype is longer than 128 characters";
	if (g_ascii_isdigit(s[0]) || strspn(s, "abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") != n)
		return "the subtype may only use letters, digits and '_', and may not start with a digit";
	if (!strcmp(s, HM_NAME))
		return "the subtype " HM_NAME " is reserved";
	return NULL;
}

static void ext_drop(struct hobj *o)
{
	struct hobj **p;

	for (p = &svc.ext; *p != o; p = &(*p)->next)
		;
	*p = o->next;
	svc.n_ext--;
	hobj_unexport(o);
	g_bus_unwatch_name(o->watch_id);
	if (o->pending)
		dbus_caller_reply(o->pending, FALSE, "lunard left the bus");
	hobj_free(o);
}

static void on_ext_appeared(GDBusConnection *conn, const gchar *name,
			    const gchar *owner, gpointer data)
{
	struct hobj *o = data;
	GDBusMethodInvocation *inv = o->pending;
	char *msg;

	(void)conn;
	if (!inv)
		return;
	o->pending = NULL;
	if (g_strcmp0(owner, o->sender)) {
		msg = g_strdup_printf("%s is owned by %s, not by the caller %s",
				      name, owner, o->sender);
		dbus_caller_reply(inv, FALSE, msg);
		g_free(msg);
		ext_drop(o);
	} else if (hobj_export(o)) {
		dbus_caller_reply(inv, FALSE, "cannot export the handler object");
		ext_drop(o);
	} else {
		lunar_info(NULL, "external handler %s registered by %s",
			   o->subtype, owner);
		dbus_caller_reply(inv, TRUE, "succeeded");
	}
}

static void on_ext_vanished(GDBusConnection *conn, const gchar *name,
			    gpointer data)
{
	struct hobj *o = data;
	char *msg;

	(void)conn;
	if (o->pending) {
		msg = g_strdup_printf("Cannot find handler bus name: %s", name);
		dbus_caller_reply(o->pending, FALSE, msg);
		g_free(msg);
		o->pending = NULL;
	} else {
		lunar_info(NULL, "external handler %s gone: %s has no owner",
			   o->subtype, name);
	}
	ext_drop(o);
}

/* Answer once the watch knows whether the caller owns the name. */
static void ext_watch(const char *subtype, const char *cfg_desc,
		      const char *sender, GDBusMethodInvocation *inv)
{
	struct hobj *o = hobj_new(subtype, cfg_desc);

	o->ext_name = g_strconcat(HM_IFACE ".", subtype, NULL);
	o->ext_path = g_strconcat(HM_PATH "/", subtype, NULL);
	o->sender = g_strdup(sender);
	o->pending = inv;
	o->next = svc.ext;
	svc.ext = o;
	svc.n_ext++;
	o->watch_id = g_bus_watch_name_on_connection(svc.conn, o->ext_name,
			G_BUS_NAME_WATCHER_FLAGS_NONE, on_ext_appeared,
			on_ext_vanished, o, NULL);
}

/* The caller may act. */
static void register_handler(GDBusMethodInvocation *inv)
{
	const char *subtype, *cfg_desc, *problem;
	const char *sender = g_dbus_method_invocation_get_sender(inv);
	char *msg;

	g_variant_get(g_dbus_method_invocation_get_parameters(inv), "(&s&s)",
		      &subtype, &cfg_desc);
	problem = dbus_subtype_problem(subtype);
	if (problem) {
		dbus_caller_reply(inv, FALSE, problem);
	} else if (hobj_find(svc.loaded, subtype) || hobj_find(svc.ext, subtype)) {
		msg = g_strdup_printf("subtype %s is already registered", subtype);
		dbus_caller_reply(inv, FALSE, msg);
		g_free(msg);
	} else if (svc.n_ext >= EXT_MAX) {
		dbus_caller_reply(inv, FALSE, "too many external handlers");
	} else {
		ext_watch(subtype, cfg_desc, sender, inv);
	}
}

static void hm_method(GDBusConnection *conn, const gchar *sender,
		      const gchar *path, const gchar *iface,
		      const gchar *method, GVariant *args,
		      GDBusMethodInvocation *inv, gpointer data)
{
	(void)sender, (void)path, (void)iface, (void)method, (void)args;
	(void)data;
	dbus_caller_authorize(conn, inv, register_handler);
}

static const GDBusInterfaceVTable hm_vtable = { .method_call = hm_method };

/* ---- The connection and the name ---- */

static guint export_root(const char *path, const char *iface,
			 const GDBusInterfaceVTable *vtable)
{
	GError *err = NULL;
	guint id;

	id = g_dbus_connection_register_object(svc.conn, path,
			iface_info(iface), vtable, NULL, NULL, &err);
	if (!id) {
		lunar_err(NULL, "cannot export %s: %s", path, err->message);
		g_error_free(err);
	}
	return id;
}

static void export_all(void)
{
	svc.om_id = export_root(ROOT_PATH, OM_IFACE, &om_vtable);
	svc.hm_id = export_root(HM_PATH, HM_IFACE, &hm_vtable);
	for (struct hobj *o = svc.loaded; o; o = o->next)
		hobj_export(o);
}

static void on_name_acquired(GDBusConnection *conn, const gchar *name,
			     gpointer unused)
{
	(void)conn, (void)unused;
	svc.owned = true;
	lunar_info(NULL, "D-Bus name %s acquired", name);
}

static void on_name_lost(GDBusConnection *conn, const gchar *name,
			 gpointer unused)
{
	(void)unused;
	if (!conn || g_dbus_connection_is_closed(conn))
		return;		/* on_closed() reports it */
	if (svc.owned)
		lunar_warn(NULL, "lost the D-Bus name %s", name);
	else
		lunar_warn(NULL, "cannot own the D-Bus name %s: another process has it or the bus policy denies it",
			   name);
	svc.owned = false;
}

/* Drop everything that lives on the connection. */
static void disconnect(void)
{
	while (svc.ext)
		ext_drop(svc.ext);
	for (struct hobj *o = svc.loaded; o; o = o->next)
		hobj_unexport(o);
	if (svc.om_id)
		g_dbus_connection_unregister_object(svc.conn, svc.om_id);
	if (svc.hm_id)
		g_dbus_connection_unregister_object(svc.conn, svc.hm_id);
	if (svc.owner_id)
		g_bus_unown_name(svc.owner_id);
	g_signal_handler_disconnect(svc.conn, svc.closed_handler);
	g_clear_object(&svc.conn);
	svc.om_id = svc.hm_id = svc.owner_id = 0;
	svc.closed_handler = 0;
	svc.owned = false;
}

static gboolean on_retry(gpointer unused)
{
	(void)unused;
	svc.retry_id = 0;
	bus_connect();
	return G_SOURCE_REMOVE;
}

static void retry_later(void)
{
	svc.retry_id = g_timeout_add_seconds(svc.retry_s, on_retry, NULL);
	svc.retry_s = MIN(svc.retry_s * 2, RETRY_MAX_S);
}

/* Logged once until a connection succeeds again. */
static void bus_unavailable(const char *why)
{
	if (!svc.warned)
		lunar_warn(NULL, "no D-Bus system bus (%s); serving I/O without the D-Bus API, retrying in the background",
			   why);
	svc.warned = true;
	retry_later();
}

static void on_closed(GDBusConnection *conn, gboolean remote_vanished,
		      GError *err, gpointer unused)
{
	(void)conn, (void)unused;
	lunar_warn(NULL, "lost the D-Bus system bus (%s); retrying in the background",
		   remote_vanished ? "the bus closed the connection" :
		   err ? err->message : "closed");
	disconnect();
	svc.warned = true;
	svc.retry_s = RETRY_MIN_S;
	retry_later();
}

static void on_connected(GObject *src, GAsyncResult *res, gpointer data)
{
	GCancellable *cancellable = data;
	bool cancelled = g_cancellable_is_cancelled(cancellable);
	GError *err = NULL;
	GDBusConnection *conn;

	(void)src;
	g_object_unref(cancellable);
	conn = g_dbus_connection_new_for_address_finish(res, &err);
	if (cancelled) {
		g_clear_error(&err);
		g_clear_object(&conn);
		return;
	}
	g_clear_object(&svc.connecting);
	if (!conn) {
		bus_unavailable(err->message);
		g_error_free(err);
		return;
	}
	svc.conn = conn;
	g_dbus_connection_set_exit_on_close(conn, FALSE);
	svc.closed_handler = g_signal_connect(conn, "closed",
					      G_CALLBACK(on_closed), NULL);
	export_all();
	/* Objects first: whoever sees the name finds them. */
	svc.owner_id = g_bus_own_name_on_connection(conn, BUS_NAME,
			G_BUS_NAME_OWNER_FLAGS_NONE, on_name_acquired,
			on_name_lost, NULL, NULL);
	svc.warned = false;
	svc.retry_s = RETRY_MIN_S;
}

static void bus_connect(void)
{
	GError *err = NULL;
	char *addr;

	addr = g_dbus_address_get_for_bus_sync(G_BUS_TYPE_SYSTEM, NULL, &err);
	if (!addr) {
		bus_unavailable(err->message);
		g_error_free(err);
		return;
	}
	svc.connecting = g_cancellable_new();
	g_dbus_connection_new_for_address(addr,
		G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
		G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
		NULL, svc.connecting, on_connected,
		g_object_ref(svc.connecting));
	g_free(addr);
}

/* ---- Start and stop ---- */

/* Registry order; handlers do not change while lunard runs. */
static void add_loaded(struct tcmur_handler *ops)
{
	struct hobj *o = hobj_new(ops->subtype, ops->cfg_desc), **tail;

	if (!g_variant_is_object_path(o->path)) {
		lunar_warn(NULL, "handler %s not on D-Bus: its subtype cannot be part of an object path",
			   ops->subtype);
		hobj_free(o);
		return;
	}
	o->ops = ops;
	if (ops->check_config)
		o->checks = check_queue_new(ops);
	for (tail = &svc.loaded; *tail; tail = &(*tail)->next)
		;
	*tail = o;
}

int dbus_service_start(void)
{
	svc.node = g_dbus_node_info_new_for_xml(introspection_xml, NULL);
	if (!svc.node)
		return -EINVAL;
	for (struct lunar_handler *h = handlers_first(); h; h = h->next)
		add_loaded(h->ops);
	svc.retry_s = RETRY_MIN_S;
	bus_connect();
	return 0;
}

void dbus_service_stop(void)
{
	struct hobj *o;

	/*
	 * The running check_config() answers, queued calls get "stopping";
	 * replies need no main loop.  Then the connection goes.
	 */
	for (o = svc.loaded; o; o = o->next)
		check_queue_free(o->checks);
	if (svc.retry_id)
		g_source_remove(svc.retry_id);
	if (svc.connecting)
		g_cancellable_cancel(svc.connecting);
	g_clear_object(&svc.connecting);
	if (svc.conn) {
		GDBusConnection *conn = g_object_ref(svc.conn);

		disconnect();
		g_dbus_connection_close_sync(conn, NULL, NULL);
		g_object_unref(conn);
	}
	while ((o = svc.loaded)) {
		svc.loaded = o->next;
		hobj_free(o);
	}
	if (svc.node)
		g_dbus_node_info_unref(svc.node);
	memset(&svc, 0, sizeof(svc));
}
