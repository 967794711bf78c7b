#!/usr/bin/env python3
"""Splits a profile of an sts-harness replay into SDK, mock, harness, tokio and the allocator.

Input: `perf script -F ip,sym` output of `perf record --call-graph dwarf` (one sample per
blank-line-separated stack, leaf first), on standard input. Each sample is counted once, in
the first of these that its stack shows (outermost caller wins for the owner):

- mock:    a frame of mock_sts (the in-process server, reached through InProcessClient)
- harness: a frame of sts_harness other than the workload loop that calls the SDK
           (metrics, report, runner's collect, scenario loading, main)
- SDK:     a frame of aws_sdk_*, aws_smithy_*, aws_sigv4, aws_runtime, aws_config,
           aws_credential_types (the real aws-sdk-rust)
- tokio:   a frame of tokio (the scheduler, timers) and nothing above
- other:   the rest (process start-up, the kernel, the loader)

Besides the owner, a sample whose leaf is in the allocator (malloc, free, realloc and their
internals) is counted in the `allocator` column of its owner.
"""
import re
import sys
from collections import Counter

ALLOC = re.compile(r"^(_int_malloc|_int_free|_int_realloc|malloc|free|realloc|calloc|"
                   r"malloc_consolidate|cfree|__libc_.*alloc|__rdl_.*|__rust_.*alloc.*|"
                   r"arena_get2|tcache_.*|unlink_chunk|sysmalloc)\b")
SDK = re.compile(r"^(<)?(aws_sdk_|aws_smithy_|aws_sigv4|aws_runtime|aws_config|aws_credential_types)")

def owner(frames):
    # frames: symbols leaf first.
    syms = [f for f in frames]
    if any("mock_sts::" in s and "mock_sts::clock" not in s for s in syms):
        # The clock is the harness's and the SDK's time source; the server is the rest.
        if any(s.startswith(("mock_sts::server", "<mock_sts::sdk::InProcessClient", "mock_sts::sdk"))
               or "InProcessClient" in s for s in syms) or not any(SDK.match(s) for s in syms):
            return "mock"
    if any(s.startswith(("sts_harness::metrics", "sts_harness::report", "sts_harness::timeline",
                          "sts_harness::scenario", "sts_harness::runner::collect",
                          "core::ptr::drop_in_place<sts_harness::runner::RunResult"))
           for s in syms):
        return "harness"
    if any(SDK.match(s) for s in syms):
        return "sdk"
    if any(s.startswith(("sts_harness::", "<sts_harness")) for s in syms):
        return "harness"
    if any("tokio::" in s for s in syms):
        return "tokio"
    return "other"

def main():
    totals, alloc = Counter(), Counter()
    frames = []
    def flush():
        if frames:
            o = owner(frames)
            totals[o] += 1
            if ALLOC.match(frames[0]):
                alloc[o] += 1
    for line in sys.stdin:
        line = line.strip()
        if not line:
            flush()
            frames = []
            continue
        parts = line.split(None, 1)
        if len(parts) == 2:
            sym = re.sub(r"\+0x[0-9a-f]+$", "", parts[1]).replace(" (inlined)", "")
            frames.append(sym)
    flush()
    n = sum(totals.values())
    print(f"{n} samples")
    print("| part | share of samples | of which in the allocator |")
    print("|---|---|---|")
    for k in ["sdk", "mock", "harness", "tokio", "other"]:
        print(f"| {k} | {100*totals[k]/n:.1f} % | {100*alloc[k]/n:.1f} % |")
    print(f"| allocator, all parts | {100*sum(alloc.values())/n:.1f} % | |")

if __name__ == "__main__":
    main()
