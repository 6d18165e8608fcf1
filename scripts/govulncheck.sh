#!/usr/bin/env bash
# govulncheck over the module: fails the run on a vulnerability reachable
# from Engram's code that is not accepted in scripts/govulncheck-accepted.txt.
#
# The database: $GOVULNDB if set, else https://vuln.go.dev if it answers,
# else the pinned golang.org/x/vulndb module fetched through the Go module
# proxy: its data/osv entries are built into a v1 database under the cache
# directory (scripts/vulndb, a module of its own, no part of Engram's build)
# and read with -db file://. The line "database ..., modified ..." says
# which one ran and how old it is.
set -euo pipefail
cd "$(dirname "$0")/.."
vuln=v1.10.0                                 # golang.org/x/vuln; bump deliberately
vulndb=v0.0.0-20261105234957-e22db6528018    # golang.org/x/vulndb; bump deliberately (go list -m golang.org/x/vulndb@latest)

db=${GOVULNDB:-}
if [ -z "$db" ] && curl -sf --max-time 10 -o /dev/null https://vuln.go.dev/index/db.json.gz 2>/dev/null; then
	db=https://vuln.go.dev
fi
if [ -z "$db" ]; then
	echo "govulncheck: vuln.go.dev cannot be reached; using golang.org/x/vulndb@$vulndb from the module proxy"
	json=$(go mod download -json "golang.org/x/vulndb@$vulndb")
	dir=$(printf '%s' "$json" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
	info=$(printf '%s' "$json" | sed -n 's/^[[:space:]]*"Info": "\(.*\)",$/\1/p')
	when=$(sed -n 's/.*"Time":"\([^"]*\)".*/\1/p' "$info")
	if [ -z "$dir" ] || [ -z "$when" ] || [ ! -d "$dir/data/osv" ]; then
		echo "FAIL govulncheck: golang.org/x/vulndb@$vulndb has no data/osv (Dir=$dir, Time=$when)"
		exit 1
	fi
	cache=${XDG_CACHE_HOME:-$HOME/.cache}/engram/vulndb/$vulndb
	if [ ! -f "$cache/index/modules.json" ]; then
		mkdir -p "$(dirname "$cache")"
		go -C scripts/vulndb run . build -src "$dir/data/osv" -out "$cache" -modified "$when"
	fi
	db=file://$cache
fi

# The scan sees the standard library of the Go that runs it: use the
# release go.mod names (toolchain line), as the image's build does, and say
# so when the local Go is older (binaries built with it lack those fixes).
toolchain=$(sed -n 's/^toolchain //p' go.mod)
if [ -n "$toolchain" ]; then
	here=$(go env GOVERSION)
	if [ "$here" != "$toolchain" ]; then
		echo "govulncheck: scanning with $toolchain (go.mod's toolchain); the local Go is $here: build with GOTOOLCHAIN=auto to get that release's fixes"
	fi
	export GOTOOLCHAIN=$toolchain
fi

out=$(mktemp)
trap 'rm -f "$out"' EXIT
# In JSON mode govulncheck exits 0 with findings; a non-zero exit is a
# failure to scan.
if ! go run "golang.org/x/vuln/cmd/govulncheck@$vuln" -db "$db" -format json ./... >"$out"; then
	echo "FAIL govulncheck: the scan itself failed"
	exit 1
fi
go -C scripts/vulndb run . check -accept "$PWD/scripts/govulncheck-accepted.txt" <"$out"
