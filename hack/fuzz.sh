#!/usr/bin/env bash
# make fuzz: run each fuzz target (PKG:NAME arguments) for FUZZTIME, one after
# another; fail on the first finding.
#
# A finding is a failure that wrote its input under PKG/testdata/fuzz/NAME/.
# Go 1.26's fuzz coordinator can also fail a target with a bare "context
# deadline exceeded" at the -fuzztime boundary having found nothing (a race in
# internal/fuzz, golang/go#75804, fixed in Go 1.27): that run is retried once
# and, if it ends the same way again, reported as a warning, not a finding.
set -uo pipefail
go=${GO:-go}
fuzztime=${FUZZTIME:-30s}
for t in "$@"; do
  pkg=${t%%:*}; name=${t##*:}
  corpus="$pkg/testdata/fuzz/$name"
  for try in 1 2; do
    before=$(ls "$corpus" 2>/dev/null | sort)
    echo "fuzz $name ($pkg, $fuzztime)"
    log=$(mktemp)
    "$go" test -run '^$' -fuzz "^$name\$" -fuzztime "$fuzztime" "$pkg" 2>&1 | tee "$log" | grep -v '^fuzz: elapsed'
    rc=${PIPESTATUS[0]}
    after=$(ls "$corpus" 2>/dev/null | sort)
    if [ "$rc" -eq 0 ]; then rm -f "$log"; break; fi
    if [ "$before" != "$after" ] || ! grep -q '^    context deadline exceeded$' "$log"; then
      echo "FINDING in $name: the failing input is under $corpus (commit it as a regression seed once fixed)" >&2
      rm -f "$log"; exit 1
    fi
    rm -f "$log"
    if [ "$try" -eq 1 ]; then
      echo "warning: $name ended with 'context deadline exceeded' and wrote no input (golang/go#75804); running it again" >&2
    else
      echo "warning: $name ended with 'context deadline exceeded' twice and wrote no input (golang/go#75804): no finding" >&2
    fi
  done
done
