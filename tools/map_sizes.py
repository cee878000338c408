#!/usr/bin/env python3
"""Bytes each object of libws6455.a contributes to a linked program's
flash (.text, .rodata, .data initialisers), read from a GNU ld map file:
usage map_sizes.py FILE.map [--total]."""
import re
import sys

def sizes(path):
    text = open(path).read()
    start = text.find("Linker script and memory map")
    per = {}
    pending = None  # a section name on its own line; its numbers follow
    for line in text[start:].splitlines():
        m = re.match(r"^ (\.(?:text|rodata|data)\S*)\s*$", line)
        if m:
            pending = m.group(1)
            continue
        m = re.match(r"^ (\.(?:text|rodata|data)\S*)?\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S*libws6455\.a\((\S+)\))$", line)
        if m and (m.group(1) or pending):
            per[m.group(5)] = per.get(m.group(5), 0) + int(m.group(3), 16)
        pending = None
    return per

if __name__ == "__main__":
    per = sizes(sys.argv[1])
    if "--total" in sys.argv:
        print(sum(per.values()))
    else:
        for obj, n in sorted(per.items(), key=lambda kv: -kv[1]):
            print(f"{n:7d}  {obj}")
        print(f"{sum(per.values()):7d}  total")
