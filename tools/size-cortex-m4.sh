#!/bin/sh
# The embedded build: the static library for a Cortex-M4 with newlib
# (arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb -Os; `make CC=arm-none-eabi-gcc`
# turns the shared library off by itself), linked into a small bare-metal
# program so every symbol resolves against newlib, then the size of each
# object. Extra -D switches go in CPPFLAGS. B defaults to build/cortex-m4.
set -eu
cd "$(dirname "$0")/.."
sh tools/ensure-debs.sh gcc-arm-none-eabi libnewlib-arm-none-eabi
cc=arm-none-eabi-gcc
flags="-mcpu=cortex-m4 -mthumb -Os"
B=${B_CORTEX:-build/cortex-m4}
${MAKE:-make} --no-print-directory B="$B" CC=$cc CFLAGS="$flags ${CFLAGS:-}" static >/dev/null
# Every object of the archive linked (--whole-archive) into a bare-metal
# program, so each one's undefined symbols must resolve against newlib.
printf '#include <ws6455.h>\nint main(void) { return ws6455_version()[0] == 0; }\n' >"$B/m4_main.c"
$cc $flags -std=c11 -Wall -Werror -Iinclude "$B/m4_main.c" -Wl,--whole-archive "$B/libws6455.a" -Wl,--no-whole-archive \
    --specs=nano.specs --specs=nosys.specs -o "$B/m4_main.elf" 2>"$B/link.log" || { cat "$B/link.log"; exit 1; }
echo "size-cortex-m4: $cc $flags, newlib; per object (bytes):"
arm-none-eabi-size -t "$B/libws6455.a" | sed 's|(ex build/[^)]*)||'
echo "the whole archive linked into a program with newlib-nano:"
arm-none-eabi-size "$B/m4_main.elf"
