/*
 * The guardian: a small process lunard forks at start-up, which outlives
 * it.  When lunard dies without a clean shutdown (crash, SIGKILL, OOM
 * killer) the commands it had taken from the rings of gateway-shared LUNs
 * (handler with a cluster lock) would wait for the kernel's cmd_time_out
 * (12 s at the default failover budget: it is there for a lunard that
 * hangs) before the initiator's multipath gave up on this gateway.  The
 * guardian fails them back at once (action/reset_ring 2: CHECK
 * CONDITION), so the path fails now and another gateway takes over.  LUNs
 * without a cluster lock are left alone: their commands wait for a
 * restarted lunard, which adopts them (BUSY, retried), and their
 * initiators see only delay.
 *
 * Commands the initiator sends after the death (or that the kernel still
 * had queued) would wait in the ring for a restarted lunard, so the
 * guardian keeps failing them for GUARD_HOLD_MS.  It does all of this
 * holding the host lock (host_lock.h), which keeps a restarted lunard
 * from adopting the rings meanwhile (a ring reset under a serving daemon
 * would lose its commands); if a new lunard holds it already, that one
 * has the rings and the guardian fails nothing.
 *
 * lunard tells it which devices to fail ("+" / "-" records over a
 * SOCK_SEQPACKET socket pair) and says "bye" before a clean exit, after
 * which it fails nothing: a drained daemon has nothing in flight.
 *
 * Threading: guardian_start() on the main thread before any other thread
 * exists (it forks); the rest on the main thread.
 */
#ifndef LUNAR_GUARDIAN_H
#define LUNAR_GUARDIAN_H

/* How long after lunard's death the guardian keeps failing commands. */
#define GUARD_HOLD_MS 1000
#define GUARD_RETRY_MS 50

/* Fails one device's in-flight commands; 0 or -errno. */
typedef int (*guardian_fail_fn)(const char *hba, const char *dev);

/*
 * Fork the guardian; fail is what it calls per watched device when
 * lunard dies (uio_fail_inflight for the real kernel), host_lock the
 * lock file it holds meanwhile.  0 or -errno.
 */
int guardian_start(guardian_fail_fn fail, const char *host_lock);

/* Watch or stop watching configfs device <hba>/<dev>. */
void guardian_watch(const char *hba, const char *dev);
void guardian_unwatch(const char *hba, const char *dev);

/* Clean exit: the guardian ends without failing anything. */
void guardian_stop(void);

/*
 * The guardian's loop on its end of the socket: returns when lunard said
 * "bye" (0) or died (the number of devices it failed; 0 too if another
 * process held host_lock).  host_lock NULL: fail once, no lock, no hold.
 * Exposed for tests.
 */
int guardian_serve(int sock, guardian_fail_fn fail, const char *host_lock);

#endif
