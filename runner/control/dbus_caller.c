/*
 * Who calls lunard's D-Bus methods.  See dbus_caller.h.
 */
#include "dbus_caller.h"

#include <stdbool.h>
#include <unistd.h>

#include "runner/log.h"

struct authorization {
	GDBusMethodInvocation *inv;
	void (*authorized)(GDBusMethodInvocation *inv);
};

void dbus_caller_reply(GDBusMethodInvocation *inv, gboolean ok, const char *msg)
{
	char *text = g_utf8_make_valid(msg, -1);

	g_dbus_method_invocation_return_value(inv, g_variant_new("(bs)", ok, text));
	g_free(text);
}

static bool may_act(guint32 uid)
{
	return uid == 0 || uid == (guint32)geteuid();
}

static void on_caller_uid(GObject *src, GAsyncResult *res, gpointer data)
{
	struct authorization *a = data;
	GDBusMethodInvocation *inv = a->inv;
	GError *err = NULL;
	guint32 uid = G_MAXUINT32;
	GVariant *ret;

	ret = g_dbus_connection_call_finish(G_DBUS_CONNECTION(src), res, &err);
	if (ret) {
		g_variant_get(ret, "(u)", &uid);
		g_variant_unref(ret);
	}
	if (ret && may_act(uid)) {
		a->authorized(inv);
	} else {
		const char *method = g_dbus_method_invocation_get_method_name(inv);

		if (ret)
			lunar_warn(NULL, "D-Bus: refused %s from %s, uid %u: only root may call it",
				   method, g_dbus_method_invocation_get_sender(inv), uid);
		else
			lunar_warn(NULL, "D-Bus: refused %s from %s: its uid is unknown (%s)",
				   method, g_dbus_method_invocation_get_sender(inv),
				   err->message);
		g_dbus_method_invocation_return_error(inv, G_DBUS_ERROR,
			G_DBUS_ERROR_ACCESS_DENIED, "%s is for root only", method);
	}
	g_clear_error(&err);
	g_free(a);
}

void dbus_caller_authorize(GDBusConnection *conn, GDBusMethodInvocation *inv,
			   void (*authorized)(GDBusMethodInvocation *inv))
{
	struct authorization *a = g_new(struct authorization, 1);

	a->inv = inv;
	a->authorized = authorized;
	g_dbus_connection_call(conn, "org.freedesktop.DBus",
			       "/org/freedesktop/DBus", "org.freedesktop.DBus",
			       "GetConnectionUnixUser",
			       g_variant_new("(s)", g_dbus_method_invocation_get_sender(inv)),
			       G_VARIANT_TYPE("(u)"), G_DBUS_CALL_FLAGS_NONE, -1,
			       NULL, on_caller_uid, a);
}
