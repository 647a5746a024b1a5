"""Discovery amplification: bytes the device sends per byte a (possibly spoofed) source
sends it, for findhost and SSDP, on loopback, against a real device process.

For each protocol: one query (the factor a single packet gets), then a flood of 200 queries
from one source address (what the per-source limit leaves of it). The baseline is 1.0: a
reflector that answered every query with a copy of itself.

    python bench/amplification.py
"""

from __future__ import annotations

import socket
import tempfile
import time
from pathlib import Path

from openstation.discovery import findhost
from openstation.testing import DeviceProcess

SSDP_ALL = (b"M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\n"
            b'MAN: "ssdp:discover"\r\nMX: 1\r\nST: ssdp:all\r\n\r\n')
FLOOD = 200


def exchange(port: int, packet: bytes, count: int, source: str) -> tuple[int, int, int]:
    """(bytes sent, bytes received, datagrams received) for `count` copies of `packet`."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((source, 0))
        sock.settimeout(0.5)
        for _ in range(count):
            sock.sendto(packet, ("127.0.0.1", port))
            time.sleep(0.001)
        received = answers = 0
        try:
            while True:
                data, _ = sock.recvfrom(65536)
                received += len(data)
                answers += 1
        except TimeoutError:
            pass
    return len(packet) * count, received, answers


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        device = DeviceProcess(Path(tmp) / "data").start()
        try:
            device.install()
            ports = device.runtime["ports"]
            print(f"{'protocol':<10} {'queries':>7} {'bytes in':>9} {'bytes out':>10} "
                  f"{'answers':>7} {'factor':>7}   (baseline echo: 1.00)")
            for n, (name, port, packet) in enumerate((
                    ("findhost", ports["findhost"], findhost.query("00:11:22:33:44:55")),
                    ("ssdp", ports["ssdp"], SSDP_ALL))):
                for count, source in ((1, f"127.0.5.{n + 1}"), (FLOOD, f"127.0.6.{n + 1}")):
                    sent, got, answers = exchange(port, packet, count, source)
                    print(f"{name:<10} {count:>7} {sent:>9} {got:>10} {answers:>7} "
                          f"{got / sent:>7.2f}")
            print("(findhost also answers to port 9999 of the source, not counted above: "
                  "double its bytes out)")
        finally:
            device.stop()


if __name__ == "__main__":
    main()
