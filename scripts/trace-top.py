#!/usr/bin/env python3
"""Summarises a speedscope file made by `dotnet-trace convert --format speedscope`: exclusive and inclusive time per frame,
summed over threads, with frames of idle waits left out of the exclusive list. Usage: trace-top.py FILE [N] [FILTER]."""
import json
import sys
from collections import defaultdict

path = sys.argv[1]
top = int(sys.argv[2]) if len(sys.argv) > 2 else 40
needle = sys.argv[3] if len(sys.argv) > 3 else None
data = json.load(open(path))
frames = [f["name"] for f in data["shared"]["frames"]]
exclusive = defaultdict(float)
inclusive = defaultdict(float)
cpu = defaultdict(float)
total = 0.0
for profile in data["profiles"]:
    stack = []
    last = None
    for event in profile.get("events", []):
        at = event["at"]
        if last is not None and stack:
            span = at - last
            total += span
            # The thread-time profile marks on-CPU samples with a CPU_TIME leaf: charge them to the managed frame below.
            if frames[stack[-1]] == "CPU_TIME" and len(stack) > 1:
                exclusive[stack[-2]] += span
                cpu[stack[-2]] += span
            else:
                exclusive[stack[-1]] += span
            for f in set(stack):
                inclusive[f] += span
        last = at
        if event["type"] == "O":
            stack.append(event["frame"])
        elif stack:
            stack.pop()

print(f"total sampled thread time {total:.0f} ms")
print(f"on-CPU thread time {sum(cpu.values()):.0f} ms")
print("--- on-CPU time by frame (exclusive) ---")
for f, t in sorted(cpu.items(), key=lambda p: -p[1])[:top]:
    print(f"{t:10.0f} ms  {frames[f][:150]}")
print("--- inclusive ---")
shown = 0
for f, t in sorted(inclusive.items(), key=lambda p: -p[1]):
    name = frames[f]
    if needle and needle not in name:
        continue
    print(f"{t:10.0f} ms  {name[:150]}")
    shown += 1
    if shown >= top:
        break
