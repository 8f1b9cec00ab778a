#!/usr/bin/env python3
"""Write a saved output of bench/compare.sh into README.md's Performance section.

    python3 bench/readme_table.py OUTPUT [README]

OUTPUT is what `bench/compare.sh` printed (its standard output, saved to a
file); README defaults to README.md beside bench/. The text between the two
marker comments of the Performance section is replaced by the run's
Machine, Commit and Inputs lines (as a list) and its table, so that the table
always says which machine and which commit it was measured on. The file is
written atomically (a temporary file, then a rename). `bench/compare.sh
--update-readme` runs this on its own output.
"""

import os
import pathlib
import sys
import tempfile

BEGIN = "<!-- bench/compare.sh --update-readme writes from here -->"
END = "<!-- bench/compare.sh --update-readme writes up to here -->"
HEADS = ("Machine: ", "Commit: ", "Inputs: ")


def section(output: str) -> str:
    lines = output.splitlines()
    heads = {}
    for line in lines:
        for head in HEADS:
            if line.startswith(head):
                heads[head] = line
    missing = [h.rstrip(": ") for h in HEADS if h not in heads]
    if missing:
        raise ValueError(f"not an output of bench/compare.sh: no {', '.join(missing)} line")
    table = [line for line in lines if line.startswith("|")]
    if len(table) < 3:
        raise ValueError("not an output of bench/compare.sh: no table")
    failed = [line for line in lines if line.startswith("- FAILED:")]
    if failed:
        raise ValueError("the run had failed measurements:\n" + "\n".join(failed))
    return "\n".join(["- " + heads[h] for h in HEADS] + [""] + table)


def main() -> int:
    if len(sys.argv) not in (2, 3):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    output = pathlib.Path(sys.argv[1])
    readme = pathlib.Path(sys.argv[2]) if len(sys.argv) == 3 else pathlib.Path(__file__).resolve().parent.parent / "README.md"
    try:
        new = section(output.read_text(encoding="utf-8"))
        text = readme.read_text(encoding="utf-8")
    except (OSError, ValueError) as error:
        print(f"readme_table.py: {error}", file=sys.stderr)
        return 1
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        print(f"readme_table.py: {readme} has no markers\n  {BEGIN}\n  {END}", file=sys.stderr)
        return 1
    text = text[: start + len(BEGIN)] + "\n" + new + "\n" + text[end:]
    fd, tmp = tempfile.mkstemp(dir=readme.parent, prefix=".README.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, readme.stat().st_mode & 0o777)
        os.replace(tmp, readme)
    except OSError as error:
        os.unlink(tmp)
        print(f"readme_table.py: cannot write {readme}: {error}", file=sys.stderr)
        return 1
    print(f"readme_table.py: {readme} updated", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
