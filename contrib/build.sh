#!/bin/bash
# contrib/build.sh [BUILDDIR]: install dependencies (Debian archive only), then
# configure and build uct_mp against the installed UCX. Prints the build dir.
set -euo pipefail
SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
BUILDDIR=${1:-$SRCDIR}
UCX_SRC=$("$SRCDIR/contrib/install-deps.sh" | tail -1)
cd "$SRCDIR"
[ -x configure ] || ./autogen.sh >&2
mkdir -p "$BUILDDIR"; cd "$BUILDDIR"
if [ ! -f Makefile ] || [ "$SRCDIR/configure" -nt Makefile ]; then
    "$SRCDIR/configure" --with-ucx-src="$UCX_SRC" >&2
fi
make -j"$(nproc)" >&2
make -j"$(nproc)" check TESTS= >&2   # build the test programs only
echo "$BUILDDIR"
