/*
 * SCSI core over simring with the ram handler: identification, capacity,
 * READ/WRITE in every size, UNMAP, FORMAT UNIT, unit attentions and the
 * malformed variants of each (reserved bits, bad ranges, short buffers,
 * unknown opcodes and service actions).
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/shared/scsi_check.h"
#include "tcmu-runner.h"

#define BS 512
#define SIZE (64ull << 20)
#define NUM_LBAS (SIZE / BS)
#define SERIAL "5e4a2b1c-0102-4000-8000-0123456789ab"

static int setup(void **state)
{
	struct siminit_opts o = {
		.cfgstring = "ram/basic", .size = SIZE, .block_size = BS,
		.max_sectors = 2048, .serial = SERIAL,
	};
	struct siminit *si;

	if (siminit_load_handlers(LUNAR_HANDLER_DIR) || siminit_open(&o, &si))
		return -1;
	*state = si;
	return 0;
}

static void test_inquiry_standard(void **state)
{
	uint8_t cdb[6] = { 0x12, 0, 0, 0, 255, 0 };
	uint8_t buf[255];
	struct scsi_result res;

	memset(buf, 0xaa, sizeof(buf));
	static const uint8_t versions[16] = {
		0x00, 0xa0, 0x04, 0x60, 0x04, 0xc0,	/* SAM-5 SPC-4 SBC-3 */
	};

	memset(buf, 0xaa, sizeof(buf));
	cmd_in(*state, cdb, buf, sizeof(buf), &res);
	assert_good(&res);
	assert_int_equal(res.data_len, 74);
	assert_int_equal(buf[0], 0x00);		/* direct-access block device */
	assert_int_equal(buf[2], 0x06);		/* SPC-4 */
	assert_int_equal(buf[4], 74 - 5);
	assert_true(buf[5] & 0x08);		/* 3PC: EXTENDED COPY */
	assert_true(buf[7] & 0x02);		/* CMDQUE */
	assert_memory_equal(buf + 8, "LIO-ORG TCMU device     0002", 28);
	for (int i = 36; i < 58; i++)
		assert_int_equal(buf[i], 0);
	assert_memory_equal(buf + 58, versions, sizeof(versions));
}

static void test_inquiry_alloc_len(void **state)
{
	uint8_t cdb[6] = { 0x12, 0, 0, 0, 10, 0 };
	uint8_t buf[64];
	struct scsi_result res;

	memset(buf, 0xaa, sizeof(buf));
	cmd_in(*state, cdb, buf, sizeof(buf), &res);
	assert_good(&res);
	/* 10 bytes transferred (READ_LEN), the initiator's rest untouched. */
	assert_int_equal(res.data_len, 10);
	assert_int_equal(buf[10], 0xaa);
}

/*
 * Without READ_LEN support (older kernels) the whole data area goes back
 * to the initiator: what lies past the reply must be zeros, not whatever
 * an earlier command left in those data blocks.
 */
static void test_inquiry_zero_padding_without_read_len(void **state)
{
	struct siminit_opts o = {
		.cfgstring = "ram/noreadlen", .name = "noreadlen",
		.ring = { .mb_flags = 0x1 | 0x4 },	/* OOOC | TMR */
	};
	uint8_t inq[6] = { 0x12, 0, 0, 0, 10, 0 };
	uint8_t buf[4096];
	struct scsi_result res;
	struct siminit *si;

	(void)state;
	assert_int_equal(siminit_open(&o, &si), 0);
	/* Leave non-zero bytes in the data blocks the INQUIRY will reuse. */
	memset(buf, 0x5a, sizeof(buf));
	assert_int_equal(siminit_write(si, 0, 8, buf, &res), 0);
	assert_good(&res);
	memset(buf, 0xaa, sizeof(buf));
	cmd_in(si, inq, buf, sizeof(buf), &res);
	assert_good(&res);
	assert_int_equal(res.data_len, sizeof(buf));
	for (size_t i = 10; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 0);
	siminit_close(si);
}

static void test_inquiry_bad_fields(void **state)
{
	uint8_t page_no_evpd[6] = { 0x12, 0, 0x80, 0, 255, 0 };
	uint8_t cmddt[6] = { 0x12, 0x02, 0, 0, 255, 0 };
	uint8_t bad_page[6] = { 0x12, 0x01, 0x42, 0, 255, 0 };
	uint8_t naca[6] = { 0x12, 0, 0, 0, 255, 0x04 };
	uint8_t buf[255];
	struct scsi_result res;

	cmd_in(*state, page_no_evpd, buf, sizeof(buf), &res);
	assert_sense(&res, 0x05, 0x2400);
	assert_field_pointer(&res, 1, 2);
	cmd_in(*state, cmddt, buf, sizeof(buf), &res);
	assert_sense(&res, 0x05, 0x2400);
	assert_field_pointer(&res, 1, 1);
	cmd_in(*state, bad_page, buf, sizeof(buf), &res);
	assert_sense(&res, 0x05, 0x2400);
	cmd_in(*state, naca, buf, sizeof(buf), &res);
	assert_sense(&res, 0x05, 0x2400);
	assert_field_pointer(&res, 1, 5);
}

static void vpd(struct siminit *si, uint8_t page, uint8_t *buf, size_t len,
		struct scsi_result *res)
{
	uint8_t cdb[6] = { 0x12, 0x01, page, (uint8_t)(len >> 8), (uint8_t)len, 0 };

	cmd_in(si, cdb, buf, len, res);
	assert_good(res);
	assert_int_equal(buf[1], page);
}

static void test_vpd_pages(void **state)
{
	static const uint8_t expected[] = { 0x00, 0x80, 0x83, 0xb0, 0xb1, 0xb2 };
	uint8_t buf[512];
	struct scsi_result res;

	vpd(*state, 0x00, buf, sizeof(buf), &res);
	assert_int_equal(buf[3], sizeof(expected));
	assert_memory_equal(buf + 4, expected, sizeof(expected));

	vpd(*state, 0x80, buf, sizeof(buf), &res);
	assert_int_equal(buf[3], strlen(SERIAL));
	assert_memory_equal(buf + 4, SERIAL, strlen(SERIAL));
}

static void test_vpd_device_identification(void **state)
{
	/* NAA 6, OUI 00-14-05, then the serial's hex digits. */
	static const uint8_t naa[16] = {
		0x60, 0x01, 0x40, 0x55, 0xe4, 0xa2, 0xb1, 0xc0,
		0x10, 0x24, 0x00, 0x08, 0x00, 0x00, 0x12, 0x34,
	};
	uint8_t buf[512];
	struct scsi_result res;

	vpd(*state, 0x83, buf, sizeof(buf), &res);
	assert_int_equal(buf[4], 0x01);		/* binary */
	assert_int_equal(buf[5], 0x03);		/* NAA, logical unit */
	assert_int_equal(buf[7], 16);
	assert_memory_equal(buf + 8, naa, 16);
	assert_int_equal(buf[24], 0x02);	/* ASCII */
	assert_int_equal(buf[25], 0x01);	/* T10 vendor id */
	assert_int_equal(buf[27], 8 + strlen(SERIAL));
	assert_memory_equal(buf + 28, "LIO-ORG " SERIAL, 8 + strlen(SERIAL));
	assert_int_equal(buf[2] << 8 | buf[3], 20 + 4 + 8 + strlen(SERIAL));
}

static void test_vpd_block_limits(void **state)
{
	uint8_t buf[512];
	struct scsi_result res;

	memset(buf, 0xaa, sizeof(buf));
	vpd(*state, 0xb0, buf, sizeof(buf), &res);
	assert_int_equal(buf[2] << 8 | buf[3], 0x3c);
	assert_int_equal(res.data_len, 0x40);
	assert_int_equal(buf[4] & 0x01, 1);		/* WSNZ */
	assert_int_equal(buf[5], 1);			/* MAX COMPARE AND WRITE */
	/* The 1 GiB data area in blocks; hw_max_sectors is the optimum. */
	assert_int_equal(be32(buf + 8), (1u << 30) / BS); /* MAX TRANSFER */
	assert_int_equal(be32(buf + 12), 2048);		/* OPTIMAL TRANSFER */
	/* The handler's 32 Mi blocks per call, capped per command. */
	assert_int_equal(be32(buf + 20), 1u << 20);	/* MAX UNMAP LBA */
	assert_int_equal(be32(buf + 24), 32);		/* MAX UNMAP DESCRIPTORS */
	assert_true(be32(buf + 32) & 0x80000000u);	/* UGAVALID */
	assert_int_equal(be64(buf + 36), 0xffff);	/* MAX WRITE SAME */
}

static void test_vpd_characteristics_and_provisioning(void **state)
{
	uint8_t buf[512];
	struct scsi_result res;

	vpd(*state, 0xb1, buf, sizeof(buf), &res);
	assert_int_equal(buf[2] << 8 | buf[3], 0x3c);
	vpd(*state, 0xb2, buf, sizeof(buf), &res);
	assert_int_equal(buf[3], 4);
	assert_int_equal(buf[5] & 0xe0, 0xe0);		/* LBPU LBPWS LBPWS10 */
	assert_int_equal(buf[5] & 0x1c, 0x04);		/* LBPRZ 001b */
	assert_int_equal(buf[6] & 0x07, 0x02);		/* thin */
}

static void test_read_capacity(void **state)
{
	uint8_t rc10[10] = { 0x25 };
	uint8_t rc10_pmi[10] = { 0x25, 0, 0, 0, 0, 0, 0, 0, 0x01, 0 };
	uint8_t rc16[16] = { 0x9e, 0x10, [13] = 32 };
	uint8_t buf[32];
	struct scsi_result res;

	cmd_in(*state, rc10, buf, 8, &res);
	assert_good(&res);
	assert_int_equal(be32(buf), NUM_LBAS - 1);
	assert_int_equal(be32(buf + 4), BS);
	cmd_in(*state, rc10_pmi, buf, 8, &res);
	assert_sense(&res, 0x05, 0x2400);

	cmd_in(*state, rc16, buf, sizeof(buf), &res);
	assert_good(&res);
	assert_int_equal(be64(buf), NUM_LBAS - 1);
	assert_int_equal(be32(buf + 8), BS);
	assert_int_equal(buf[14] & 0xc0, 0xc0);		/* LBPME LBPRZ */
}

static void fill(uint8_t *p, size_t len, unsigned int seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(seed + i * 31 + (i >> 9));
}

static void test_rw_all_sizes(void **state)
{
	static const struct { uint8_t rd, wr, len; } ops[] = {
		{ 0x08, 0x0a, 6 }, { 0x28, 0x2a, 10 }, { 0xa8, 0xaa, 12 },
		{ 0x88, 0x8a, 16 },
	};
	uint8_t out[4 * BS], in[4 * BS];
	struct scsi_result res;

	for (unsigned int i = 0; i < 4; i++) {
		uint8_t cdb[16] = { 0 };
		uint32_t lba = 1000 + i * 10;

		switch (ops[i].len) {
		case 6:
			cdb[1] = (uint8_t)(lba >> 16); cdb[2] = (uint8_t)(lba >> 8);
			cdb[3] = (uint8_t)lba; cdb[4] = 4;
			break;
		case 10:
			cdb[2] = (uint8_t)(lba >> 24); cdb[3] = (uint8_t)(lba >> 16);
			cdb[4] = (uint8_t)(lba >> 8); cdb[5] = (uint8_t)lba; cdb[8] = 4;
			break;
		case 12:
			cdb[4] = (uint8_t)(lba >> 8); cdb[5] = (uint8_t)lba; cdb[9] = 4;
			break;
		default:
			cdb[8] = (uint8_t)(lba >> 8); cdb[9] = (uint8_t)lba; cdb[13] = 4;
		}
		fill(out, sizeof(out), i);
		cdb[0] = ops[i].wr;
		cmd_out(*state, cdb, out, sizeof(out), &res);
		assert_good(&res);
		cdb[0] = ops[i].rd;
		memset(in, 0, sizeof(in));
		cmd_in(*state, cdb, in, sizeof(in), &res);
		assert_good(&res);
		assert_memory_equal(in, out, sizeof(out));
	}
}

static void test_rw6_zero_length_means_256(void **state)
{
	uint8_t w6[6] = { 0x0a, 0, 0x10, 0, 0, 0 };
	uint8_t r6[6] = { 0x08, 0, 0x10, 0, 0, 0 };
	uint8_t *out = malloc(256 * BS), *in = malloc(256 * BS);
	struct scsi_result res;

	fill(out, 256 * BS, 9);
	cmd_out(*state, w6, out, 256 * BS, &res);
	assert_good(&res);
	cmd_in(*state, r6, in, 256 * BS, &res);
	assert_good(&res);
	assert_memory_equal(in, out, 256 * BS);
	free(out);
	free(in);
}

static void test_rw_out_of_range(void **state)
{
	uint8_t buf[2 * BS];
	struct scsi_result res;

	assert_int_equal(siminit_read(*state, NUM_LBAS - 1, 2, buf, &res), 0);
	assert_sense(&res, 0x05, 0x2100);
	assert_int_equal(siminit_write(*state, NUM_LBAS, 1, buf, &res), 0);
	assert_sense(&res, 0x05, 0x2100);
	/* LBA + length overflowing 64 bits. */
	assert_int_equal(siminit_read(*state, UINT64_MAX, 2, buf, &res), 0);
	assert_sense(&res, 0x05, 0x2100);
	/* The last block and a zero-length transfer at the end are fine. */
	assert_int_equal(siminit_read(*state, NUM_LBAS - 1, 1, buf, &res), 0);
	assert_good(&res);
	assert_int_equal(siminit_read(*state, NUM_LBAS, 0, buf, &res), 0);
	assert_good(&res);
}

static void test_rw_malformed(void **state)
{
	uint8_t rdprotect[16] = { 0x88, 0x20, [13] = 1 };
	uint8_t reserved10[10] = { 0x28, 0x04, 0, 0, 0, 0, 0, 0, 1, 0 };
	uint8_t short_buf[16] = { 0x8a, 0, [13] = 4 };
	uint8_t buf[4 * BS] = { 0 };
	struct scsi_result res;

	cmd_in(*state, rdprotect, buf, BS, &res);
	assert_sense(&res, 0x05, 0x2400);
	assert_field_pointer(&res, 1, 1);
	cmd_in(*state, reserved10, buf, BS, &res);
	assert_sense(&res, 0x05, 0x2400);
	assert_field_pointer(&res, 1, 1);
	/* Data-out buffer smaller than the transfer length says. */
	cmd_out(*state, short_buf, buf, 2 * BS, &res);
	assert_sense(&res, 0x05, 0x2400);
	assert_field_pointer(&res, 1, 10);
}

static void test_read_into_larger_buffer_reports_length(void **state)
{
	uint8_t cdb[16] = { 0x88, [13] = 1 };
	uint8_t buf[4 * BS];
	struct scsi_result res;

	memset(buf, 0xaa, sizeof(buf));
	cmd_in(*state, cdb, buf, sizeof(buf), &res);
	assert_good(&res);
	assert_int_equal(res.data_len, BS);
}

/*
 * A data-in buffer shorter than the transfer (iSCSI expected length below
 * the CDB's) gets what fits, GOOD: the rest is the transport's overflow.
 */
static void test_read_into_shorter_buffer(void **state)
{
	uint8_t read4[16] = { 0x88, [9] = 40, [13] = 4 };
	uint8_t read2[10] = { 0x28, 0, 0, 0, 0, 40, 0, 0, 2, 0 };
	uint8_t data[4 * BS], buf[4 * BS];
	struct scsi_result res;

	fill(data, sizeof(data), 11);
	assert_int_equal(siminit_write(*state, 40, 4, data, &res), 0);
	assert_good(&res);
	memset(buf, 0xaa, sizeof(buf));
	cmd_in(*state, read4, buf, 200, &res);
	assert_good(&res);
	assert_int_equal(res.data_len, 200);
	assert_memory_equal(buf, data, 200);
	assert_int_equal(buf[200], 0xaa);
	cmd_in(*state, read2, buf, BS, &res);
	assert_good(&res);
	assert_int_equal(res.data_len, BS);
	assert_memory_equal(buf, data, BS);
	/* No buffer at all: nothing to transfer, still GOOD. */
	cmd_none(*state, read4, &res);
	assert_good(&res);
	/* The range is still checked as the CDB gives it. */
	read4[9] = 0;
	read4[2] = 0xff;
	cmd_in(*state, read4, buf, BS, &res);
	assert_sense(&res, 0x05, 0x2100);
}

/*
 * MAXIMUM TRANSFER LENGTH is what the ring's data area carries, not
 * hw_max_sectors (the optimum): longer transfers than hw_max_sectors are
 * served, longer than the data area are refused.
 */
static void test_max_transfer_is_the_data_area(void **state)
{
	struct siminit_opts o = {
		.cfgstring = "ram/small-ring", .name = "smallring",
		.size = 1ull << 20, .max_sectors = 128,
		.ring = { .data_blocks = 64 },	/* 256 KiB: 512 blocks */
	};
	uint8_t vpd_b0[6] = { 0x12, 0x01, 0xb0, 0, 64, 0 };
	uint8_t verify[16] = { 0x8f, [12] = 0x02, [13] = 0x01 }; /* 513 */
	uint8_t *buf = malloc(512 * BS);
	struct scsi_result res;
	struct siminit *si;

	(void)state;
	assert_non_null(buf);
	assert_int_equal(siminit_open(&o, &si), 0);
	cmd_in(si, vpd_b0, buf, 64, &res);
	assert_good(&res);
	assert_int_equal(be32(buf + 8), 512);		/* MAX TRANSFER */
	assert_int_equal(be32(buf + 12), 128);		/* OPTIMAL TRANSFER */
	fill(buf, 512 * BS, 12);
	assert_int_equal(siminit_write(si, 100, 512, buf, &res), 0);
	assert_good(&res);
	assert_int_equal(siminit_read(si, 100, 512, buf, &res), 0);
	assert_good(&res);
	/* VERIFY moves no data, so the ring would carry it: the limit holds. */
	cmd_none(si, verify, &res);
	assert_sense(&res, 0x05, 0x2400);
	assert_field_pointer(&res, 1, 10);
	verify[12] = 0x02;
	verify[13] = 0x00;
	cmd_none(si, verify, &res);
	assert_good(&res);
	siminit_close(si);
	free(buf);
}

static void test_fua_write_and_sync_cache(void **state)
{
	uint8_t w10_fua[10] = { 0x2a, 0x08, 0, 0, 0, 5, 0, 0, 1, 0 };
	uint8_t sync10[10] = { 0x35 };
	uint8_t sync16_range[16] = { 0x91, 0, [9] = 1, [13] = 1 };
	uint8_t sync16_bad[16] = { 0x91, 0, [2] = 0xff };
	uint8_t buf[BS] = { 1 };
	struct scsi_result res;

	cmd_out(*state, w10_fua, buf, BS, &res);
	assert_good(&res);
	cmd_none(*state, sync10, &res);
	assert_good(&res);
	cmd_none(*state, sync16_range, &res);
	assert_good(&res);
	cmd_none(*state, sync16_bad, &res);
	assert_sense(&res, 0x05, 0x2100);
}

static void unmap_cmd(struct siminit *si, uint8_t *param, size_t len,
		      struct scsi_result *res)
{
	uint8_t cdb[10] = { 0x42, 0, 0, 0, 0, 0, 0, (uint8_t)(len >> 8),
			    (uint8_t)len, 0 };

	cmd_out(si, cdb, param, len, res);
}

static void put_desc(uint8_t *d, uint64_t lba, uint32_t n)
{
	for (int i = 0; i < 8; i++)
		d[i] = (uint8_t)(lba >> (56 - 8 * i));
	for (int i = 0; i < 4; i++)
		d[8 + i] = (uint8_t)(n >> (24 - 8 * i));
}

static void test_unmap(void **state)
{
	uint8_t param[8 + 2 * 16] = { 0, 38, 0, 32 };
	uint8_t buf[8 * BS], zero[8 * BS] = { 0 };
	struct scsi_result res;

	fill(buf, sizeof(buf), 3);
	assert_int_equal(siminit_write(*state, 2000, 8, buf, &res), 0);
	assert_int_equal(siminit_write(*state, 3000, 8, buf, &res), 0);
	put_desc(param + 8, 2000, 8);
	put_desc(param + 24, 3002, 4);
	unmap_cmd(*state, param, sizeof(param), &res);
	assert_good(&res);
	assert_int_equal(siminit_read(*state, 2000, 8, buf, &res), 0);
	assert_memory_equal(buf, zero, sizeof(buf));
	assert_int_equal(siminit_read(*state, 3000, 8, buf, &res), 0);
	assert_memory_equal(buf + 2 * BS, zero, 4 * BS);
	assert_memory_not_equal(buf, zero, 2 * BS);
	assert_memory_not_equal(buf + 6 * BS, zero, 2 * BS);
}

static void test_unmap_malformed(void **state)
{
	uint8_t param[8 + 33 * 16] = { 0 };
	uint8_t anchor[10] = { 0x42, 0x01, 0, 0, 0, 0, 0, 0, 24, 0 };
	struct scsi_result res;

	/* Parameter list shorter than the header. */
	unmap_cmd(*state, param, 4, &res);
	assert_sense(&res, 0x05, 0x1a00);
	/* Descriptor past the end. */
	param[3] = 16;
	put_desc(param + 8, NUM_LBAS - 2, 4);
	unmap_cmd(*state, param, 24, &res);
	assert_sense(&res, 0x05, 0x2100);
	/* More descriptors than VPD B0 allows. */
	param[2] = (33 * 16) >> 8;
	param[3] = (uint8_t)(33 * 16);
	for (int i = 0; i < 33; i++)
		put_desc(param + 8 + i * 16, (uint64_t)i * 8, 1);
	unmap_cmd(*state, param, sizeof(param), &res);
	assert_sense(&res, 0x05, 0x2600);
	/* ANCHOR is not supported. */
	cmd_out(*state, anchor, param, 24, &res);
	assert_sense(&res, 0x05, 0x2400);
	/* Zero-length parameter list: nothing to do. */
	unmap_cmd(*state, param, 0, &res);
	assert_good(&res);
}

/*
 * MAXIMUM UNMAP LBA COUNT bounds the blocks of all descriptors together
 * (SBC-4): two descriptors each within the limit may not exceed it.
 */
static void test_unmap_total_limit(void **state)
{
	struct tcmu_device *dev = siminit_device(*state);
	uint8_t param[8 + 2 * 16] = { 0, 38, 0, 32 };
	uint8_t vpd_b0[6] = { 0x12, 0x01, 0xb0, 0, 64, 0 }, buf[64];
	uint32_t saved = tcmu_dev_get_max_unmap_len(dev);
	struct scsi_result res;

	tcmu_dev_set_max_unmap_len(dev, 100);
	cmd_in(*state, vpd_b0, buf, sizeof(buf), &res);
	assert_good(&res);
	assert_int_equal(be32(buf + 20), 100);
	put_desc(param + 8, 4000, 60);
	put_desc(param + 24, 5000, 40);
	unmap_cmd(*state, param, sizeof(param), &res);
	assert_good(&res);
	put_desc(param + 24, 5000, 41);
	unmap_cmd(*state, param, sizeof(param), &res);
	assert_sense(&res, 0x05, 0x2600);
	assert_field_pointer(&res, 0, 8 + 16 + 8);
	tcmu_dev_set_max_unmap_len(dev, saved);
}

static void test_unknown_opcode_and_service_action(void **state)
{
	uint8_t unknown[10] = { 0xc9 };
	uint8_t bad_sa[16] = { 0x9e, 0x1f, [13] = 32 };
	uint8_t buf[32];
	struct scsi_result res;

	cmd_none(*state, unknown, &res);
	assert_sense(&res, 0x05, 0x2000);
	cmd_in(*state, bad_sa, buf, sizeof(buf), &res);
	assert_sense(&res, 0x05, 0x2400);
	assert_field_pointer(&res, 1, 1);
}

static void test_tur_start_stop_request_sense(void **state)
{
	uint8_t tur[6] = { 0 };
	uint8_t stop[6] = { 0x1b, 0, 0, 0, 0x00, 0 };
	uint8_t loej[6] = { 0x1b, 0, 0, 0, 0x02, 0 };
	uint8_t power[6] = { 0x1b, 0, 0, 0, 0x30, 0 };
	uint8_t rs[6] = { 0x03, 0, 0, 0, 18, 0 };
	uint8_t rs_desc[6] = { 0x03, 0x01, 0, 0, 18, 0 };
	uint8_t buf[18];
	struct scsi_result res;

	cmd_none(*state, tur, &res);
	assert_good(&res);
	cmd_none(*state, stop, &res);
	assert_good(&res);
	cmd_none(*state, loej, &res);
	assert_sense(&res, 0x05, 0x2400);
	cmd_none(*state, power, &res);
	assert_sense(&res, 0x05, 0x2400);
	cmd_in(*state, rs, buf, sizeof(buf), &res);
	assert_good(&res);
	assert_int_equal(buf[0], 0x70);
	assert_int_equal(buf[2], 0);
	cmd_in(*state, rs_desc, buf, sizeof(buf), &res);
	assert_sense(&res, 0x05, 0x2400);
}

static void test_capacity_change_unit_attention(void **state)
{
	struct siminit *si = *state;
	struct tcmu_device *dev = siminit_device(si);
	uint8_t tur[6] = { 0 };
	uint8_t inq[6] = { 0x12, 0, 0, 0, 36, 0 };
	uint8_t rc16[16] = { 0x9e, 0x10, [13] = 32 };
	uint8_t buf[36];
	struct scsi_result res;

	assert_int_equal(tcmur_dev_update_size(dev, SIZE * 2), 0);
	/* INQUIRY neither reports nor consumes the unit attention... */
	cmd_in(si, inq, buf, sizeof(buf), &res);
	assert_good(&res);
	/* ...the next other command does, once. */
	cmd_none(si, tur, &res);
	assert_sense(&res, 0x06, 0x2a09);
	cmd_none(si, tur, &res);
	assert_good(&res);
	cmd_in(si, rc16, buf, 32, &res);
	assert_good(&res);
	assert_int_equal(be64(buf), 2 * NUM_LBAS - 1);
	assert_int_equal(tcmur_dev_update_size(dev, SIZE), 0);
	cmd_none(si, tur, &res);
	assert_sense(&res, 0x06, 0x2a09);
}

static void test_format_unit(void **state)
{
	uint8_t fmt[6] = { 0x04 };
	uint8_t buf[8 * BS], zero[8 * BS] = { 0 };
	struct scsi_result res;

	fill(buf, sizeof(buf), 5);
	assert_int_equal(siminit_write(*state, 5000, 8, buf, &res), 0);
	cmd_none(*state, fmt, &res);
	assert_good(&res);
	assert_int_equal(siminit_read(*state, 5000, 8, buf, &res), 0);
	assert_good(&res);
	assert_memory_equal(buf, zero, sizeof(buf));
}

static void test_format_unit_immediate_reports_progress(void **state)
{
	struct siminit_opts o = {
		.cfgstring = "ram/fmt", .name = "fmt", .size = 256ull << 20,
		.block_size = 4096, .max_sectors = 256,
	};
	uint8_t fmt[6] = { 0x04, 0x10 };	/* FMTDATA */
	uint8_t hdr[4] = { 0, 0x02, 0, 0 };	/* IMMED */
	uint8_t tur[6] = { 0 }, rs[6] = { 0x03, 0, 0, 0, 18, 0 };
	uint8_t sense[18];
	struct scsi_result res;
	struct siminit *si;
	bool saw_progress = false;

	(void)state;
	assert_int_equal(siminit_open(&o, &si), 0);
	/* Write zeros rather than unmap, so the format takes a while. */
	tcmu_dev_set_unmap_enabled(siminit_device(si), false);
	cmd_out(si, fmt, hdr, sizeof(hdr), &res);
	assert_good(&res);
	for (int i = 0; i < 100000; i++) {
		cmd_none(si, tur, &res);
		if (res.status == STATUS_GOOD)
			break;
		assert_sense(&res, 0x02, 0x0404);
		assert_true(res.sense[15] & 0x80);
		cmd_in(si, rs, sense, sizeof(sense), &res);
		assert_good(&res);
		if ((sense[2] & 0x0f) == 0x02) {
			assert_int_equal(sense[12] << 8 | sense[13], 0x0404);
			saw_progress = true;
		}
	}
	assert_true(saw_progress);
	assert_int_equal(res.status, STATUS_GOOD);
	siminit_close(si);
}

static void test_format_unit_bad_parameters(void **state)
{
	uint8_t fmt[6] = { 0x04, 0x10 };
	uint8_t fov[4] = { 0, 0x80, 0, 0 };
	uint8_t defects[4] = { 0, 0, 0, 8 };
	uint8_t pinfo[6] = { 0x04, 0x40 };
	struct scsi_result res;

	cmd_out(*state, fmt, fov, sizeof(fov), &res);
	assert_sense(&res, 0x05, 0x2600);
	assert_field_pointer(&res, 0, 1);
	cmd_out(*state, fmt, defects, sizeof(defects), &res);
	assert_sense(&res, 0x05, 0x2600);
	cmd_out(*state, fmt, fov, 2, &res);
	assert_sense(&res, 0x05, 0x1a00);
	cmd_none(*state, pinfo, &res);
	assert_sense(&res, 0x05, 0x2400);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inquiry_standard),
		cmocka_unit_test(test_inquiry_alloc_len),
		cmocka_unit_test(test_inquiry_zero_padding_without_read_len),
		cmocka_unit_test(test_inquiry_bad_fields),
		cmocka_unit_test(test_vpd_pages),
		cmocka_unit_test(test_vpd_device_identification),
		cmocka_unit_test(test_vpd_block_limits),
		cmocka_unit_test(test_vpd_characteristics_and_provisioning),
		cmocka_unit_test(test_read_capacity),
		cmocka_unit_test(test_rw_all_sizes),
		cmocka_unit_test(test_rw6_zero_length_means_256),
		cmocka_unit_test(test_rw_out_of_range),
		cmocka_unit_test(test_rw_malformed),
		cmocka_unit_test(test_read_into_larger_buffer_reports_length),
		cmocka_unit_test(test_read_into_shorter_buffer),
		cmocka_unit_test(test_max_transfer_is_the_data_area),
		cmocka_unit_test(test_fua_write_and_sync_cache),
		cmocka_unit_test(test_unmap),
		cmocka_unit_test(test_unmap_malformed),
		cmocka_unit_test(test_unmap_total_limit),
		cmocka_unit_test(test_unknown_opcode_and_service_action),
		cmocka_unit_test(test_tur_start_stop_request_sense),
		cmocka_unit_test(test_capacity_change_unit_attention),
		cmocka_unit_test(test_format_unit),
		cmocka_unit_test(test_format_unit_immediate_reports_progress),
		cmocka_unit_test(test_format_unit_bad_parameters),
	};

	return cmocka_run_group_tests(tests, setup, close_lun_state);
}
