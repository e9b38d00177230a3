/*
 * Reading a device's configfs-style attributes through its transport.
 * Helpers return 0 or -errno and never log (callers log once, with the
 * device name).
 */
#ifndef LUNAR_ATTR_H
#define LUNAR_ATTR_H

#include <stddef.h>
#include <stdint.h>

struct lunar_transport;

/* Attribute holding one decimal unsigned number ("attrib/hw_block_size"). */
int attr_read_u64(struct lunar_transport *t, const char *name, uint64_t *out);

/* "<key>: <number>" inside the "info" attribute (key "Size"). */
int attr_info_u64(struct lunar_transport *t, const char *key, uint64_t *out);

/* Unit serial from wwn/vpd_unit_serial, without its "T10 VPD ..." prefix. */
int attr_unit_serial(struct lunar_transport *t, char *buf, size_t size);

/* Parse a whole decimal unsigned number (surrounding blanks allowed). */
int parse_u64(const char *s, uint64_t *out);

#endif
