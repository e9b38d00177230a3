/*
 * INQUIRY: standard data and the VPD pages 00, 80, 83, B0, B1, B2.
 *
 * Identification matches what LIO and tcmu-runner 1.5.4 report for the
 * same device (vendor "LIO-ORG", NAA 6 with OUI 00-14-05 from the unit
 * serial), so multipath initiators group lunard's paths with those of
 * other gateways serving the same LUN.  Unlike 1.5.4, the handler
 * cfgstring is not published as a vendor-specific designator (it can name
 * pools, images and credentials files).
 */
#include <stdio.h>
#include <string.h>

#include "runner/ha_hooks.h"
#include "runner/cmd.h"
#include "runner/device.h"
#include "ops.h"
#include "scsi.h"
#include "scsi_defs.h"
#include "sense.h"

#define VENDOR_ID "LIO-ORG "
#define PRODUCT_ID "TCMU device     "
#define PRODUCT_REV "0002"
#define IEEE_COMPANY_ID 0x001405u

/* Through the eight version descriptors (bytes 58..73). */
#define STD_INQUIRY_LEN 74
#define VERSION_DESCRIPTORS 58
#define VPD_MAX 1024

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * NAA type 6 (IEEE Registered Extended): company id in the first 24 bits
 * after the NAA nibble, then the serial's hex digits, non-hex skipped —
 * the kernel's spc_gen_naa_6h_vendor_specific() layout.
 */
void scsi_make_naa(struct tcmu_device *dev, uint8_t naa[16])
{
	unsigned int nibble = 7;

	memset(naa, 0, 16);
	naa[0] = (uint8_t)(0x60 | ((IEEE_COMPANY_ID >> 20) & 0x0f));
	naa[1] = (uint8_t)(IEEE_COMPANY_ID >> 12);
	naa[2] = (uint8_t)(IEEE_COMPANY_ID >> 4);
	naa[3] = (uint8_t)((IEEE_COMPANY_ID & 0x0f) << 4);
	for (const char *p = device_unit_serial(dev); *p && nibble < 32; p++) {
		int v = hex_value(*p);

		if (v < 0)
			continue;
		if (nibble % 2)
			naa[nibble / 2] |= (uint8_t)v;
		else
			naa[nibble / 2] = (uint8_t)(v << 4);
		nibble++;
	}
}

/*
 * Version descriptors name the standards implemented (the VERSION field
 * only says SPC-4): initiators read SBC-3 there before they rely on the
 * SBC-3 Block Limits page and logical block provisioning.
 */
static const uint16_t version_descriptors[] = {
	0x00a0,		/* SAM-5 */
	0x0460,		/* SPC-4 */
	0x04c0,		/* SBC-3 */
};

static int std_inquiry(struct lunar_cmd *cmd, size_t alloc)
{
	uint8_t buf[STD_INQUIRY_LEN] = { 0 };

	buf[2] = 0x06;				/* SPC-4 */
	buf[3] = 0x02;				/* response data format */
	buf[4] = STD_INQUIRY_LEN - 5;
	buf[5] = 0x08 | ha_inquiry_tpgs(cmd->dev);	/* 3PC | TPGS */
	buf[7] = 0x02;				/* CMDQUE */
	memcpy(buf + 8, VENDOR_ID, 8);
	memcpy(buf + 16, PRODUCT_ID, 16);
	memcpy(buf + 32, PRODUCT_REV, 4);
	for (size_t i = 0; i < ARRAY_SIZE(version_descriptors); i++)
		put_be16(buf + VERSION_DESCRIPTORS + 2 * i,
			 version_descriptors[i]);
	return scsi_reply(cmd, buf, sizeof(buf), alloc);
}

static size_t vpd_supported(struct tcmu_device *dev, uint8_t *p)
{
	static const uint8_t pages[] = { 0x00, 0x80, 0x83, 0xb0, 0xb1, 0xb2 };

	(void)dev;
	memcpy(p, pages, sizeof(pages));
	return sizeof(pages);
}

static size_t vpd_serial(struct tcmu_device *dev, uint8_t *p)
{
	const char *serial = device_unit_serial(dev);
	size_t len = strnlen(serial, sizeof(dev->unit_serial));

	memcpy(p, serial, len);
	return len;
}

static size_t put_designator(uint8_t *p, uint8_t code_set, uint8_t type,
			     const void *id, size_t len)
{
	p[0] = code_set;
	p[1] = type;		/* association: logical unit, PIV 0 */
	p[2] = 0;
	p[3] = (uint8_t)len;
	memcpy(p + 4, id, len);
	return 4 + len;
}

/*
 * NAA and T10 vendor designators, both derived from the unit serial.
 * Without a serial there are none: identical ids on every unserialised
 * device would let multipath merge different LUNs.
 */
static size_t vpd_device_id(struct tcmu_device *dev, uint8_t *p)
{
	const char *serial = device_unit_serial(dev);
	char t10[8 + sizeof(dev->unit_serial)];
	uint8_t naa[16];
	size_t off = 0, t10_len;

	if (!serial[0])
		return 0;
	scsi_make_naa(dev, naa);
	off += put_designator(p + off, 0x01, 0x03, naa, sizeof(naa));
	t10_len = (size_t)snprintf(t10, sizeof(t10), "%s%s", VENDOR_ID, serial);
	if (t10_len > 252)
		t10_len = 252;
	off += put_designator(p + off, 0x02, 0x01, t10, t10_len);
	return off + ha_vpd_port_designators(dev, p + off);
}

static size_t vpd_block_limits(struct tcmu_device *dev, uint8_t *p)
{
	uint32_t max = scsi_max_transfer(dev);
	uint32_t opt = dev->max_xfer_len && dev->max_xfer_len < max ?
		       dev->max_xfer_len : max;

	memset(p, 0, 0x3c);
	p[0] = 0x01;				/* WSNZ */
	p[1] = SCSI_MAX_CAW_BLOCKS;
	put_be32(p + 4, max);			/* MAXIMUM TRANSFER LENGTH */
	put_be32(p + 8, opt);			/* OPTIMAL TRANSFER LENGTH */
	if (dev->unmap_enabled) {
		put_be32(p + 16, scsi_max_unmap_blocks(dev));
		put_be32(p + 20, SCSI_MAX_UNMAP_DESCRIPTORS);
		put_be32(p + 24, dev->opt_unmap_gran);
		put_be32(p + 28, 0x80000000u | dev->unmap_gran_align);
	}
	put_be64(p + 32, SCSI_MAX_WRITE_SAME_BLOCKS);
	return 0x3c;
}

static size_t vpd_characteristics(struct tcmu_device *dev, uint8_t *p)
{
	memset(p, 0, 0x3c);
	put_be16(p, dev->solid_state ? 1 : 0);	/* 1 = non-rotating */
	return 0x3c;
}

static size_t vpd_provisioning(struct tcmu_device *dev, uint8_t *p)
{
	memset(p, 0, 4);
	if (dev->unmap_enabled) {
		/* LBPU, LBPWS, LBPWS10; LBPRZ = 001b; thin provisioned. */
		p[1] = 0x80 | 0x40 | 0x20 | 0x04;
		p[2] = 0x02;
	}
	return 4;
}

struct vpd_page {
	uint8_t code;
	size_t (*fill)(struct tcmu_device *dev, uint8_t *p);
};

static const struct vpd_page vpd_pages[] = {
	{ 0x00, vpd_supported },
	{ 0x80, vpd_serial },
	{ 0x83, vpd_device_id },
	{ 0xb0, vpd_block_limits },
	{ 0xb1, vpd_characteristics },
	{ 0xb2, vpd_provisioning },
};

static int evpd_inquiry(struct lunar_cmd *cmd, uint8_t page, size_t alloc)
{
	uint8_t buf[VPD_MAX] = { 0 };

	for (size_t i = 0; i < sizeof(vpd_pages) / sizeof(vpd_pages[0]); i++) {
		size_t len;

		if (vpd_pages[i].code != page)
			continue;
		len = vpd_pages[i].fill(cmd->dev, buf + 4);
		buf[1] = page;
		put_be16(buf + 2, (uint16_t)len);
		return scsi_reply(cmd, buf, 4 + len, alloc);
	}
	return sense_bad_cdb_field(cmd, 2, -1);
}

int scsi_inquiry(struct lunar_cmd *cmd)
{
	const uint8_t *cdb = cmd->ring.cdb;
	size_t alloc = get_be16(cdb + 3);

	ha_refresh(cmd->dev);		/* TPGS and port designators */
	if (cdb[1] & 0x01)
		return evpd_inquiry(cmd, cdb[2], alloc);
	if (cdb[2])
		return sense_bad_cdb_field(cmd, 2, -1);
	return std_inquiry(cmd, alloc);
}
