"""A second GeneRec process for the shared-corpus tests: ``python pg_worker.py MODE WORKSPACE GO_FILE [ARGS]``.

It waits for ``GO_FILE`` to appear (so that several workers start their work at the same moment), then:

* ``open``: opens the workspace (whose database may still be empty: the migrations race);
* ``import FILE...``: imports the files;
* ``export VERSION...``: exports each pending version in the given order.

It prints one JSON line: what happened to each thing it tried (``exported``/``refused: <why>``).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path


def main(argv: list[str]) -> int:
    mode, root, go = argv[0], Path(argv[1]), Path(argv[2])
    rest = argv[3:]
    deadline = time.monotonic() + 60
    while not go.exists():
        if time.monotonic() > deadline:
            print(json.dumps({"error": "no go signal"}))
            return 3
        time.sleep(0.01)
    from generec_desktop.corpus import Workspace
    from generec_desktop.jobs import GenerecError

    out: dict[str, object] = {}
    with Workspace.open(root) as ws:
        if mode == "open":
            out["schema"] = ws.schema_version()
        elif mode == "import":
            res = ws.import_media(rest)
            out["items"] = {str(f.source): [f.item.id, f.new] for f in res.files}
        elif mode == "export":
            from generec_desktop.fidelity.export import run_export

            for vid in rest:
                try:
                    res = run_export(ws, vid, rank=False)
                    out[vid] = f"exported {res.item.id}"
                except GenerecError as exc:
                    out[vid] = f"refused: {exc}"
        else:
            raise SystemExit(f"unknown mode {mode}")
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
