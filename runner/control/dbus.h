/*
 * lunard's D-Bus service on the system bus: tcmu-runner 1.5.4's API, with
 * the same names, so targetcli-fb, ceph-iscsi and libtcmu programs work
 * unchanged:
 *
 *   bus name org.kernel.TCMUService1
 *   /org/kernel/TCMUService1                  org.freedesktop.DBus.ObjectManager
 *   /org/kernel/TCMUService1/<subtype>        org.kernel.TCMUService1
 *	property ConfigDesc (s); CheckConfig(s cfgstring) -> (b, s)
 *   /org/kernel/TCMUService1/HandlerManager1  org.kernel.TCMUService1.HandlerManager1
 *	RegisterHandler(s subtype, s cfg_desc) -> (b, s)
 *
 * CheckConfig and RegisterHandler are for root only (dbus_caller.h);
 * the ObjectManager, properties and introspection are for anyone.
 *
 * Threading: everything runs on the main thread's GLib main loop (the
 * default main context) except a loaded handler's check_config(), which
 * runs on that handler's worker, fairly between callers (check_queue.h),
 * and sends the reply from there.
 */
#ifndef LUNAR_DBUS_H
#define LUNAR_DBUS_H

/*
 * Export the loaded handlers and request the bus name (the address comes
 * from DBUS_SYSTEM_BUS_ADDRESS, else the standard socket).  Call on the
 * main thread once handlers are loaded.  Without a system bus it logs one
 * warning and keeps retrying in the background: lunard serves I/O either
 * way.  0, or -errno if the service cannot be set up at all.
 */
int dbus_service_start(void);

/*
 * Wait for a running check_config() to answer, refuse the queued calls,
 * then drop the name and the connection.  Call on the main thread after
 * the main loop returned and before the handlers are unloaded.  Safe
 * without a start.
 */
void dbus_service_stop(void);

/*
 * Why RegisterHandler's subtype cannot be used (it goes into a bus name
 * and an object path), or NULL if it can.  Exposed for the fuzzer.
 */
const char *dbus_subtype_problem(const char *subtype);

#endif
