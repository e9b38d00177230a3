/*
 * The failover budget: one setting (tcmu.conf "failover_budget", seconds,
 * default 10) from which lunard derives every HA timer, so they cannot be
 * mis-matched by hand:
 *   implicit takeover hold-down    budget / 5
 *   backend op timeout (handlers)  budget / 2  (lunar_dev_op_timeout_hint)
 *   command timeout, HA devices    budget      (unless ;tcmur_cmd_time_out)
 *   RTPG implicit transition time  budget
 *   kernel attrib/cmd_time_out     budget + budget / 5 (at least + 1 s),
 *     set when a LUN whose handler has a cluster lock is added: the last
 *     resort, for a lunard that hangs — a slow backend is lunard's to
 *     answer (op timeout, then its own command timeout: BUSY, reopen)
 *     without failing the path, so a Ceph hiccup moves no lock; a lunard
 *     that dies has its commands failed at once by its guardian
 *     (runner/control/guardian.h)
 *   lunard silent = hung           budget / 5, at least 1 s: its guardian
 *     kills it and fails its commands, so a hung daemon costs a takeover
 *     well inside the budget, not the kernel's cmd_time_out
 * A takeover then completes within the budget: hold-down, fencing the old
 * owner, and commands that were in flight on it timing out.
 *
 * Threading: set once at startup, before devices are added; read anywhere.
 */
#ifndef LUNAR_BUDGET_H
#define LUNAR_BUDGET_H

#define BUDGET_DEFAULT_S 10
#define BUDGET_MIN_S 2
#define BUDGET_MAX_S 600

/* 0, or -ERANGE (outside BUDGET_MIN_S..BUDGET_MAX_S; unchanged). */
int budget_set_s(unsigned int seconds);
unsigned int budget_s(void);

unsigned int budget_holddown_ms(void);
unsigned int budget_op_timeout_s(void);
unsigned int budget_cmd_timeout_s(void);
unsigned int budget_transition_s(void);
unsigned int budget_kernel_cmd_timeout_s(void);
unsigned int budget_hang_ms(void);

#endif
