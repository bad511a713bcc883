"""docs/openapi.yaml against a real receiver, checked by schemathesis (an outside tool).

Every check schemathesis has, a fixed seed and a bounded number of examples
per operation. Requests generated as valid follow the rules across fields
the spec states in words (tests/contract_hooks.py); everything else is
generated from the spec alone. It must find no failure: no 5xx, every
answer in the spec, valid data accepted, invalid data refused.
"""

from __future__ import annotations

import os
import re
import subprocess

from tests.sync_support import BIN, REPO, Receiver, add_token

MAX_EXAMPLES = 40


def test_the_receiver_keeps_its_openapi_contract(tmp_path, backend):
    receiver = Receiver(tmp_path / "central").start()
    try:
        token = add_token(receiver.data, "kiosk-a")
        run = subprocess.run(
            [
                str(BIN / "st"),
                "--config-file",
                str(REPO / "tests" / "schemathesis.toml"),
                "run",
                str(REPO / "docs" / "openapi.yaml"),
                "--url",
                receiver.url,
                "--checks",
                "all",
                "--max-examples",
                str(MAX_EXAMPLES),
                "--workers",
                "1",
                "--generation-database",
                "none",
                "--no-color",
                "--output-truncate",
                "true",
                "--header",
                f"Authorization: Bearer {token}",
            ],
            cwd=tmp_path,  # its report folder, if any, lands here
            capture_output=True,
            text=True,
            timeout=600,
            env=os.environ
            | {
                "PYTHONPATH": str(REPO),
                "SCHEMATHESIS_HOOKS": "tests.contract_hooks",
                "CONTRACT_KIOSK": "kiosk-a",
            },
        )
    finally:
        log = receiver.stop()
    summary = run.stdout[-3000:]
    assert run.returncode == 0, summary
    counts = re.search(r"(\d+) generated, (\d+) passed", run.stdout)
    assert counts and counts[1] == counts[2] and int(counts[1]) > 300, summary
    assert "Traceback" not in log, log
