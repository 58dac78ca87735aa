#!/usr/bin/env python3
"""A point-to-point link with latency between two network namespaces.

This kernel has no sch_netem, and a TCP proxy cannot carry FTP (data connections use other ports
and, in active mode, go the other way), so the delay is made in user space: a TUN device in each
namespace, and this process moving every IP packet from one device to the other after holding it
for half the round-trip time. Both devices belong to this process: they disappear when it exits.

usage: delay.py NS_A NS_B ONE_WAY_DELAY_MS [DEVICE_NAME]
Prints "ready" on stdout once both devices exist; the caller then gives them addresses.
"""
import collections
import ctypes
import fcntl
import os
import select
import signal
import struct
import sys
import time

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000
CLONE_NEWNET = 0x40000000
MAX_PACKET = 65536

libc = ctypes.CDLL(None, use_errno=True)


def enter_netns(name):
    fd = os.open(f"/run/netns/{name}", os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"setns({name}): {os.strerror(err)}")
    finally:
        os.close(fd)


def open_tun(name):
    # The device is created in the namespace this thread is in when TUNSETIFF runs.
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TUN | IFF_NO_PI))
    return fd


def main():
    ns_a, ns_b, one_way_ms = sys.argv[1], sys.argv[2], float(sys.argv[3])
    dev = sys.argv[4] if len(sys.argv) > 4 else "dly0"
    original = os.open("/proc/self/ns/net", os.O_RDONLY)
    enter_netns(ns_a)
    fd_a = open_tun(dev)
    enter_netns(ns_b)
    fd_b = open_tun(dev)
    libc.setns(original, CLONE_NEWNET)
    os.close(original)

    delay = one_way_ms / 1000.0
    peer = {fd_a: fd_b, fd_b: fd_a}
    # One FIFO per direction: the delay is constant, so packets leave in the order they came.
    queues = {fd_a: collections.deque(), fd_b: collections.deque()}
    poller = select.epoll()
    poller.register(fd_a, select.EPOLLIN)
    poller.register(fd_b, select.EPOLLIN)

    running = True

    def stop(*_):
        nonlocal running
        running = False

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print("ready", flush=True)

    while running:
        now = time.monotonic()
        due = min((q[0][0] for q in queues.values() if q), default=None)
        timeout = -1 if due is None else max(0.0, due - now)
        try:
            events = poller.poll(timeout)
        except InterruptedError:
            continue
        now = time.monotonic()
        for fd, _ in events:
            # Drain what is there; each packet gets its own release time.
            while True:
                try:
                    packet = os.read(fd, MAX_PACKET)
                except BlockingIOError:
                    break
                if delay <= 0:
                    write_packet(peer[fd], packet)
                else:
                    queues[fd].append((now + delay, packet))
        now = time.monotonic()
        for fd, queue in queues.items():
            while queue and queue[0][0] <= now:
                write_packet(peer[fd], queue.popleft()[1])


def write_packet(fd, packet):
    try:
        os.write(fd, packet)
    except (BlockingIOError, OSError):
        pass  # a full or vanished device drops the packet, as a real link would


if __name__ == "__main__":
    main()
