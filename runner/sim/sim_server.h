/*
 * lunard's side of the simulated control plane (simsock.h): accept
 * connections on --sim-socket, add and remove the simring devices they
 * offer.  Runs on the GLib main loop (main thread).
 */
#ifndef LUNAR_SIM_SERVER_H
#define LUNAR_SIM_SERVER_H

/* Listen on path (replacing a stale socket).  0 or -errno. */
int sim_server_start(const char *path);

/* Remove every simulated device and stop listening. */
void sim_server_stop(void);

#endif
