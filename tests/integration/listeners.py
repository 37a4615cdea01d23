#!/usr/bin/env python3
"""listeners.py PID - prints the sockets a process listens on, one "PROTO HEXADDR PORT" line
each (from /proc/PID/net/*, matched to the process's own socket inodes), so that a test can
check that a server it started listens on loopback only."""
import os
import sys

pid = sys.argv[1]
inodes = set()
for fd in os.listdir("/proc/%s/fd" % pid):
    try:
        link = os.readlink("/proc/%s/fd/%s" % (pid, fd))
    except OSError:
        continue
    if link.startswith("socket:["):
        inodes.add(link[8:-1])
for table in ("tcp", "tcp6", "udp", "udp6"):
    try:
        lines = open("/proc/%s/net/%s" % (pid, table)).read().splitlines()[1:]
    except OSError:
        continue
    for line in lines:
        f = line.split()
        listening = f[3] == "0A" if table.startswith("tcp") else True
        if listening and f[9] in inodes:
            addr, port = f[1].split(":")
            print(table, addr, int(port, 16))
