/*
 * The per-device HA agent: one thread per device that does everything that
 * may block on the cluster, off the command thread — handler reopen
 * (cluster/recovery.h), lock transitions and owner checks (cluster/cluster_lock.h).
 * It runs when kicked and every AGENT_PERIOD_MS.  It never reads configfs
 * (see alua/alua.h for why).
 *
 * Threading: agent_start()/agent_stop() by the device owner (device_add /
 * device_remove); agent_kick() from any thread; agent_sleep() only on the
 * agent thread.
 */
#ifndef LUNAR_AGENT_H
#define LUNAR_AGENT_H

#include <pthread.h>
#include <stdbool.h>

#define AGENT_PERIOD_MS 500

struct tcmu_device;

struct dev_agent {
	pthread_t thread;
	bool started;
	pthread_mutex_t mu;
	pthread_cond_t cond;
	bool kicked;
	bool stop;
};

int agent_start(struct tcmu_device *dev);
/* Stop and join; afterwards the caller may do the agent's teardown. */
void agent_stop(struct tcmu_device *dev);
void agent_kick(struct tcmu_device *dev);

/* Sleep ms unless the agent is stopped; false if it is. */
bool agent_sleep(struct tcmu_device *dev, unsigned int ms);

#endif
