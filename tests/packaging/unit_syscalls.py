#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""What packaging/hbfence.service's seccomp settings let through, and whether a
traced run stayed inside them.

  unit_syscalls.py UNIT --list
      prints the system calls the unit's SystemCallFilter= lines allow, one a line
      (groups expanded with `systemd-analyze syscall-filter`, as systemd does), then
      the RestrictAddressFamilies= families.
  unit_syscalls.py UNIT STRACE_LOG...
      reads `strace -f -o LOG` output and fails (exit 1) on any system call the
      filter would deny, and any socket(2) of a family RestrictAddressFamilies=
      refuses; prints one example line for each.

How systemd reads the settings (systemd.exec(5), systemd 252): assignments combine
in order; if the first is not negated ("~") it is an allow list, to which @default is
added; "~" entries remove from it, later plain ones add to it. An empty assignment
resets. RestrictAddressFamilies= restricts socket(2) only, not socketpair(2).
"""
import re
import subprocess
import sys


def groups():
    """@group -> set of members (names and @groups), from systemd-analyze."""
    out = subprocess.run(["systemd-analyze", "syscall-filter", "--no-pager"], check=True,
                         capture_output=True, text=True).stdout
    result, current = {}, None
    for line in out.splitlines():
        if line.startswith("@"):
            current = result.setdefault(line.strip(), set())
        elif current is not None and line.strip() and not line.strip().startswith("#"):
            current.add(line.strip())
    return result


def expand(names, table, seen=None):
    seen = set() if seen is None else seen
    out = set()
    for name in names:
        if name.startswith("@"):
            if name in seen:
                continue
            seen.add(name)
            if name not in table:
                raise SystemExit(f"unknown system call group {name}")
            out |= expand(table[name], table, seen)
        else:
            out.add(name)
    return out


def unit_values(unit, key):
    values = []
    with open(unit) as f:
        for line in f:
            line = line.strip()
            if line.startswith(key + "="):
                values.append(line[len(key) + 1:].strip())
    return values


def allowed_syscalls(unit, table):
    allow, allow_list = None, None
    for value in unit_values(unit, "SystemCallFilter"):
        if value == "":
            allow, allow_list = None, None
            continue
        negated = value.startswith("~")
        names = set(expand(value.lstrip("~").split(), table))
        if allow is None:
            allow_list = not negated
            allow = (names | expand(["@default"], table)) if allow_list else names
        elif allow_list:
            allow = allow - names if negated else allow | names
        else:
            allow = allow | names if negated else allow - names
    if allow is None:
        return None  # no filter
    return allow if allow_list else ("deny", allow)


def allowed_families(unit):
    families = None
    for value in unit_values(unit, "RestrictAddressFamilies"):
        if value == "":
            families = None
        elif value == "none":
            families = set()
        else:
            families = (families or set()) | set(value.split())
    return families


LINE = re.compile(r"^(?:\[pid\s+)?(\d+)\]?\s+([a-z_][a-z0-9_]*)\((.*)")


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    unit = sys.argv[1]
    table = groups()
    allow = allowed_syscalls(unit, table)
    families = allowed_families(unit)
    if sys.argv[2] == "--list":
        for name in sorted(allow if isinstance(allow, set) else []):
            print(name)
        print("# families:", " ".join(sorted(families or [])))
        return 0
    if not isinstance(allow, set):
        print("the unit has no allow-list SystemCallFilter=; nothing to check against", file=sys.stderr)
        return 1

    used, denied, bad_families = {}, {}, {}
    for log in sys.argv[2:]:
        with open(log, errors="replace") as f:
            for line in f:
                m = LINE.match(line)
                if not m:
                    continue
                name, args = m.group(2), m.group(3)
                used[name] = used.get(name, 0) + 1
                if name not in allow:
                    denied.setdefault(name, line.rstrip())
                if name == "socket" and families is not None:
                    family = args.split(",", 1)[0].strip()
                    if family not in families:
                        bad_families.setdefault(family, line.rstrip())

    print(f"{len(used)} distinct system calls traced, {sum(used.values())} calls")
    for name, line in sorted(denied.items()):
        print(f"DENIED by SystemCallFilter=: {name}  e.g. {line}")
    for family, line in sorted(bad_families.items()):
        print(f"DENIED by RestrictAddressFamilies=: {family}  e.g. {line}")
    return 1 if denied or bad_families else 0


if __name__ == "__main__":
    sys.exit(main())
