# ExaBGP API process used by the test harness (tests/harness/exabgp.ts).
# Appends every JSON line ExaBGP writes to our stdin to argv[1], and forwards every line written to the
# FIFO argv[2] to our stdout, where ExaBGP reads API commands ("announce route ...").
# Exits when ExaBGP closes our stdin.
import os
import select
import sys

log_path, fifo_path = sys.argv[1], sys.argv[2]
try:
    os.mkfifo(fifo_path, 0o600)
except FileExistsError:
    pass
fifo = os.open(fifo_path, os.O_RDWR | os.O_NONBLOCK)
stdin = sys.stdin.fileno()
with open(log_path, "ab", buffering=0) as log:
    pending = b""
    while True:
        ready, _, _ = select.select([stdin, fifo], [], [])
        if stdin in ready:
            chunk = os.read(stdin, 65536)
            if not chunk:
                break
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                if line.strip():
                    log.write(line + b"\n")
        if fifo in ready:
            data = os.read(fifo, 65536)
            if data:
                os.write(1, data)
