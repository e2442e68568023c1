"""`lab sweep NAME --status` (and `lab sweep NAME` alone): each point's state, read from the sweep's record,
its run folders and, for a Slurm sweep, squeue/sacct; the summary files are written as they stand."""

import json
from pathlib import Path

from lab_workbench.engine.core.errors import ConfigError
from lab_workbench.engine.runs.sweep import SWEEP_FILE

from .sweep_common import ENDED, point_rows, print_table, record_points, write_summary
from .sweep_slurm import slurm_states


def show_status(folder: Path, sort_by: str, json_out: bool) -> None:
    """--status: each point's state from its run folder and, for a Slurm sweep, from squeue/sacct; the summary
    is written as it stands."""
    if not (folder / SWEEP_FILE).is_file():
        raise ConfigError(f"{folder}: no sweep here (no {SWEEP_FILE})")
    record, by_name = record_points(folder)
    if "search" in record:
        from .sweep_search import show_search
        return show_search(folder, record, sort_by, json_out)
    rows = point_rows(folder, by_name)
    states = slurm_states(record)
    if "slurm" in record:
        for i, r in enumerate(rows):
            r["slurm"] = states.get(i, "-")
    fields = list(record.get("grid") or {})
    write_summary(folder, rows, fields)
    if json_out:
        print(json.dumps(rows, indent=2))
        return
    print_table(rows, fields + (["slurm"] if "slurm" in record else []), sort_by)
    ended = sum(r["status"] in ENDED for r in rows)
    print(f"{ended} of {len(rows)} points ended; summary in {folder / 'summary.csv'}")
