#!/bin/bash
# test/softroce/run.sh BUILDDIR smoke|long: run a Soft-RoCE tier in two qemu guests.
set -uo pipefail
SRCDIR=$(cd "$(dirname "$0")/../.." && pwd)
BUILDDIR=$(cd "${1:?BUILDDIR}" && pwd)
TIER=${2:-smoke}
out=$(mktemp /tmp/uct_mp-softroce.XXXXXX)
"$SRCDIR/contrib/softroce/softroce.sh" run "$SRCDIR/test/softroce/$TIER.sh" "$SRCDIR" "$BUILDDIR" | tee "$out"
rc=${PIPESTATUS[0]}
# the client guest's summary is the tier's result; a dead run counts as a failure
if ! grep -qE '^  [0-9]+ passed, [0-9]+ failed$' "$out"; then
    echo "0 passed, 1 failed"
else
    grep -E '^  [0-9]+ passed, [0-9]+ failed$' "$out" | tail -1 | sed 's/^  //'
fi
rm -f "$out"
exit $rc
