/*
 * The TCMU shared-memory and netlink facts test_uapi_layout.c compares between the
 * kernel's <linux/target_core_user.h> and lunar's runner/ring/tcmu_uapi.h.
 * The two headers cannot share a translation unit (the kernel's brings
 * its own struct iovec), so uapi_kernel.c expands UAPI_LAYOUT() with the
 * kernel header in scope and the test expands it with lunar's.
 *
 * SIZE(type): sizeof(struct type); OFF(type, member): offsetof;
 * MSIZE(type, member): sizeof the member; VAL(expr): a constant or an
 * expression over the header's helpers.
 */
#ifndef LUNAR_TEST_UAPI_LAYOUT_H
#define LUNAR_TEST_UAPI_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#define UAPI_LAYOUT(SIZE, OFF, MSIZE, VAL)				\
	SIZE(iovec)							\
	SIZE(tcmu_mailbox)						\
	OFF(tcmu_mailbox, version)	MSIZE(tcmu_mailbox, version)	\
	OFF(tcmu_mailbox, flags)	MSIZE(tcmu_mailbox, flags)	\
	OFF(tcmu_mailbox, cmdr_off)	MSIZE(tcmu_mailbox, cmdr_off)	\
	OFF(tcmu_mailbox, cmdr_size)	MSIZE(tcmu_mailbox, cmdr_size)	\
	OFF(tcmu_mailbox, cmd_head)	MSIZE(tcmu_mailbox, cmd_head)	\
	OFF(tcmu_mailbox, cmd_tail)	MSIZE(tcmu_mailbox, cmd_tail)	\
	SIZE(tcmu_cmd_entry_hdr)					\
	OFF(tcmu_cmd_entry_hdr, len_op)	MSIZE(tcmu_cmd_entry_hdr, len_op) \
	OFF(tcmu_cmd_entry_hdr, cmd_id)	MSIZE(tcmu_cmd_entry_hdr, cmd_id) \
	OFF(tcmu_cmd_entry_hdr, kflags)	MSIZE(tcmu_cmd_entry_hdr, kflags) \
	OFF(tcmu_cmd_entry_hdr, uflags)	MSIZE(tcmu_cmd_entry_hdr, uflags) \
	SIZE(tcmu_cmd_entry)						\
	OFF(tcmu_cmd_entry, hdr)					\
	OFF(tcmu_cmd_entry, req.iov_cnt) MSIZE(tcmu_cmd_entry, req.iov_cnt) \
	OFF(tcmu_cmd_entry, req.iov_bidi_cnt)				\
	OFF(tcmu_cmd_entry, req.iov_dif_cnt)				\
	OFF(tcmu_cmd_entry, req.cdb_off) MSIZE(tcmu_cmd_entry, req.cdb_off) \
	OFF(tcmu_cmd_entry, req.iov)					\
	OFF(tcmu_cmd_entry, rsp.scsi_status)				\
	MSIZE(tcmu_cmd_entry, rsp.scsi_status)				\
	OFF(tcmu_cmd_entry, rsp.read_len) MSIZE(tcmu_cmd_entry, rsp.read_len) \
	OFF(tcmu_cmd_entry, rsp.sense_buffer)				\
	MSIZE(tcmu_cmd_entry, rsp.sense_buffer)				\
	SIZE(tcmu_tmr_entry)						\
	OFF(tcmu_tmr_entry, hdr)					\
	OFF(tcmu_tmr_entry, tmr_type)	MSIZE(tcmu_tmr_entry, tmr_type)	\
	OFF(tcmu_tmr_entry, cmd_cnt)	MSIZE(tcmu_tmr_entry, cmd_cnt)	\
	OFF(tcmu_tmr_entry, cmd_ids)					\
	VAL(TCMU_MAILBOX_VERSION)					\
	VAL(TCMU_MAILBOX_FLAG_CAP_OOOC)					\
	VAL(TCMU_MAILBOX_FLAG_CAP_READ_LEN)				\
	VAL(TCMU_MAILBOX_FLAG_CAP_TMR)					\
	VAL(TCMU_MAILBOX_FLAG_CAP_KEEP_BUF)				\
	VAL(TCMU_OP_PAD) VAL(TCMU_OP_CMD) VAL(TCMU_OP_TMR)		\
	VAL(TCMU_OP_MASK) VAL(TCMU_OP_ALIGN_SIZE)			\
	VAL(TCMU_UFLAG_UNKNOWN_OP) VAL(TCMU_UFLAG_READ_LEN)		\
	VAL(TCMU_UFLAG_KEEP_BUF)					\
	VAL(TCMU_SENSE_BUFFERSIZE)					\
	VAL(TCMU_TMR_UNKNOWN) VAL(TCMU_TMR_ABORT_TASK)			\
	VAL(TCMU_TMR_ABORT_TASK_SET) VAL(TCMU_TMR_CLEAR_ACA)		\
	VAL(TCMU_TMR_CLEAR_TASK_SET) VAL(TCMU_TMR_LUN_RESET)		\
	VAL(TCMU_TMR_TARGET_WARM_RESET) VAL(TCMU_TMR_TARGET_COLD_RESET)	\
	VAL(TCMU_TMR_LUN_RESET_PRO)					\
	VAL(tcmu_hdr_get_len(0x12345677u))				\
	VAL(tcmu_hdr_get_op(0x12345677u))				\
	VAL(tcmu_hdr_get_len(0xfffffff9u))				\
	VAL(tcmu_hdr_get_op(0xfffffff9u))				\
	VAL(TCMU_CMD_ADDED_DEVICE) VAL(TCMU_CMD_REMOVED_DEVICE)		\
	VAL(TCMU_CMD_RECONFIG_DEVICE) VAL(TCMU_CMD_ADDED_DEVICE_DONE)	\
	VAL(TCMU_CMD_REMOVED_DEVICE_DONE)				\
	VAL(TCMU_CMD_RECONFIG_DEVICE_DONE) VAL(TCMU_CMD_SET_FEATURES)	\
	VAL(TCMU_ATTR_DEVICE) VAL(TCMU_ATTR_MINOR) VAL(TCMU_ATTR_PAD)	\
	VAL(TCMU_ATTR_DEV_CFG) VAL(TCMU_ATTR_DEV_SIZE)			\
	VAL(TCMU_ATTR_WRITECACHE) VAL(TCMU_ATTR_CMD_STATUS)		\
	VAL(TCMU_ATTR_DEVICE_ID) VAL(TCMU_ATTR_SUPP_KERN_CMD_REPLY)	\
	VAL(TCMU_ATTR_MAX)

/*
 * The kernel header's values in UAPI_LAYOUT() order: fills at most max
 * entries of out and returns how many there are.
 */
size_t kernel_uapi_layout(uint64_t *out, size_t max);

#endif
