/*
 * The failover budget.  See budget.h.
 */
#include "budget.h"

#include <errno.h>

static unsigned int budget = BUDGET_DEFAULT_S;

int budget_set_s(unsigned int seconds)
{
	if (seconds < BUDGET_MIN_S || seconds > BUDGET_MAX_S)
		return -ERANGE;
	budget = seconds;
	return 0;
}

unsigned int budget_s(void)
{
	return budget;
}

unsigned int budget_holddown_ms(void)
{
	return budget * 1000 / 5;
}

unsigned int budget_op_timeout_s(void)
{
	return budget / 2;
}

unsigned int budget_cmd_timeout_s(void)
{
	return budget;
}

unsigned int budget_transition_s(void)
{
	return budget;
}

unsigned int budget_kernel_cmd_timeout_s(void)
{
	return budget + (budget >= 5 ? budget / 5 : 1);
}

unsigned int budget_hang_ms(void)
{
	return budget >= 5 ? budget * 1000 / 5 : 1000;
}
