#!/usr/bin/env python3
# mon.py SOCK "hmp command": send one HMP command to a qemu monitor socket
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.settimeout(2)
time.sleep(0.2)
try:
    s.recv(4096)
except OSError:
    pass
s.sendall((sys.argv[2] + "\n").encode())
time.sleep(0.3)
try:
    print(s.recv(4096).decode(errors="replace").strip().splitlines()[-1:])
except OSError:
    pass
s.close()
