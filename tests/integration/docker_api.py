"""docker_api.py - a stand-in for the Docker Engine API on a unix socket, for the cgroup
input's name resolution (python3 standard library only). dockerd cannot run on the test
machine, so this answers GET /containers/json the way the Engine does (Id, Names with the
leading '/', Image, and the other keys the real answer has).

Usage: python3 docker_api.py SOCKET MODE LOG [ID NAME IMAGE]...
  MODE ok: answer every request; hang: accept and never answer (a wedged daemon).
  Every connection is counted in LOG (one line each), so a test can tell how often sonde
  asked. Runs until killed.
"""

import http.server
import json
import os
import socketserver
import sys
import time


def main():
    path, mode, log = sys.argv[1], sys.argv[2], sys.argv[3]
    rest = sys.argv[4:]
    containers = []
    for i in range(0, len(rest) - 2, 3):
        cid, name, image = rest[i:i + 3]
        containers.append({
            "Id": cid, "Names": ["/" + name], "Image": image,
            "ImageID": "sha256:" + "0" * 64, "Command": "python3 cgroup_burn.py",
            "Created": int(time.time()), "Ports": [], "Labels": {}, "State": "running",
            "Status": "Up 1 second", "HostConfig": {"NetworkMode": "default"},
            "NetworkSettings": {"Networks": {}}, "Mounts": [],
        })
    body = json.dumps(containers).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self):
            with open(log, "a") as f:
                f.write("connection\n")
            if mode == "hang":
                time.sleep(3600)
            super().setup()

        def do_GET(self):
            if self.path.split("?")[0] not in ("/containers/json", "/v1.41/containers/json"):
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Api-Version", "1.41")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, fmt, *args):  # client_address is '' on a unix socket
            pass

    class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
        daemon_threads = True

    if os.path.exists(path):
        os.unlink(path)
    with Server(path, Handler) as server:
        server.serve_forever()


if __name__ == "__main__":
    main()
