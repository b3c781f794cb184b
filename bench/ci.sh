#!/usr/bin/env bash
# CI for the bench module: vet, and the DuckDB interop tests (a few MB of
# generated flow logs and the real samples; about a minute with a cold
# build cache, most of it compiling and linking DuckDB). The 1 GiB
# side-by-side (sidebyside.sh) is not run here.
#
# Needs Go and a C compiler (cgo); it installs the C++ standard library
# DuckDB links against when it is missing (Debian/Ubuntu, apt-get).
set -euo pipefail
cd "$(dirname "$0")"
export GOFLAGS="${GOFLAGS:-} -mod=readonly"
export CGO_ENABLED=1
go version

# DuckDB's static library links with -lstdc++: gcc alone lacks it.
if ! echo 'int main(void){return 0;}' | ${CC:-gcc} -x c - -lstdc++ -o /dev/null 2>/dev/null; then
	echo "== installing libstdc++ development files (DuckDB links with -lstdc++)"
	SUDO=""
	if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi
	$SUDO apt-get update -qq
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq g++ >/dev/null
fi

# The HTML report test screenshots the page in headless Chromium.
if ! command -v chromium >/dev/null && ! command -v chromium-browser >/dev/null; then
	echo "== installing chromium (the HTML report test renders in it)"
	SUDO=""
	if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi
	$SUDO apt-get update -qq
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi

echo "== bench: vet"
go vet ./...

echo "== bench: test (DuckDB interop)"
go test -count=1 ./...
