#!/usr/bin/env python3

# Generated from run-summary.ipynb: the notebook's code cells, headless.

# Usage: python3 notebooks/run_summary.py ROOT RUN_ID

import json, pathlib, sys
ROOT = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "work")
RUN_ID = sys.argv[2] if len(sys.argv) > 2 else "default"

def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)

def manifests(root, run_id):
    runs = pathlib.Path(root) / "runs" / run_id
    order = ["ingest", "generate", "train", "evaluate"]
    return {s: load(runs / f"{s}.manifest.json") for s in order if (runs / f"{s}.manifest.json").exists()}

m = manifests(ROOT, RUN_ID)
for stage, man in m.items():
    print(f"{stage:9s} {man['createdAt']}  config {man['configHash']}  {man['counts']}")

def check_accounting(m):
    problems = []
    if "ingest" in m:
        c = m["ingest"]["counts"]
        if c["sentences"] != c["written"] + c["duplicates"] + c["quarantined"]:
            problems.append(f"ingest: {c}")
    if "generate" in m:
        c = m["generate"]["counts"]
        if c["rows_in"] != c["written"] + c["failed"] + c.get("quarantined", 0):
            problems.append(f"generate: {c}")
        # Task language-model asks generate.samples times per prompt.
        prompts = m["ingest"]["counts"]["written"] if "ingest" in m else None
        if prompts is not None and (c["rows_in"] < prompts or c["rows_in"] % max(prompts, 1) != 0):
            problems.append("generate did not read every prompt")
    return problems

print(check_accounting(m) or "accounting adds up")

card = load(ROOT / "models" / RUN_ID / "model-card.json")
t = card["teacher"]
print(f"teacher  {t['name']} {t['version']}\n         sha256 {t['modelSha256']}\n         terms {t['termsId']} ({t['termsUrl']}), distillation allowed: {t['distillationAllowed']}")
print(f"student  {card['student']}  chosen epoch {card['chosen_epoch']}")
for e in card["training"]["epochs"]:
    print(f"  epoch {e['epoch']}: validation loss {e['validation_loss']:.4f}")

metrics = load(ROOT / "reports" / RUN_ID / "metrics.json")
for k, v in sorted(metrics["metrics"].items()):
    print(f"{k:40s} {v:,.4f}")
print("gate passed" if metrics["gate"]["passed"] else f"gate FAILED: {metrics['gate']['failures']}")

sys.exit(1 if check_accounting(m) else 0)
