/*
 * The "events" thread: handler-reported events (runner/compat/notify.c)
 * are passed to the handler's report_event() there — never on the
 * reporter's thread, which may be a backend library's callback.  Several
 * events for one device before the thread gets to it are reported once.
 *
 * Threading: events_report() from any thread.  events_flush() from the
 * device owner before closing the handler.
 */
#ifndef LUNAR_EVENTS_H
#define LUNAR_EVENTS_H

struct tcmu_device;

/* Have the event thread call dev's report_event() (if it has one). */
void events_report(struct tcmu_device *dev);

/* Wait until no report_event() for dev is pending or running. */
void events_flush(struct tcmu_device *dev);

/* Stop the event thread (process exit). */
void events_shutdown(void);

#endif
