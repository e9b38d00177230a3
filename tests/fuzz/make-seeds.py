#!/usr/bin/env python3
"""Write the fuzz targets' seed corpora (tests/fuzz/corpus/<target>/).

The seeds are committed; this script is how they were made, and remakes
them when a target's input format changes.  Each seed is a well-formed
input, so the fuzzer starts from what lunard really receives and mutates
from there.
"""
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# fuzz_ring: size index, mailbox flags, 0 (no hostile mailbox), then ops:
# 0 place(iovs, opcode), 1 poke(off16, n, bytes), 2 head(u32), 3 next,
# 4 complete(index, status), 5 is_idle, 6 resync.
def ring():
    place = lambda iovs, op: bytes([0, iovs, op])
    write("fuzz_ring", "three-in-order", bytes([3, 7, 0]) +
          place(1, 0x28) + place(2, 0x2a) + place(0, 0) +
          bytes([3, 3, 3, 4, 0, 0, 4, 0, 1, 4, 0, 0, 5]))
    write("fuzz_ring", "wrap-through-pad", bytes([0, 7, 0]) +
          (place(3, 0x28) + bytes([3, 4, 0, 0])) * 6 + bytes([5]))
    # 256-byte ring: A at 0, B at 112, a PAD at 224 and C at 0; tail
    # waits on the PAD when the peer turns it into "CMD, len 8".
    write("fuzz_ring", "rewrite-consumed-pad", bytes([1, 7, 0]) +
          place(3, 0x28) + bytes([3, 4, 0, 0]) +
          place(3, 0x28) + bytes([3, 4, 0, 0]) +
          place(3, 0x28) + bytes([3]) +
          bytes([1]) + struct.pack("<H", 128 + 224) + bytes([4, 9, 0, 0, 0]) +
          bytes([4, 0, 1, 5]))
    write("fuzz_ring", "hostile-head", bytes([2, 7, 0]) + place(1, 0x12) +
          bytes([2]) + struct.pack("<I", 0xfffffff8) + bytes([3, 6, 3, 5]))


def cdb(*b, n=None):
    out = bytes(b)
    return out + bytes((n or len(out)) - len(out))


# fuzz_scsi: per command flags (dir = flags % 3: 0 none, 1 out, 2 in;
# 0x80 picks the opcode from a table), cdb length - 1, data length (u16),
# the CDB, the data-out bytes.
def scsi_cmd(direction, c, data=b"", length=None):
    length = len(data) if length is None else length
    return (bytes([direction, len(c) - 1]) + struct.pack("<H", length) + c +
            (data if direction == 1 else b""))


def scsi():
    write("fuzz_scsi", "inquiry-rw", scsi_cmd(2, cdb(0x12, 0, 0, 0, 96, 0), length=96) +
          scsi_cmd(1, cdb(0x2a, 0, 0, 0, 0, 8, 0, 0, 1, 0), b"\xab" * 512) +
          scsi_cmd(2, cdb(0x28, 0, 0, 0, 0, 8, 0, 0, 1, 0), length=512))
    caching = bytes([0x08, 0x12, 0x04]) + bytes(17)
    write("fuzz_scsi", "mode-select", scsi_cmd(1, cdb(0x15, 0x10, 0, 0, 24, 0),
                                              bytes(4) + caching) +
          scsi_cmd(1, cdb(0x55, 0x10, 0, 0, 0, 0, 0, 0, 28, 0), bytes(8) + caching))
    write("fuzz_scsi", "unmap", scsi_cmd(1, cdb(0x42, 0, 0, 0, 0, 0, 0, 0, 24, 0),
                                         bytes([0, 22, 0, 16]) + bytes(4) +
                                         struct.pack(">QI", 8, 16) + bytes(4)))
    caw = cdb(0x89, 0, 0, 0, 0, 0, 0, 0, 0, 16, 0, 0, 0, 1, 0, 0)
    write("fuzz_scsi", "compare-and-write", scsi_cmd(1, caw, bytes(1024)))
    write("fuzz_scsi", "write-same", scsi_cmd(1, cdb(0x41, 0x08, 0, 0, 0, 32, 0, 0, 8, 0),
                                              bytes(512)))
    stpg = bytes(4) + bytes([0x00, 0, 0, 2])
    write("fuzz_scsi", "stpg-rtpg", scsi_cmd(1, cdb(0xa4, 0x0a, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0),
                                             stpg) +
          scsi_cmd(2, cdb(0xa3, 0x0a, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0), length=256))
    seg = bytes([0x02, 0, 0, 0x18, 0, 0, 0, 1, 0, 0, 0, 8]) + struct.pack(">QQ", 0, 64)
    cscd = bytes([0xe4, 0, 0, 0, 0x01, 0x03, 0, 16]) + bytes(16) + bytes([0, 0, 2, 0]) + bytes(4)
    xcopy = bytes([0, 0x18, 0, 0, 0, 32, 0, 0, 0, 0, 0, len(seg), 0, 0, 0, 0]) + cscd + seg
    write("fuzz_scsi", "extended-copy",
          scsi_cmd(1, cdb(0x83, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, len(xcopy), 0, 0), xcopy) +
          scsi_cmd(2, cdb(0x84, 0x03, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0), length=256))
    write("fuzz_scsi", "rsoc-sai", scsi_cmd(2, cdb(0xa3, 0x0c, 0, 0, 0, 0, 0, 0, 16, 0, 0, 0), length=4096) +
          scsi_cmd(2, cdb(0x9e, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0), length=32))


def nla(kind, payload):
    n = 4 + len(payload)
    return struct.pack("<HH", n, kind) + payload + bytes((4 - n % 4) % 4)


# fuzz_netlink: 0 then a genl message body (genlmsghdr + attributes), or
# 1 then a UIO name.
def netlink():
    dev = nla(1, b"user_1/lun0\0")
    ids = nla(2, struct.pack("<I", 0)) + nla(8, struct.pack("<I", 7))
    write("fuzz_netlink", "added", bytes([0]) + bytes([1, 2, 0, 0]) + dev + ids)
    write("fuzz_netlink", "removed", bytes([0]) + bytes([2, 2, 0, 0]) + dev + ids)
    write("fuzz_netlink", "reconfig-cfg", bytes([0]) + bytes([3, 2, 0, 0]) + dev + ids +
          nla(4, b"file//tmp/other\0"))
    write("fuzz_netlink", "reconfig-size", bytes([0]) + bytes([3, 2, 0, 0]) + dev + ids +
          nla(5, struct.pack("<Q", 1 << 30)))
    write("fuzz_netlink", "reconfig-wc", bytes([0]) + bytes([3, 2, 0, 0]) + dev + ids +
          nla(6, b"\x01"))
    write("fuzz_netlink", "uio-name", b"\x01tcm-user/1/lun0/file//var/lib/x.img")
    write("fuzz_netlink", "uio-name-rbd", b"\x01tcm-user/3/disk_1/rbd/rbd/disk_1;osd_op_timeout=30")


# fuzz_cfgstring: 0 runner options, 1 rbd, 2 file, 3 ram; then the string.
def cfgstring():
    write("fuzz_cfgstring", "runner", b"\x00rbd/p/i;tcmur_cmd_time_out=30;osd_op_timeout=5")
    write("fuzz_cfgstring", "rbd-all", b"\x01rbd/pool/ns/image@snap;osd_op_timeout=30;"
          b"conf=/etc/ceph/ceph.conf;id=admin")
    write("fuzz_cfgstring", "rbd-plain", b"\x01rbd/rbd/disk_1")
    write("fuzz_cfgstring", "file", b"\x02file//tmp/lunar-fuzz-x.img;engine=threads")
    write("fuzz_cfgstring", "ram", b"\x03ram/anything")


def config():
    write("fuzz_config", "tcmu.conf", b"# tcmu.conf\nlog_level = 3\n"
          b"log_dir = \"/var/log/tcmu\"\ntcmur_cmd_time_out = 30\n"
          b"failover_budget = 20\nunknown_key = 1\n")


# fuzz_dbus: a serialized GVariant (ss): both strings NUL-terminated, then
# the first one's end offset (one byte while the body is under 256 bytes).
def dbus():
    for name, a, b in (("register", b"glfs", b"glfs/volume@host/path"),
                       ("check-file", b"file//tmp/x.img", b""),
                       ("check-ram", b"ram/x", b"desc")):
        write("fuzz_dbus", name, a + b"\0" + b + b"\0" + bytes([len(a) + 1]))


if __name__ == "__main__":
    for make in (ring, scsi, netlink, cfgstring, config, dbus):
        make()
    sys.exit(0)
