#!/usr/bin/env bash
# make install into a staging DESTDIR, then build and run a consumer with
# pkg-config against what was installed (static and shared), then uninstall.
set -eu
cd "$(dirname "$0")/.."
stage=$(pwd)/build/stage
rm -rf "$stage"
make -s --no-print-directory install DESTDIR="$stage" PREFIX=/usr/local >/dev/null
export PKG_CONFIG_PATH=$stage/usr/local/lib/pkgconfig
export PKG_CONFIG_SYSROOT_DIR=$stage
cflags=$(pkg-config --cflags atomkit)
libs=$(pkg-config --libs atomkit)
src=build/stage-consumer.c
cat > $src <<'C'
#include <atomkit.h>
#include <stdio.h>
int main(void)
{
	ak_counter c;
	ak_counter_init(&c, 41);
	ak_counter_inc(&c);
	printf("%s %llu\n", ak_strerror(AK_OK), (unsigned long long)ak_counter_load(&c));
	return ak_counter_load(&c) == 42 ? 0 : 1;
}
C
gcc -std=c11 -Wall -Wextra -Werror $cflags $src -o build/stage-consumer $libs
LD_LIBRARY_PATH=$stage/usr/local/lib ./build/stage-consumer
# the shared library carries its soname
objdump -p $stage/usr/local/lib/libatomkit.so | grep -q 'SONAME.*libatomkit.so.0'
gcc -std=c11 -Wall -Wextra -Werror $cflags $src -o build/stage-consumer-static \
	$stage/usr/local/lib/libatomkit.a $(pkg-config --libs --static atomkit | sed 's/-latomkit//')
./build/stage-consumer-static
make -s --no-print-directory uninstall DESTDIR="$stage" PREFIX=/usr/local >/dev/null
left=$(find "$stage" -type f | wc -l)
[ "$left" = 0 ] || { echo "uninstall left $left files"; find "$stage" -type f; exit 1; }
echo "install: staged, consumed via pkg-config (shared+static), uninstalled cleanly; checks ok"
