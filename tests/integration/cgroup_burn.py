"""cgroup_burn.py - the process the cgroup integration test puts in its containers: it
allocates and touches MIB mebibytes, sends COUNT UDP datagrams of 100 bytes to
10.9.9.2:9 (COUNT 0: none), creates READY, then burns CPU until killed or for at most
120 seconds (python3 standard library only).

Usage: python3 cgroup_burn.py MIB READY COUNT
"""

import socket
import sys
import time


def main():
    mib, ready, count = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    held = bytearray(mib << 20)
    for i in range(0, len(held), 4096):  # touch every page: it is resident, charged
        held[i] = 1
    if count:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for _ in range(count):
            s.sendto(b"x" * 100, ("10.9.9.2", 9))
    with open(ready, "w") as f:
        f.write("%d\n" % len(held))
    end = time.monotonic() + 120
    n = 0
    while time.monotonic() < end:
        n += 1


if __name__ == "__main__":
    main()
