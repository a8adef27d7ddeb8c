"""A Distillery run read from its files, for the notebooks beside this module.

The stage manifests (JSON) name every dataset a stage committed with its Iceberg snapshot and data files; the
datasets are read at those snapshots through DuckDB over the data files, the evaluation from reports/RUN, the
promotion history from models/. Which run: DISTILLERY_ROOT (distillery.run.root; default ../work) and
DISTILLERY_RUN (distillery.run.id; default "default"), or the arguments of Run.
"""
import json
import os
import pathlib
from urllib.parse import unquote, urlparse

import duckdb

STAGES = ("ingest", "generate", "train", "evaluate")


def local_path(uri):
    """A local path for a path or a file: URI (the manifests record file:/... and hdfs://... URIs)."""
    parsed = urlparse(str(uri))
    if parsed.scheme in ("", "file"):
        return pathlib.Path(unquote(parsed.path))
    raise ValueError(f"{uri}: only local files are read here; copy the run from {parsed.scheme} first "
                     "(hdfs dfs -get) or read it with pyarrow.fs.HadoopFileSystem")


class Run:
    def __init__(self, root=None, run_id=None):
        self.root = local_path(root or os.environ.get("DISTILLERY_ROOT", "../work"))
        self.id = run_id or os.environ.get("DISTILLERY_RUN", "default")
        self.db = duckdb.connect()

    def manifest(self, stage):
        """The stage's manifest, or None when the run has not finished that stage."""
        path = self.root / "runs" / self.id / f"{stage}.manifest.json"
        return json.loads(path.read_text()) if path.exists() else None

    def manifests(self):
        return {s: m for s in STAGES if (m := self.manifest(s)) is not None}

    def snapshot(self, dataset):
        """The dataset's snapshot as the stage that wrote it committed it (table, id, rows, files), or None."""
        for m in self.manifests().values():
            if dataset in (m.get("tables") or {}):
                return m["tables"][dataset]
        return None

    def table(self, dataset):
        """The run's rows of a dataset at its committed snapshot, as a DuckDB relation (None if not written)."""
        snap = self.snapshot(dataset)
        if snap is None:
            return None
        files = [str(local_path(f["path"])) for f in snap["files"]]
        if not files:
            return self.db.sql("select 1 as none where false")
        return self.db.read_parquet(files)

    def metrics(self):
        path = self.root / "reports" / self.id / "metrics.json"
        return json.loads(path.read_text()) if path.exists() else None

    def held_out_scores(self):
        """The main student's score on every held-out row (embed, classify), or None."""
        path = self.root / "reports" / self.id / "held-out-scores"
        return self.db.read_parquet(str(path / "*.parquet")) if path.exists() else None

    def promotions(self):
        """Every promotion and rollback under the root, oldest first."""
        path = self.root / "models" / "promotions.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def figures(values):
    """The notebook's figures, printed last as one JSON line (a test checks them against the manifests)."""
    print("FIGURES " + json.dumps(values, sort_keys=True))
