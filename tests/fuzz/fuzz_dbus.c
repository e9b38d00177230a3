/*
 * D-Bus method arguments as lunard receives them: the body of a
 * RegisterHandler(ss) or CheckConfig(s) call, serialized as on the wire
 * (GLib checks the signature; the bytes are the caller's).  What lunard
 * does with them: validate the subtype that goes into a bus name and an
 * object path (a subtype it accepts must be usable in both), make the
 * description valid UTF-8, and hand the cfgstring to a handler's
 * check_config() (ram and file here: no network).
 */
#include <gio/gio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "runner/control/dbus.h"
#include "runner/handler.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	if (handlers_load_file(LUNAR_HANDLER_DIR "/handler_file.so") ||
	    handlers_load_file(LUNAR_HANDLER_DIR "/handler_ram.so"))
		abort();
	return 0;
}

static void register_handler_args(const char *subtype, const char *desc)
{
	char *valid = g_utf8_make_valid(desc, -1);

	if (!dbus_subtype_problem(subtype)) {
		char *name = g_strconcat("org.kernel.TCMUService1.HandlerManager1.",
					 subtype, NULL);
		char *path = g_strconcat("/org/kernel/TCMUService1/", subtype, NULL);

		if (!g_dbus_is_name(name) || !g_variant_is_object_path(path))
			__builtin_trap();
		g_free(name);
		g_free(path);
	}
	g_free(valid);
}

static void check_config_args(const char *cfgstring)
{
	for (struct lunar_handler *h = handlers_first(); h; h = h->next) {
		char *reason = NULL;

		if (h->ops->check_config)
			h->ops->check_config(cfgstring, &reason);
		free(reason);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	GBytes *bytes = g_bytes_new(data, size);
	GVariant *args = g_variant_ref_sink(g_variant_new_from_bytes(
		G_VARIANT_TYPE("(ss)"), bytes, FALSE));
	const char *a, *b;

	g_variant_get(args, "(&s&s)", &a, &b);
	register_handler_args(a, b);
	check_config_args(a);
	g_variant_unref(args);
	g_bytes_unref(bytes);
	return 0;
}
