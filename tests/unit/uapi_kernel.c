/*
 * UAPI_LAYOUT() evaluated against the kernel's own header, which is the
 * only TCMU header this translation unit may see (see uapi_layout.h).
 */
#include <linux/target_core_user.h>

#include "uapi_layout.h"

#define K_SIZE(t) (uint64_t)sizeof(struct t),
#define K_OFF(t, m) (uint64_t)offsetof(struct t, m),
#define K_MSIZE(t, m) (uint64_t)sizeof(((struct t *)0)->m),
#define K_VAL(e) (uint64_t)(e),

size_t kernel_uapi_layout(uint64_t *out, size_t max)
{
	const uint64_t values[] = {
		UAPI_LAYOUT(K_SIZE, K_OFF, K_MSIZE, K_VAL)
	};
	size_t n = sizeof(values) / sizeof(values[0]);

	for (size_t i = 0; i < n && i < max; i++)
		out[i] = values[i];
	return n;
}
