#!/usr/bin/env python3
"""Bytes each object of libws6455.a contributes to a linked program's
flash (.text, .rodata, .data initialisers), read from a GNU ld map file:
usage map_sizes.py FILE.map [--total] [--object NAME].

A section's bytes are what it really occupies: the map lists merged string
sections (.rodata.str1.1) with their size before merging, so one whose
strings all exist elsewhere shows its full size at the address of the
section after it. Each input section is therefore counted as the smaller of
its listed size and the distance to the next entry of its output section.

With -flto the library's code comes out of the link-time objects
(*.ltrans.o), counted as one "lto" object: link the program's own objects
compiled without -flto, so those hold nothing but the library.

With --object NAME the bytes of the program's object NAME (a file name,
matched at the end of the map's path) are counted instead, as one object:
for a program compiled as one translation unit with the library in it."""
import re
import sys

ENTRY = re.compile(r"^ (\S+)?\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)(?:\s+(\S+))?\s*$")
FLASH = re.compile(r"^\.(?:text|rodata|data)")
# What link-time optimisation compiled: the library's code alone when the
# program's own objects were compiled without -flto.
LTRANS = re.compile(r"\S*\.ltrans\.o$")


def entries(path):
    """(output section, input section, address, size, owner) in map order."""
    text = open(path).read()
    text = text[text.find("Linker script and memory map"):]
    out_sec, pending = None, None
    for line in text.splitlines():
        if re.match(r"^\.\S+", line):  # an output section starts
            out_sec = line.split()[0]
            pending = None
            continue
        m = re.match(r"^ (\.\S+|\*fill\*|COMMON)\s*$", line)
        if m:  # an input section name alone; its numbers follow
            pending = m.group(1)
            continue
        m = ENTRY.match(line)
        if m and out_sec and (m.group(1) or pending) and m.group(4):
            name = m.group(1) or pending
            yield out_sec, name, int(m.group(2), 16), int(m.group(3), 16), m.group(4)
        pending = None


def sizes(path, program_object=None):
    rows = list(entries(path))
    per = {}
    for i, (out_sec, name, addr, size, owner) in enumerate(rows):
        nxt = rows[i + 1] if i + 1 < len(rows) else None
        if nxt and nxt[0] == out_sec and nxt[2] >= addr:
            size = min(size, nxt[2] - addr)
        m = re.match(r"\S*libws6455\.a\((\S+)\)$", owner)
        obj = m.group(1) if m else "lto" if LTRANS.match(owner) else None
        if program_object is not None:
            obj = program_object if owner.endswith("/" + program_object) or owner == program_object else None
        if obj and FLASH.match(name):
            per[obj] = per.get(obj, 0) + size
    return per


if __name__ == "__main__":
    args = sys.argv[2:]
    program_object = args[args.index("--object") + 1] if "--object" in args else None
    per = sizes(sys.argv[1], program_object)
    if "--total" in sys.argv:
        print(sum(per.values()))
    else:
        for obj, n in sorted(per.items(), key=lambda kv: -kv[1]):
            print(f"{n:7d}  {obj}")
        print(f"{sum(per.values()):7d}  total")
