#!/usr/bin/env python3
"""An independent reader of the esmlog log format, written from docs/log-format.md alone.

It checks every framing rule, CRC-32C, padding and hash-chain link the document describes, and
prints the events as JSON lines. The end-to-end tests use it to hold the document and the Swift
writer to each other.

    tools/logdump.py DATA_DIR            # one event per line
    tools/logdump.py DATA_DIR --summary  # segment and chain summary
"""
import hashlib
import json
import os
import struct
import sys

import zstandard

MAGIC = b"ESMLOGv1"
HEADER = 96
RECORD = 24


def crc32c(data, crc=0):
    crc ^= 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 & -(crc & 1))
    return crc ^ 0xFFFFFFFF


class LogError(Exception):
    pass


def read_log(data_dir):
    """Yields (segment name, event dict) for every event; raises LogError on any problem."""
    wal = os.path.join(data_dir, "wal")
    names = sorted(n for n in os.listdir(wal) if n.endswith(".seg"))
    chain = bytes(32)
    expected_seq = 1
    summary = []
    for position, name in enumerate(names, start=1):
        index, first = (int(x) for x in name[:-4].split("-"))
        data = open(os.path.join(wal, name), "rb").read()
        if data[:8] != MAGIC or crc32c(data[:92]) != struct.unpack_from("<I", data, 92)[0]:
            raise LogError(f"{name}: bad header")
        version, size, _flags, h_index, h_first, salt, _created = struct.unpack_from("<HHIQQQq", data, 8)
        if (version, size, h_index, h_first) != (1, HEADER, index, first) or index != position:
            raise LogError(f"{name}: header fields disagree")
        if data[48:80] != chain or first != expected_seq:
            raise LogError(f"{name}: does not continue the chain")
        offset, sealed, events, dictionary = HEADER, False, 0, None
        while offset < len(data):
            if sealed:
                raise LogError(f"{name}@{offset}: bytes after the seal")
            length, crc, check = struct.unpack_from("<IIH", data, offset)
            if check != (~(length ^ (length >> 16)) & 0xFFFF) or length < RECORD or offset + length > len(data):
                raise LogError(f"{name}@{offset}: bad length")
            record = data[offset:offset + length]
            if crc32c(record[8:], crc32c(record[0:4], crc32c(struct.pack("<Q", salt)))) != crc:
                raise LogError(f"{name}@{offset}: CRC mismatch")
            kind, codec, seq_offset = struct.unpack_from("<BBI", record, 10)
            body = record[RECORD:]
            if codec == 1:
                body = zstandard.ZstdDecompressor().decompress(body)
            elif codec == 2:
                if dictionary is None:
                    raise LogError(f"{name}@{offset}: dictionary record missing")
                body = zstandard.ZstdDecompressor(dict_data=dictionary).decompress(body)
            elif codec != 0:
                raise LogError(f"{name}@{offset}: unknown codec {codec}")
            link = hashlib.sha256(chain + record[10:16] + body).digest()
            if link[:8] != record[16:24]:
                raise LogError(f"{name}@{offset}: chain link mismatch")
            if kind == 1:
                if first + seq_offset != expected_seq:
                    raise LogError(f"{name}@{offset}: sequence {first + seq_offset}, expected {expected_seq}")
                i = 0
                while i < len(body):
                    (n,) = struct.unpack_from("<I", body, i)
                    event = json.loads(body[i + 4:i + 4 + n])
                    if event["Sequence"] != expected_seq:
                        raise LogError(f"{name}@{offset}: event sequence")
                    expected_seq += 1
                    events += 1
                    yield name, event
                    i += 4 + n
            elif kind == 2:
                n_events, last_seq = struct.unpack_from("<QQ", body, 0)
                if (n_events, last_seq, body[16:48]) != (events, expected_seq - 1, chain):
                    raise LogError(f"{name}@{offset}: seal disagrees")
                sealed = True
            elif kind == 3:
                dictionary = zstandard.ZstdCompressionDict(body)
            else:
                raise LogError(f"{name}@{offset}: unknown kind {kind}")
            chain = link
            offset += length
        summary.append((name, events, sealed))
    read_log.summary = (summary, expected_seq - 1, chain.hex())


def main():
    data_dir = sys.argv[1]
    try:
        for _, event in read_log(data_dir):
            if "--summary" not in sys.argv:
                print(json.dumps(event, sort_keys=True, separators=(",", ":")))
    except LogError as e:
        print(f"problem: {e}", file=sys.stderr)
        return 1
    if "--summary" in sys.argv:
        segments, head, chain = read_log.summary
        for name, events, sealed in segments:
            print(f"{name} events={events} sealed={sealed}")
        print(f"head sequence: {head}")
        print(f"head hash: {chain}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
