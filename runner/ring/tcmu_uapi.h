/*
 * The TCMU shared-memory layout of linux/target_core_user.h, restated so it
 * can be used together with <sys/uio.h> (the kernel header brings its own
 * struct iovec, which clashes with glibc's).  tests/unit/test_uapi_layout.c
 * checks every size and offset here against the kernel header.
 */
#ifndef LUNAR_TCMU_UAPI_H
#define LUNAR_TCMU_UAPI_H

#include <stdint.h>
#include <sys/uio.h>

#define TCMU_MAILBOX_VERSION 2
#define TCMU_MAILBOX_FLAG_CAP_OOOC	(1 << 0)
#define TCMU_MAILBOX_FLAG_CAP_READ_LEN	(1 << 1)
#define TCMU_MAILBOX_FLAG_CAP_TMR	(1 << 2)
#define TCMU_MAILBOX_FLAG_CAP_KEEP_BUF	(1 << 3)

struct tcmu_mailbox {
	uint16_t version;
	uint16_t flags;
	uint32_t cmdr_off;
	uint32_t cmdr_size;
	uint32_t cmd_head;
	/* Written by user space; on its own cache line. */
	uint32_t cmd_tail __attribute__((__aligned__(64)));
} __attribute__((packed));

enum tcmu_opcode {
	TCMU_OP_PAD = 0,
	TCMU_OP_CMD,
	TCMU_OP_TMR,
};

#define TCMU_OP_MASK 0x7
#define TCMU_OP_ALIGN_SIZE 8u

#define TCMU_UFLAG_UNKNOWN_OP	0x1
#define TCMU_UFLAG_READ_LEN	0x2
#define TCMU_UFLAG_KEEP_BUF	0x4

struct tcmu_cmd_entry_hdr {
	uint32_t len_op;
	uint16_t cmd_id;
	uint8_t kflags;
	uint8_t uflags;
} __attribute__((packed));

#define TCMU_SENSE_BUFFERSIZE 96

struct tcmu_cmd_entry {
	struct tcmu_cmd_entry_hdr hdr;
	union {
		struct {
			uint32_t iov_cnt;
			uint32_t iov_bidi_cnt;
			uint32_t iov_dif_cnt;
			uint64_t cdb_off;
			uint64_t __pad1;
			uint64_t __pad2;
			struct iovec iov[0];
		} req;
		struct {
			uint8_t scsi_status;
			uint8_t __pad1;
			uint16_t __pad2;
			uint32_t read_len;
			char sense_buffer[TCMU_SENSE_BUFFERSIZE];
		} rsp;
	};
} __attribute__((packed));

#define TCMU_TMR_UNKNOWN		0
#define TCMU_TMR_ABORT_TASK		1
#define TCMU_TMR_ABORT_TASK_SET		2
#define TCMU_TMR_CLEAR_ACA		3
#define TCMU_TMR_CLEAR_TASK_SET		4
#define TCMU_TMR_LUN_RESET		5
#define TCMU_TMR_TARGET_WARM_RESET	6
#define TCMU_TMR_TARGET_COLD_RESET	7
#define TCMU_TMR_LUN_RESET_PRO		128

struct tcmu_tmr_entry {
	struct tcmu_cmd_entry_hdr hdr;
	uint8_t tmr_type;
	uint8_t __pad1;
	uint16_t __pad2;
	uint32_t cmd_cnt;
	uint64_t __pad3;
	uint64_t __pad4;
	uint16_t cmd_ids[];
} __attribute__((packed));

/* Generic netlink family "TCM-USER", multicast group "config". */
#define TCMU_GENL_FAMILY "TCM-USER"
#define TCMU_GENL_MCGRP "config"
#define TCMU_GENL_VERSION 2

enum tcmu_genl_cmd {
	TCMU_CMD_UNSPEC,
	TCMU_CMD_ADDED_DEVICE,
	TCMU_CMD_REMOVED_DEVICE,
	TCMU_CMD_RECONFIG_DEVICE,
	TCMU_CMD_ADDED_DEVICE_DONE,
	TCMU_CMD_REMOVED_DEVICE_DONE,
	TCMU_CMD_RECONFIG_DEVICE_DONE,
	TCMU_CMD_SET_FEATURES,
	__TCMU_CMD_MAX,
};

enum tcmu_genl_attr {
	TCMU_ATTR_UNSPEC,
	TCMU_ATTR_DEVICE,
	TCMU_ATTR_MINOR,
	TCMU_ATTR_PAD,
	TCMU_ATTR_DEV_CFG,
	TCMU_ATTR_DEV_SIZE,
	TCMU_ATTR_WRITECACHE,
	TCMU_ATTR_CMD_STATUS,
	TCMU_ATTR_DEVICE_ID,
	TCMU_ATTR_SUPP_KERN_CMD_REPLY,
	__TCMU_ATTR_MAX,
};
#define TCMU_ATTR_MAX (__TCMU_ATTR_MAX - 1)

static inline uint32_t tcmu_hdr_get_len(uint32_t len_op)
{
	return len_op & ~(uint32_t)TCMU_OP_MASK;
}

static inline uint8_t tcmu_hdr_get_op(uint32_t len_op)
{
	return len_op & TCMU_OP_MASK;
}

static inline uint32_t tcmu_hdr_len_op(uint32_t len, enum tcmu_opcode op)
{
	return (len & ~(uint32_t)TCMU_OP_MASK) | op;
}

#endif
