"""The repository carries everything its product, demo and tests need."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# what code reading the folder beside the repository would contain (spelt in pieces, so that this file does not)
BESIDE = ("../" + "sha" + "red", '"shar' + 'ed" / "data"', "parents[1]" + ".parent")


def test_nothing_reads_a_folder_beside_the_repository() -> None:
    # a user's clone has nothing beside it: data the tests use lives in tests/data or the package
    offenders = []
    for folder in ("urbanos", "tests", "benchmarks", ".ci"):
        for path in (ROOT / folder).rglob("*"):
            if path.suffix not in (".py", ".sh", ".toml", ".md", "") or not path.is_file() or path == Path(__file__):
                continue
            text = path.read_text(errors="replace")
            if any(marker in text for marker in BESIDE):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []
