/*
 * Handler-reported events (tcmu_notify_lock_lost / conn_lost /
 * cmd_timed_out): counted in the device's 1.5.4-compatible view, logged,
 * and passed to the handler's report_event() on the event thread — never
 * on the caller's thread, which may be a backend library's callback.
 * Several events for one device before the thread gets to it are reported
 * once.
 *
 * Threading: the notify functions from any thread.  events_flush() from the
 * device owner before closing the handler.
 */
#ifndef LUNAR_EVENTS_H
#define LUNAR_EVENTS_H

struct tcmu_device;

/* Wait until no report_event() for dev is pending or running. */
void events_flush(struct tcmu_device *dev);

/* Stop the event thread (process exit). */
void events_shutdown(void);

#endif
