"""MLflow (`pip install 'lab-workbench[mlflow]'`): the config as params, per-epoch metrics, the final results, and
best.pt and config.json as artifacts, in experiment "lab" at --mlflow-uri (default $MLFLOW_TRACKING_URI,
else ./mlruns). A resumed run continues the MLflow run whose id RUN/trackers.json keeps."""

from __future__ import annotations

import os
import time
from pathlib import Path

from lab_workbench.engine.trackers import register_tracker

EXPERIMENT = "lab"
STATUS = {"completed": "FINISHED", "early-stopped": "FINISHED", "cancelled": "KILLED", "interrupted": "KILLED",
          "pruned": "KILLED"}  # pruned: a search trial stopped as weak (lab sweep --prune-trials)


def tracking_uri(cfg) -> str:
    """--mlflow-uri, else $MLFLOW_TRACKING_URI, else ./mlruns (as an absolute file URI)."""
    uri = cfg.mlflow_uri or os.environ.get("MLFLOW_TRACKING_URI") or "mlruns"
    if "://" not in uri and not uri.startswith(("sqlite:", "databricks", "file:")):
        uri = Path(uri).resolve().as_uri()
    return uri


def _reachable(uri: str) -> str | None:
    """None when an http(s) tracking server answers its health check within a few seconds."""
    if not uri.startswith(("http://", "https://")):
        return None
    import urllib.request
    try:
        with urllib.request.urlopen(uri.rstrip("/") + "/health", timeout=5) as r:
            return None if r.status == 200 else f"{uri} answered {r.status}"
    except Exception as e:
        return f"{uri} is not reachable ({getattr(e, 'reason', None) or e})"


@register_tracker("mlflow", "an MLflow run at --mlflow-uri (pip install 'lab-workbench[mlflow]')")
class MlflowTracker:
    """One MLflow run per lab run, through MlflowClient (no global active-run state)."""

    def __init__(self, cfg, run_dir: Path, record: dict):
        self.uri, self.run_dir = tracking_uri(cfg), Path(run_dir)
        self.record = {"uri": self.uri, **({"run_id": record["run_id"]} if record.get("run_id") else {})}
        self.client = None

    @staticmethod
    def problem(cfg) -> str | None:
        try:
            import mlflow  # noqa: F401
        except ImportError:
            return "mlflow is not installed (pip install 'lab-workbench[mlflow]')"
        return _reachable(tracking_uri(cfg))

    def __call__(self, event) -> None:
        from lab_workbench.engine.contract.events import EpochEnded, RunEnded, RunStarted
        if isinstance(event, RunStarted):
            self._start(event)
        elif isinstance(event, EpochEnded) and self.client is not None:
            from mlflow.entities import Metric
            now = int(time.time() * 1000)
            self.client.log_batch(self.record["run_id"], metrics=[
                Metric(k, float(getattr(event, k)), now, event.epoch)
                for k in ("train_loss", "train_acc", "val_loss", "val_acc", "lr", "seconds")])
        elif isinstance(event, RunEnded) and self.client is not None:
            self._end(event)

    def _start(self, event) -> None:
        from mlflow.entities import Param
        from mlflow.tracking import MlflowClient
        self.client = MlflowClient(tracking_uri=self.uri)
        if self.record.get("run_id"):  # a resume: the same MLflow run goes on
            self.client.update_run(self.record["run_id"], status="RUNNING")
            return
        exp = self.client.get_experiment_by_name(EXPERIMENT)
        exp_id = exp.experiment_id if exp is not None else self.client.create_experiment(EXPERIMENT)
        run = self.client.create_run(exp_id, run_name=self.run_dir.name, tags={"lab.run_dir": str(self.run_dir)})
        self.record["run_id"] = run.info.run_id
        params = [Param(k, str(v)[:6000]) for k, v in event.config.items() if v is not None]
        for i in range(0, len(params), 100):  # MLflow takes at most 100 params a batch
            self.client.log_batch(run.info.run_id, params=params[i:i + 100])

    def _end(self, event) -> None:
        from mlflow.entities import Metric
        run_id, h, now = self.record["run_id"], event.history, int(time.time() * 1000)
        final = {"best_val_acc": h.best_val_acc, "best_epoch": h.best_epoch,
                 **{f"test_{k}": v for k, v in (event.test or {}).items()}}
        self.client.log_batch(run_id, metrics=[Metric(k, float(v), now, len(h.rows)) for k, v in final.items()
                                               if isinstance(v, (int, float))])
        from lab_workbench.engine.runs.folder import RunFolder
        folder = RunFolder(self.run_dir)
        for path in (folder.best, folder.config):
            if path.is_file():
                self.client.log_artifact(run_id, str(path))
        self.client.set_terminated(run_id, STATUS.get(event.status, "FAILED"))
