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
 * A lunard that is alive but hung (SIGSTOP, a whole process descheduled
 * or stuck) would hold its commands until the kernel's cmd_time_out, and
 * its initiators with them.  So lunard also beats: a thread of its own
 * sends "." every GUARD_BEAT_MS.  When shared LUNs are watched and
 * nothing has been heard for hang_ms, the guardian SIGKILLs lunard and
 * goes on as for a death: the commands are failed back, the initiator
 * moves, and nothing the hung process had queued can land later (it is
 * gone; what it had already sent to Ceph is fenced by the takeover's
 * blocklisting).  A restart (systemd's Restart=on-failure) brings a new
 * lunard.  The beat is the process's, not each command thread's: a
 * command thread deadlocked alone is still left to cmd_time_out.
 *
 * Threading: guardian_start() on the main thread before any other thread
 * exists (it forks, then starts the beat thread); guardian_watch,
 * guardian_unwatch and guardian_stop on the main thread.
 */
#ifndef LUNAR_GUARDIAN_H
#define LUNAR_GUARDIAN_H

#include <sys/types.h>

/* How long after lunard's death the guardian keeps failing commands. */
#define GUARD_HOLD_MS 1000
#define GUARD_RETRY_MS 50
/* How often lunard's beat thread says it is alive. */
#define GUARD_BEAT_MS 250

/* Fails one device's in-flight commands; 0 or -errno. */
typedef int (*guardian_fail_fn)(const char *hba, const char *dev);

struct guardian_duty {
	/* Called per watched device when lunard dies (uio_fail_inflight). */
	guardian_fail_fn fail;
	/* The lock file held while failing; NULL: fail once, no lock. */
	const char *host_lock;
	/* Silence that means hung (budget_hang_ms()); 0: never kill. */
	unsigned int hang_ms;
};

/* Fork the guardian and start the beat thread.  0 or -errno. */
int guardian_start(const struct guardian_duty *duty);

/* Watch or stop watching configfs device <hba>/<dev>. */
void guardian_watch(const char *hba, const char *dev);
void guardian_unwatch(const char *hba, const char *dev);

/* Clean exit: the guardian ends without failing anything. */
void guardian_stop(void);

/*
 * The guardian's loop on its end of the socket: returns when lunard said
 * "bye" (0) or died (the number of devices it failed; 0 too if another
 * process held host_lock).  lunard is the pid killed when it hangs (0:
 * never).  Exposed for tests.
 */
int guardian_serve(int sock, pid_t lunard, const struct guardian_duty *duty);

#endif
