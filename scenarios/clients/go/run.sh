#!/bin/sh
# Builds lab.go (once, offline, in GOPATH mode against Debian's aws-sdk-go-v2) and runs it:
#
#   run.sh MODE [EXPIRY_WINDOW_SECONDS]
#   run.sh --build      build only (tests build before they time anything)
#
# MODE is lab.go's (manual-env, default-chain); EXPIRY_WINDOW_SECONDS, when given, becomes
# STS_LAB_GO_EXPIRY_WINDOW (the credentials cache's ExpiryWindow; Go's default is 0).
#
# The binary is cached in the workspace's target/go-lab (STS_LAB_GO_BUILD_DIR overrides it) and
# rebuilt when lab.go is newer; runs started together build it once (flock). A missing Go
# toolchain or SDK exits 3 saying which: Debian's golang-go and
# golang-github-aws-aws-sdk-go-v2-dev, which scripts/test installs.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
out=${STS_LAB_GO_BUILD_DIR:-$here/../../../target/go-lab}
gopath=/usr/share/gocode

if ! command -v go >/dev/null 2>&1; then
  echo "run.sh: go is not on PATH (Debian: apt-get install golang-go)" >&2
  exit 3
fi
if [ ! -d "$gopath/src/github.com/aws/aws-sdk-go-v2/config" ]; then
  echo "run.sh: aws-sdk-go-v2 is not in $gopath (Debian: apt-get install golang-github-aws-aws-sdk-go-v2-dev)" >&2
  exit 3
fi
mkdir -p "$out"
(
  flock 9
  if [ ! -x "$out/lab-go" ] || [ "$here/lab.go" -nt "$out/lab-go" ]; then
    GO111MODULE=off GOPATH=$gopath GOCACHE="$out/cache" GOFLAGS= \
      go build -o "$out/lab-go.tmp" "$here/lab.go"
    mv "$out/lab-go.tmp" "$out/lab-go"
  fi
) 9>"$out/.lock"
[ "$1" = "--build" ] && exit 0

if [ $# -ge 2 ]; then
  STS_LAB_GO_EXPIRY_WINDOW=$2
  export STS_LAB_GO_EXPIRY_WINDOW
fi
exec "$out/lab-go" "$1"
