/*
 * MODE SENSE (6/10) and MODE SELECT (6/10).
 *
 * Mode pages: Read-Write Error Recovery (01h), Caching (08h), Control
 * (0Ah), Informational Exceptions Control (1Ch); 3Fh (subpage 00h or FFh)
 * returns all four.  The only changeable parameter is WCE in the Caching
 * page; it is the device's write cache setting (dev->write_cache), so
 * clearing it makes every write write-through (scsi_finish_write()).
 *
 * Page control: default values are the current values (lunar keeps no
 * separate power-on setting: a restart takes WCE from the configfs
 * attribute and the handler's open() again); saved values are not
 * supported.  As SPC-4 asks, the header and block descriptor report current
 * values whatever the page control.
 *
 * MODE SELECT validates the whole parameter list before changing anything:
 * every byte must equal its current value except the changeable WCE bit.
 * A change of WCE is passed to the handler's reconfig() and raises the
 * MODE PARAMETERS CHANGED unit attention.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "runner/cmd.h"
#include "runner/device.h"
#include "runner/handler.h"
#include "runner/log.h"
#include "ops.h"
#include "scsi.h"
#include "scsi_defs.h"
#include "sense.h"

#define PC_CHANGEABLE 1
#define PC_SAVED 3
#define ALL_PAGES 0x3f
#define ALL_SUBPAGES 0xff

#define PAGE_PS 0x80		/* parameters savable (ignored in MODE SELECT) */
#define PAGE_SPF 0x40		/* subpage format */
#define PAGE_CODE_MASK 0x3f

#define DSP_DPOFUA 0x10		/* device-specific parameter */
#define LONGLBA 0x01
#define SHORT_DESC_LEN 8
#define LONG_DESC_LEN 16

#define CACHING_WCE_BYTE 2
#define CACHING_WCE 0x04

/* Largest MODE SENSE reply: 10-byte header, long descriptor, all pages. */
#define MODE_DATA_MAX 128

struct mode_page {
	uint8_t code;
	uint8_t len;			/* PAGE LENGTH: bytes after byte 1 */
	void (*fill)(struct tcmu_device *dev, uint8_t *p);
	const uint8_t *changeable;	/* mask per byte, NULL: nothing */
};

static void fill_none(struct tcmu_device *dev, uint8_t *p)
{
	(void)dev;
	(void)p;
}

static void fill_caching(struct tcmu_device *dev, uint8_t *p)
{
	if (device_write_cache(dev))
		p[CACHING_WCE_BYTE] |= CACHING_WCE;
}

static void fill_control(struct tcmu_device *dev, uint8_t *p)
{
	(void)dev;
	p[2] = 0x02;		/* GLTSD: no implicit log parameter saving */
	p[3] = 0x10;		/* QUEUE ALGORITHM MODIFIER 1: completes out of order */
	p[5] = 0x40;		/* TAS: aborted commands get TASK ABORTED */
	put_be16(p + 8, 0xffff);	/* BUSY TIMEOUT PERIOD: unlimited */
}

static const uint8_t caching_changeable[2 + 0x12] = {
	[CACHING_WCE_BYTE] = CACHING_WCE,
};

/* Ascending page code: the order of the "all pages" reply. */
static const struct mode_page mode_pages[] = {
	{ 0x01, 0x0a, fill_none, NULL },		/* R/W error recovery */
	{ 0x08, 0x12, fill_caching, caching_changeable },
	{ 0x0a, 0x0a, fill_control, NULL },
	{ 0x1c, 0x0a, fill_none, NULL },		/* informational exceptions */
};

#define NR_PAGES (sizeof(mode_pages) / sizeof(mode_pages[0]))

static const struct mode_page *find_page(uint8_t code)
{
	for (size_t i = 0; i < NR_PAGES; i++)
		if (mode_pages[i].code == code)
			return &mode_pages[i];
	return NULL;
}

/* Page pg for page control pc at p.  Returns its size. */
static size_t put_page(struct tcmu_device *dev, const struct mode_page *pg,
		       unsigned int pc, uint8_t *p)
{
	size_t size = 2u + pg->len;

	memset(p, 0, size);
	if (pc != PC_CHANGEABLE)
		pg->fill(dev, p);
	else if (pg->changeable)
		memcpy(p, pg->changeable, size);
	p[0] = pg->code;
	p[1] = pg->len;
	return size;
}

static int highest_bit(uint8_t v)
{
	return 31 - __builtin_clz(v);
}

/*
 * Field offsets of the mode parameter header, (6) and (10).  MODE DATA
 * LENGTH is byte 0 (6) or bytes 0-1 (10); (10) has LONGLBA in byte 4.
 */
struct mode_header {
	uint8_t len;
	uint8_t medium;		/* MEDIUM TYPE */
	uint8_t dsp;		/* DEVICE-SPECIFIC PARAMETER */
	uint8_t bdl;		/* BLOCK DESCRIPTOR LENGTH */
	bool ten;
};

static const struct mode_header header6 = { 4, 1, 2, 3, false };
static const struct mode_header header10 = { 8, 2, 3, 6, true };

static const struct mode_header *header_of(const uint8_t *cdb)
{
	return cdb[0] == MODE_SENSE_10 || cdb[0] == MODE_SELECT_10 ?
	       &header10 : &header6;
}

static size_t put_block_desc(struct tcmu_device *dev, bool is_long,
			     uint8_t *p)
{
	uint64_t n = device_num_lbas(dev);

	if (is_long) {
		memset(p, 0, LONG_DESC_LEN);
		put_be64(p, n);
		put_be32(p + 12, dev->block_size);
		return LONG_DESC_LEN;
	}
	put_be32(p, n > UINT32_MAX ? UINT32_MAX : (uint32_t)n);
	put_be32(p + 4, dev->block_size & 0xffffff);	/* byte 4 reserved */
	return SHORT_DESC_LEN;
}

/* Requested page: NULL for all pages.  OK or a failed status. */
static int check_page_request(struct lunar_cmd *cmd,
			      const struct mode_page **pg)
{
	uint8_t code = cmd->ring.cdb[2] & PAGE_CODE_MASK;
	uint8_t sub = cmd->ring.cdb[3];

	*pg = NULL;
	if (code == ALL_PAGES)
		return sub && sub != ALL_SUBPAGES ?
		       sense_bad_cdb_field(cmd, 3, -1) : TCMU_STS_OK;
	*pg = find_page(code);
	if (!*pg)
		return sense_bad_cdb_field(cmd, 2, 5);
	return sub ? sense_bad_cdb_field(cmd, 3, -1) : TCMU_STS_OK;
}

int scsi_mode_sense(struct lunar_cmd *cmd)
{
	const uint8_t *cdb = cmd->ring.cdb;
	const struct mode_header *h = header_of(cdb);
	bool dbd = cdb[1] & 0x08, llbaa = h->ten && (cdb[1] & 0x10);
	unsigned int pc = cdb[2] >> 6;
	size_t alloc = h->ten ? get_be16(cdb + 7) : cdb[4];
	uint8_t buf[MODE_DATA_MAX] = { 0 };
	const struct mode_page *pg;
	size_t len = h->len, bdl = 0;
	int sts = check_page_request(cmd, &pg);

	if (sts)
		return sts;
	if (pc == PC_SAVED)
		return sense_fail(cmd, ILLEGAL_REQUEST,
				  ASC_SAVING_PARAMETERS_NOT_SUPPORTED);
	if (!dbd)
		bdl = put_block_desc(cmd->dev, llbaa, buf + len);
	len += bdl;
	for (size_t i = 0; i < NR_PAGES; i++)
		if (!pg || pg == &mode_pages[i])
			len += put_page(cmd->dev, &mode_pages[i], pc, buf + len);
	buf[h->dsp] = DSP_DPOFUA;
	if (h->ten) {
		put_be16(buf, (uint16_t)(len - 2));
		buf[4] = bdl == LONG_DESC_LEN ? LONGLBA : 0;
		put_be16(buf + h->bdl, (uint16_t)bdl);
	} else {
		buf[0] = (uint8_t)(len - 1);
		buf[h->bdl] = (uint8_t)bdl;
	}
	return scsi_reply(cmd, buf, len, alloc);
}

/*
 * MODE SELECT parameter list checks.  Field pointers are offsets in the
 * parameter list.
 */

static int bad_list_length(struct lunar_cmd *cmd)
{
	return sense_fail(cmd, ILLEGAL_REQUEST, ASC_PARAMETER_LIST_LENGTH_ERROR);
}

/* Header fields.  Sets *bdl.  OK or a failed status. */
static int check_header(struct lunar_cmd *cmd, const struct mode_header *h,
			const uint8_t *buf, size_t len, size_t *bdl)
{
	uint8_t dsp;

	if (len < h->len)	/* before any byte of the header is read */
		return bad_list_length(cmd);
	dsp = (uint8_t)(buf[h->dsp] & ~DSP_DPOFUA);	/* DPOFUA: echo of SENSE */
	/* MODE DATA LENGTH is reserved in MODE SELECT. */
	if (buf[0] || (h->ten && buf[1]))
		return sense_bad_param_field(cmd, buf[0] ? 0 : 1, -1);
	if (buf[h->medium])
		return sense_bad_param_field(cmd, h->medium, -1);
	if (dsp)	/* WP or reserved bits */
		return sense_bad_param_field(cmd, h->dsp, highest_bit(dsp));
	if (h->ten && (buf[4] & ~LONGLBA))
		return sense_bad_param_field(cmd, 4, highest_bit(buf[4] & ~LONGLBA));
	if (h->ten && buf[5])
		return sense_bad_param_field(cmd, 5, -1);
	*bdl = h->ten ? get_be16(buf + h->bdl) : buf[h->bdl];
	if (*bdl > len - h->len)
		return bad_list_length(cmd);
	if (*bdl && *bdl != (h->ten && (buf[4] & LONGLBA) ? LONG_DESC_LEN :
							  SHORT_DESC_LEN))
		return sense_bad_param_field(cmd, h->bdl, -1);
	return TCMU_STS_OK;
}

/* Field boundaries of the short and long block descriptors. */
static const uint8_t short_desc_fields[] = { 0, 4, 5, SHORT_DESC_LEN };
static const uint8_t long_desc_fields[] = { 0, 8, 12, LONG_DESC_LEN };

static bool all_zero(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i])
			return false;
	return true;
}

/*
 * The block descriptor may only repeat the current geometry; NUMBER OF
 * LOGICAL BLOCKS 0 means "keep the capacity" (SBC-4 6.5.2).  Fields:
 * number of blocks, reserved, block length.
 */
static int check_block_desc(struct lunar_cmd *cmd, const uint8_t *buf,
			    size_t off, size_t bdl)
{
	bool is_long = bdl == LONG_DESC_LEN;
	const uint8_t *f = is_long ? long_desc_fields : short_desc_fields;
	const uint8_t *p = buf + off;
	uint8_t cur[LONG_DESC_LEN];

	put_block_desc(cmd->dev, is_long, cur);
	for (unsigned int i = 0; i < 3; i++) {
		size_t n = (size_t)(f[i + 1] - f[i]);

		if (!i && all_zero(p, n))
			continue;
		if (memcmp(p + f[i], cur + f[i], n))
			return sense_bad_param_field(cmd,
						     (unsigned int)(off + f[i]), -1);
	}
	return TCMU_STS_OK;
}

/*
 * One page at buf + off: its size in *size, the WCE it asks for in *wce
 * (Caching page only).  OK or a failed status.
 */
static int check_page(struct lunar_cmd *cmd, const uint8_t *buf, size_t len,
		      size_t off, size_t *size, int *wce)
{
	const uint8_t *p = buf + off;
	uint8_t cur[MODE_DATA_MAX];
	const struct mode_page *pg;

	if (len - off < 2)
		return bad_list_length(cmd);
	if (p[0] & PAGE_SPF)
		return sense_bad_param_field(cmd, (unsigned int)off, 6);
	pg = find_page(p[0] & PAGE_CODE_MASK);
	if (!pg)
		return sense_bad_param_field(cmd, (unsigned int)off, 5);
	if (p[1] != pg->len)
		return sense_bad_param_field(cmd, (unsigned int)off + 1, -1);
	*size = put_page(cmd->dev, pg, 0, cur);
	if (*size > len - off)
		return bad_list_length(cmd);
	for (size_t i = 2; i < *size; i++) {
		uint8_t diff = (uint8_t)(p[i] ^ cur[i]);

		if (pg->changeable)
			diff &= (uint8_t)~pg->changeable[i];
		if (diff)
			return sense_bad_param_field(cmd, (unsigned int)(off + i),
						     highest_bit(diff));
	}
	if (pg->changeable)
		*wce = !!(p[CACHING_WCE_BYTE] & CACHING_WCE);
	return TCMU_STS_OK;
}

/* The whole list; *wce = requested WCE or -1 if no Caching page. */
static int check_list(struct lunar_cmd *cmd, const uint8_t *buf, size_t len,
		      int *wce, size_t *wce_off)
{
	const struct mode_header *h = header_of(cmd->ring.cdb);
	size_t bdl = 0, off, size = 0;
	int sts;

	*wce = -1;
	sts = check_header(cmd, h, buf, len, &bdl);
	if (!sts && bdl)
		sts = check_block_desc(cmd, buf, h->len, bdl);
	for (off = h->len + bdl; !sts && off < len; off += size) {
		int page_wce = -1;

		sts = check_page(cmd, buf, len, off, &size, &page_wce);
		if (page_wce >= 0) {
			*wce = page_wce;
			*wce_off = off + CACHING_WCE_BYTE;
		}
	}
	return sts;
}

/*
 * Switch the write cache (tcmu_dev_set_write_cache_enabled() semantics)
 * and tell the handler, which may refuse.  field: the WCE byte.
 */
static int set_write_cache(struct lunar_cmd *cmd, bool wce, size_t field)
{
	struct tcmu_device *dev = cmd->dev;
	struct tcmur_handler *ops = dev->handler->ops;
	struct tcmulib_cfg_info cfg = {
		.type = TCMULIB_CFG_WRITE_CACHE,
		.data.write_cache = wce,
	};
	int ret;

	if (wce == device_write_cache(dev))
		return TCMU_STS_OK;
	tcmu_dev_set_write_cache_enabled(dev, wce);
	ret = ops->reconfig ? ops->reconfig(dev, &cfg) : 0;
	if (ret && ret != -EOPNOTSUPP) {
		tcmu_dev_set_write_cache_enabled(dev, !wce);
		lunar_warn(dev, "handler refused to turn the write cache %s: %d",
			   wce ? "on" : "off", ret);
		return sense_bad_param_field(cmd, (unsigned int)field,
					     highest_bit(CACHING_WCE));
	}
	lunar_info(dev, "write cache turned %s by MODE SELECT",
		   wce ? "on" : "off");
	device_raise_ua(dev, UA_MODE_PARAMS_CHANGED);
	return TCMU_STS_OK;
}

int scsi_mode_select(struct lunar_cmd *cmd)
{
	const uint8_t *cdb = cmd->ring.cdb;
	size_t len = cdb[0] == MODE_SELECT_10 ? get_be16(cdb + 7) : cdb[4];
	size_t wce_off = 0;
	uint8_t *buf;
	int sts, wce;

	if (!(cdb[1] & 0x10))		/* PF: only SPC page format */
		return sense_bad_cdb_field(cmd, 1, 4);
	if (cdb[1] & 0x01)		/* SP */
		return sense_fail(cmd, ILLEGAL_REQUEST,
				  ASC_SAVING_PARAMETERS_NOT_SUPPORTED);
	if (!len)
		return TCMU_STS_OK;
	if (len > cmd->data_len)
		return bad_list_length(cmd);
	buf = malloc(len);
	if (!buf)
		return TCMU_STS_NO_RESOURCE;
	scsi_data_out(cmd, buf, len);
	sts = check_list(cmd, buf, len, &wce, &wce_off);
	free(buf);
	if (sts || wce < 0)
		return sts;
	return set_write_cache(cmd, wce, wce_off);
}
