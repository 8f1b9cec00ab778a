#!/usr/bin/env python3
"""Helm as the reference renderer (issue 13, Deliver 1).

Renders each chart named on the command line with its default values, as
`helm template` would (release "release-name", namespace "default", an
install), through the PyPI package helm-python-sdk (module `helm_python`,
Helm v4 as a library). Prints one JSON object on stdout:

    {"helm_python": "<version>",
     "charts": [{"chart": "<dir as given>",
                 "name": "<chart name>",
                 "missing_dependencies": ["common", ...],
                 "status": "rendered" | "per-template" | "failed",
                 "error": "<Helm's message>" | null,
                 "templates": {"templates/x.yaml": {"rendered": "<text>"}
                                                 | {"error": "<Helm's message>"}}}]}

"rendered": the whole chart rendered. "per-template": the whole chart did
not render (`error` says why, in Helm's words), so the template Helm's
message names was set aside (kept only for its `define`s: renamed with a
leading `_`, which Helm parses but does not render) and the chart rendered
again, until the rest renders; each template set aside carries its error. "failed": not even loaded.

Never reaches the network: a chart is loaded from its folder, dependencies
are never fetched (those declared in Chart.yaml but absent from `charts/`
are listed in `missing_dependencies`), and Helm's `lookup` renders empty.

Exit status: 0 when every chart was handled (failures included, they are
data), 2 on bad usage, 3 when helm_python cannot be imported.
"""

import io
import json
import re
import os
import sys
import tarfile

try:
    import helm_python
except ImportError as error:  # pragma: no cover - the caller skips
    print(f"helm_python not importable: {error}", file=sys.stderr)
    sys.exit(3)

RELEASE = "release-name"
NAMESPACE = "default"
# A prefix no chart uses, for the templates kept only for their defines.
HIDDEN = "_tokenguard_oracle_"


def render(chart):
    return chart.render(None, name=RELEASE, namespace=NAMESPACE, is_install=True)


def relative(name, key):
    """`mychart/templates/x.yaml` -> `templates/x.yaml`."""
    prefix = name + "/"
    return key[len(prefix):] if key.startswith(prefix) else key


def chart_files(root):
    """Every file of the chart folder, as (path relative to it, bytes)."""
    files = []
    for folder, dirs, names in os.walk(root):
        dirs.sort()
        for name in sorted(names):
            path = os.path.join(folder, name)
            with open(path, "rb") as handle:
                files.append((os.path.relpath(path, root).replace(os.sep, "/"), handle.read()))
    return files


def archive(name, files):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for path, data in files:
            info = tarfile.TarInfo(f"{name}/{path}")
            info.size = len(data)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def hidden(path):
    folder, _, base = path.rpartition("/")
    return f"{folder}/{HIDDEN}{base}"


def is_rendered_template(path):
    base = path.rsplit("/", 1)[-1]
    return path.startswith("templates/") and not base.startswith("_")


def failing_template(name, message, candidates):
    """The template Helm's message says failed: the one it was executing,
    else the first one it names; `None` when it names none of `candidates`."""
    named = re.findall(r'executing "' + re.escape(name) + r'/([^"]+)"', message)
    named += re.findall(re.escape(name) + r"/(templates/[^:\s\"]+)", message)
    for path in named:
        if path in candidates:
            return path
    return None


def render_archive(name, files, hide):
    """The chart rendered with the templates of `hide` kept only for their
    defines (renamed with a leading `_`)."""
    kept = [(hidden(path) if path in hide else path, data) for path, data in files]
    with helm_python.Chart.load_archive(archive(name, kept)) as chart:
        return render(chart)


def one_chart(root):
    entry = {
        "chart": root,
        "name": None,
        "missing_dependencies": [],
        "status": "failed",
        "error": None,
        "templates": {},
    }
    try:
        chart = helm_python.Chart.load(root)
    except Exception as error:  # Helm's own message is the data
        entry["error"] = str(error)
        return entry
    with chart:
        name = chart.name
        entry["name"] = name
        declared = [d.get("name") for d in (chart.metadata.get("dependencies") or [])]
        loaded = {d.get("name") for d in (chart.dependencies or [])}
        entry["missing_dependencies"] = [d for d in declared if d not in loaded]
        try:
            out = render(chart)
            entry["status"] = "rendered"
            entry["templates"] = {
                relative(name, key): {"rendered": text} for key, text in sorted(out.items())
            }
            return entry
        except Exception as error:
            entry["error"] = str(error)
    # The chart as Helm renders it with each failing template set aside, one
    # at a time: the others render together, as in the whole chart (istio's
    # zzz_profile.yaml rewrites .Values for the templates rendered after it).
    entry["status"] = "per-template"
    files = chart_files(root)
    templates = [path for path, _ in files if is_rendered_template(path)]
    hide = {}
    while True:
        try:
            out = render_archive(name, files, hide)
        except Exception as error:
            message = str(error)
            failed = failing_template(name, message, [t for t in templates if t not in hide])
            if failed is None:
                # Not attributable to one template: each alone.
                for path in templates:
                    if path not in hide:
                        hide[path] = message
                break
            hide[failed] = message
            continue
        for key, text in out.items():
            path = relative(name, key)
            if path in templates and path not in hide:
                entry["templates"][path] = {"rendered": text}
        break
    for path in sorted(hide):
        entry["templates"][path] = {"error": hide[path]}
    entry["templates"] = dict(sorted(entry["templates"].items()))
    return entry


def main(argv):
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        print(f"usage: {argv[0]} CHART_DIR...", file=sys.stderr)
        return 2
    charts = [one_chart(root) for root in argv[1:]]
    version = getattr(helm_python, "__version__", "unknown")
    json.dump({"helm_python": version, "charts": charts}, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
