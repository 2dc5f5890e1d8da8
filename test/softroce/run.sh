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
    read -r p f < <(grep -E '^  [0-9]+ passed, [0-9]+ failed$' "$out" | tail -1 | awk '{print $1, $3}')
    if [ "$TIER" = long ]; then
        # the server guest, whose cable was pulled, printed what mp read from
        # its verbs context (long.sh)
        if grep -qE 'g2 mp: .*port rxe0:1 down \(verbs async event\)' "$out"; then
            echo "PASS verbs-async-port-event: the guest whose cable was pulled failed rxe0:1 on IBV_EVENT_PORT_ERR or saw it"
            p=$((p + 1))
        elif grep -qE 'g2 mp: .*IBV_EVENT_PORT_ERR|g2 mp: .*port error' "$out"; then
            echo "PASS verbs-async-port-event: IBV_EVENT_PORT_ERR read (the netlink event failed the lane first)"
            p=$((p + 1))
        else
            echo "FAIL verbs-async-port-event: no verbs port event in the pulled guest's mp log"
            f=$((f + 1))
        fi
    fi
    echo "$p passed, $f failed"
fi
rm -f "$out"
exit $rc
