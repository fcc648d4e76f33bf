"""Turn `az deployment sub show --query properties.outputs` JSON into `helm upgrade` arguments.

The chart marks every Azure-fed value in values.yaml with a trailing `# bicep-output: <outputName>`
comment. This finds each marked key's dotted path and prints one `--set` (strings) or `--set-json`
(objects, arrays) argument per marker, NUL-separated, so a pipeline can do

    az deployment sub show -n fabrikam-dev --query properties.outputs > outputs.json
    mapfile -d '' args < <(python deploy/bicep/outputs_to_helm_args.py values.yaml outputs.json)
    helm upgrade --install fabrikam deploy/helm/fabrikam "${args[@]}"

Standard library only. Exits non-zero when a marker names an output the deployment lacks.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

MARKER = re.compile(
    r"^(?P<indent> *)(?P<key>[A-Za-z0-9_.-]+|\"[^\"]+\"):.*#\s*bicep-output:\s*(?P<output>\w+)"
)
KEY = re.compile(r"^(?P<indent> *)(?P<key>[A-Za-z0-9_.-]+|\"[^\"]+\"):")


def marked_paths(values_text: str) -> list[tuple[str, str]]:
    """(dotted.key.path, outputName) for every marked mapping key, in file order."""
    stack: list[tuple[int, str]] = []
    found = []
    for line in values_text.splitlines():
        if not line.strip() or line.lstrip().startswith(("#", "- ")):
            continue
        match = KEY.match(line)
        if not match:
            continue
        indent, key = len(match["indent"]), match["key"].strip('"')
        while stack and stack[-1][0] >= indent:
            stack.pop()
        stack.append((indent, key))
        marker = MARKER.match(line)
        if marker:
            found.append((".".join(k.replace(".", r"\.") for _, k in stack), marker["output"]))
    return found


def helm_args(values_text: str, outputs: dict) -> list[str]:
    args = []
    for path, name in marked_paths(values_text):
        if name not in outputs:
            raise KeyError(
                f"values.yaml marks {path} with output {name!r}, which the deployment lacks"
            )
        value = (
            outputs[name]["value"]
            if isinstance(outputs[name], dict) and "value" in outputs[name]
            else outputs[name]
        )
        if isinstance(value, (dict, list)):
            args += ["--set-json", f"{path}={json.dumps(value, separators=(',', ':'))}"]
        else:
            args += ["--set-string", f"{path}={value}"]
    return args


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    values_text = Path(argv[1]).read_text()
    outputs = json.loads(Path(argv[2]).read_text())
    try:
        args = helm_args(values_text, outputs)
    except KeyError as error:
        print(error.args[0], file=sys.stderr)
        return 1
    sys.stdout.write("\0".join(args) + ("\0" if args else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
