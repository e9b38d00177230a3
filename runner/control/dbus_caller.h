/*
 * Callers of lunard's D-Bus methods: who may act, and the (b, s) answer
 * tcmu-runner's methods give.
 *
 * Methods that make lunard act (CheckConfig: a handler reads files and, for
 * rbd, connects to a cluster as the identity the cfgstring names;
 * RegisterHandler) are for root only.  The bus policy says so, and
 * lunard checks again on the method itself, so a looser policy (an
 * administrator's, a distribution's) cannot open them: the caller's uid,
 * asked from the bus, must be 0 or lunard's own.
 *
 * Threading: main thread (the connection's main context), except
 * dbus_caller_reply(), which any thread may call.
 */
#ifndef LUNAR_DBUS_CALLER_H
#define LUNAR_DBUS_CALLER_H

#include <gio/gio.h>

/* Answer (b, s); msg is made valid UTF-8 first.  Takes over inv. */
void dbus_caller_reply(GDBusMethodInvocation *inv, gboolean ok, const char *msg);

/*
 * Run authorized(inv) once the bus has told inv's sender's uid and it
 * may act; otherwise answer org.freedesktop.DBus.Error.AccessDenied and
 * log the refusal.  Takes over inv (authorized() gets it).
 */
void dbus_caller_authorize(GDBusConnection *conn, GDBusMethodInvocation *inv,
			   void (*authorized)(GDBusMethodInvocation *inv));

#endif
