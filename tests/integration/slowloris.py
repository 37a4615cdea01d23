#!/usr/bin/env python3
"""slowloris.py - many slow clients from one loopback address against one endpoint, while a
normal client from another address scrapes it; prints "ok - " / "not ok - " lines (py_checks).

    slowloris.py PORT N_SLOW EXPECT [--attacker 127.0.0.2] [--scrapes 8] [--seconds 6]

The slow clients connect from --attacker and send a request header one byte every 0.3 s, so
that none of them ever completes and the idle timeout never fires. Meanwhile a scrape from
127.0.0.1 every half second must answer 200 within one second (EXPECT=served), or must not
(EXPECT=blocked: the control run without a per-address limit, which shows that the attack
does take every slot when nothing stops it).
"""
import argparse
import socket
import threading
import time

parser = argparse.ArgumentParser()
parser.add_argument("port", type=int)
parser.add_argument("slow", type=int)
parser.add_argument("expect", choices=["served", "blocked"])
parser.add_argument("--attacker", default="127.0.0.2")
parser.add_argument("--scrapes", type=int, default=8)
parser.add_argument("--seconds", type=float, default=6.0)
args = parser.parse_args()

HEADER = b"GET /metrics HTTP/1.1\r\nHost: x\r\nUser-Agent: slowloris\r\nX-Padding: " + b"a" * 4000
stop = threading.Event()
held = []  # sockets the server accepted and still holds
held_lock = threading.Lock()


def slow_client():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(2)
    try:
        s.bind((args.attacker, 0))
        s.connect(("127.0.0.1", args.port))
    except OSError:
        s.close()
        return
    with held_lock:
        held.append(s)
    i = 0
    while not stop.is_set() and i < len(HEADER):
        try:
            s.send(HEADER[i:i + 1])
        except OSError:
            break  # refused or closed by the server: the per-address limit at work
        i += 1
        stop.wait(0.3)
    with held_lock:
        if s in held:
            held.remove(s)
    s.close()


def scrape():
    """Status of one scrape from 127.0.0.1 with a one-second limit, and its duration."""
    start = time.monotonic()
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(1.0)
    try:
        s.bind(("127.0.0.1", 0))
        s.connect(("127.0.0.1", args.port))
        s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while b"\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        status = data.split(b" ", 2)[1].decode() if data.startswith(b"HTTP/") else "none"
    except OSError as e:
        status = type(e).__name__
    finally:
        s.close()
    return status, time.monotonic() - start


threads = [threading.Thread(target=slow_client, daemon=True) for _ in range(args.slow)]
for t in threads:
    t.start()
time.sleep(1.5)  # every slow client has connected (or been refused) and is trickling
with held_lock:
    open_now = len(held)

results = []
deadline = time.monotonic() + args.seconds
while len(results) < args.scrapes and time.monotonic() < deadline:
    results.append(scrape())
    time.sleep(0.5)
stop.set()
for t in threads:
    t.join(3)

fast = [r for r in results if r[0] == "200" and r[1] < 1.0]
detail = ", ".join("%s/%.3fs" % r for r in results)
print("# %d slow connections from %s, %d still open after 1.5 s; scrapes: %s"
      % (args.slow, args.attacker, open_now, detail))
if args.expect == "served":
    ok = len(results) >= args.scrapes and len(fast) == len(results)
    print("%s - with %d slow clients on %s, %d scrapes from 127.0.0.1 all answer 200 within 1 s"
          % ("ok" if ok else "not ok", args.slow, args.attacker, len(results)))
else:
    ok = len(fast) == 0
    print("%s - control: without a per-address limit, %d slow clients block the scrapes"
          % ("ok" if ok else "not ok", args.slow))
