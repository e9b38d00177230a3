/*
 * The kernel's control-plane messages as lunard parses them: a TCM-USER
 * generic netlink request (netlink_parse(); the input is everything after
 * the netlink header, attributes included) or, when the first byte is odd,
 * a UIO device name ("tcm-user/<hba>/<device>/<cfgstring>",
 * uio_parse_name()).  Whatever parses must come out terminated and within
 * its fields.
 */
#include <linux/netlink.h>
#include <netlink/msg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "runner/control/netlink.h"
#include "runner/control/uio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void parse_netlink(const uint8_t *data, size_t size)
{
	struct nlmsghdr *hdr = calloc(1, NLMSG_HDRLEN + size);
	struct nl_request req;
	struct nl_msg *msg;
	const char *why;

	if (!hdr)
		return;
	hdr->nlmsg_len = (uint32_t)(NLMSG_HDRLEN + size);
	hdr->nlmsg_type = 0x20;
	memcpy((uint8_t *)hdr + NLMSG_HDRLEN, data, size);
	msg = nlmsg_convert(hdr);
	if (msg && netlink_parse(msg, &req, &why) == 0 &&
	    (strnlen(req.device, sizeof(req.device)) == sizeof(req.device) ||
	     strnlen(req.cfgstring, sizeof(req.cfgstring)) == sizeof(req.cfgstring)))
		__builtin_trap();	/* accepted, but not terminated */
	if (msg)
		nlmsg_free(msg);
	free(hdr);
}

static void parse_uio_name(const uint8_t *data, size_t size)
{
	char *name = malloc(size + 1);
	struct uio_identity id;

	if (!name)
		return;
	memcpy(name, data, size);
	name[size] = '\0';
	if (uio_parse_name(name, &id) == 0 &&
	    (strnlen(id.hba, sizeof(id.hba)) == sizeof(id.hba) ||
	     strnlen(id.dev, sizeof(id.dev)) == sizeof(id.dev) ||
	     strnlen(id.cfgstring, sizeof(id.cfgstring)) == sizeof(id.cfgstring)))
		__builtin_trap();
	free(name);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!size)
		return 0;
	if (data[0] & 1)
		parse_uio_name(data + 1, size - 1);
	else
		parse_netlink(data + 1, size - 1);
	return 0;
}
