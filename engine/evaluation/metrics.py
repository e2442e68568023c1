"""Predictions and metrics as data (the faces turn them into text)."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from lab_workbench.engine.core.errors import CheckpointError
from lab_workbench.engine.core.files import safe_folder

# rows per inference batch: on a CPU 512 keeps a batch's activations in cache and was the fastest of
# 512-2048 for mlp, cnn, fastcnn and resnet (cnn 2.81 s against 3.43 s at 2048, bench/README.md);
# an accelerator wants large batches
EVAL_BATCH_CPU = 512
EVAL_BATCH_ACCELERATOR = 2048


def eval_batch_size(model: torch.nn.Module) -> int:
    """The inference batch for the device that holds the model."""
    first = next(model.parameters(), None)
    device = first.device.type if first is not None else "cpu"
    return EVAL_BATCH_CPU if device == "cpu" else EVAL_BATCH_ACCELERATOR


@torch.inference_mode()
def predict(model: torch.nn.Module, x: torch.Tensor, batch_size: int | None = None,
            progress: Callable[[int, int], None] | None = None) -> torch.Tensor:
    """Logits for every row of x (a tensor, or a Split whose batches are normalised as they are fetched),
    in large batches (eval_batch_size), in eval mode (restored afterwards); `progress(done, total)` is called
    before each batch and at the end (rows queued, not synced: it costs nothing)."""
    batch_size = batch_size or eval_batch_size(model)
    was_training = model.training
    model.eval()
    chunks = x.chunks(batch_size) if hasattr(x, "chunks") else \
        (x[i:i + batch_size] for i in range(0, len(x), batch_size))
    try:
        if not len(x):
            return torch.empty(0)
        out, done = [], 0
        for chunk in chunks:
            if progress is not None:
                progress(done, len(x))
            out.append(model(chunk))
            done += len(chunk)
        if progress is not None:
            progress(len(x), len(x))
        return torch.cat(out)
    finally:
        model.train(was_training)


def sample_split(split, n: int | None, seed: int = 0):
    """At most n rows of a split, drawn by a seeded shuffle and kept in their order (the split itself when
    it has n rows or fewer)."""
    if n is None or len(split) <= n:
        return split
    rows = torch.randperm(len(split), generator=torch.Generator().manual_seed(seed))[:n].sort().values
    return split.subset(rows)


def confusion_matrix(y_true: torch.Tensor, y_pred: torch.Tensor, num_classes: int) -> torch.Tensor:
    """Counts with rows = true class, columns = predicted class."""
    return torch.bincount(y_true * num_classes + y_pred, minlength=num_classes ** 2).view(num_classes, num_classes)


def loss_acc_confusion(model, split, num_classes: int, top5: bool = False, progress: Callable | None = None):
    """Mean cross-entropy, accuracy and confusion matrix of a split (one device sync); with top5, also the
    top-5 accuracy (None for 5 classes or fewer). `progress` as in predict()."""
    if len(split) == 0:
        return (float("nan"), float("nan"), []) + ((None,) if top5 else ())
    logits = predict(model, split, progress=progress)
    loss = F.cross_entropy(logits.float(), split.y)
    cm = confusion_matrix(split.y, logits.argmax(1), num_classes)
    in_top5 = topk_correct(logits, split.y, 5) if top5 and num_classes > 5 else torch.zeros((), device=cm.device)
    # one transfer for all numbers; float32 because MPS has no float64 (counts stay exact below 2**24)
    loss_value, correct, correct5 = torch.stack([loss.float(), cm.diagonal().sum().float(),
                                                 in_top5.float()]).tolist()
    out = (loss_value, correct / len(split), cm.tolist())
    if top5:
        out += (correct5 / len(split) if num_classes > 5 else None,)
    return out


def topk_correct(logits: torch.Tensor, y: torch.Tensor, k: int) -> torch.Tensor:
    """How many rows have their true class among the k highest logits."""
    return (logits.topk(min(k, logits.shape[1]), dim=1).indices == y[:, None]).any(1).sum()


@dataclass
class EvalReport:
    """Everything `lab eval` shows and writes, as numbers (numpy arrays and plain lists)."""

    split: str
    classes: list[str]
    y_true: np.ndarray
    y_pred: np.ndarray
    probs: np.ndarray  # (N, K) softmax probabilities
    losses: np.ndarray  # per-sample cross-entropy
    index: np.ndarray  # each sample's position in its source split
    threshold: float | None = None  # binary tasks: P(class 1) >= threshold predicts class 1
    tuned: dict | None = None  # binary tasks: Youden's threshold as chosen on another split (tune_threshold)
    _roc: dict | None = field(default=None, repr=False, compare=False)

    @property
    def accuracy(self) -> float:
        return float((self.y_true == self.y_pred).mean())

    @property
    def loss(self) -> float:
        return float(self.losses.mean())

    @property
    def top5(self) -> float | None:
        """Share of samples whose true class is among the 5 most probable; None for 5 classes or fewer."""
        if len(self.classes) <= 5 or len(self.y_true) == 0:
            return None
        top = np.argsort(-self.probs, axis=1, kind="stable")[:, :5]
        return float((top == self.y_true[:, None]).any(1).mean())

    @property
    def confidence(self) -> np.ndarray:
        return self.probs[np.arange(len(self.y_pred)), self.y_pred]

    def confusion(self, normalize: bool = False) -> np.ndarray:
        from sklearn.metrics import confusion_matrix as sk_confusion
        labels = list(range(len(self.classes)))
        return sk_confusion(self.y_true, self.y_pred, labels=labels, normalize="true" if normalize else None)

    def per_class(self) -> dict:
        """precision, recall, f1, support per class plus macro and weighted averages (scikit-learn)."""
        from sklearn.metrics import precision_recall_fscore_support as prfs
        labels = list(range(len(self.classes)))
        p, r, f, s = prfs(self.y_true, self.y_pred, labels=labels, zero_division=0)
        rows = [{"class": c, "precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]),
                 "support": int(s[i])} for i, c in enumerate(self.classes)]
        avgs = {}
        for avg in ("macro", "weighted"):
            ap, ar, af, _ = prfs(self.y_true, self.y_pred, labels=labels, average=avg, zero_division=0)
            avgs[avg] = {"precision": float(ap), "recall": float(ar), "f1": float(af), "support": int(s.sum())}
        return {"classes": rows, **avgs}

    def most_confused(self, k: int = 5) -> list[tuple[int, int, int]]:
        """Top-k (true, predicted, count) off-diagonal pairs."""
        cm = self.confusion()
        np.fill_diagonal(cm, 0)
        order = np.argsort(cm, axis=None, kind="stable")[::-1][:k]
        pairs = [(int(i // cm.shape[1]), int(i % cm.shape[1])) for i in order]
        return [(t, p, int(cm[t, p])) for t, p in pairs if cm[t, p] > 0]

    def roc(self) -> dict:
        """One-vs-rest ROC per class: {class index: (fpr, tpr, thresholds, auc)}; auc is NaN for absent classes."""
        if self._roc is None:
            self._roc = self._compute_roc()
        return self._roc

    def _compute_roc(self) -> dict:
        from sklearn.metrics import roc_auc_score, roc_curve
        out = {}
        for k in range(len(self.classes)):
            positive = self.y_true == k
            if positive.all() or not positive.any():
                out[k] = (np.array([]), np.array([]), np.array([]), float("nan"))
                continue
            fpr, tpr, thr = roc_curve(positive, self.probs[:, k])
            out[k] = (fpr, tpr, thr, float(roc_auc_score(positive, self.probs[:, k])))
        return out

    def macro_auc(self) -> float:
        aucs = [v[3] for v in self.roc().values() if not np.isnan(v[3])]
        return float(np.mean(aucs)) if aucs else float("nan")

    def youden(self) -> dict | None:
        """Binary tasks: the threshold on P(class 1) that maximises TPR - FPR."""
        if len(self.classes) != 2:
            return None
        fpr, tpr, thr, auc = self.roc()[1]
        if len(thr) == 0:
            return None
        i = int(np.argmax(tpr - fpr))
        return {"threshold": float(min(thr[i], 1.0)), "tpr": float(tpr[i]), "fpr": float(fpr[i]),
                "j": float(tpr[i] - fpr[i])}

    def at_threshold(self, t: float) -> dict:
        """Binary tasks: TPR and FPR of this split when P(class 1) >= t predicts class 1."""
        pred = self.probs[:, 1] >= t
        pos, neg = self.y_true == 1, self.y_true == 0
        return {"tpr": float(pred[pos].mean()) if pos.any() else float("nan"),
                "fpr": float(pred[neg].mean()) if neg.any() else float("nan")}

    def operating_points(self, n: int = 8) -> list[tuple[float, float, float]]:
        """About n (threshold, tpr, fpr) rows of the class-1 ROC curve, one per distinct threshold shown;
        sklearn's leading +inf threshold (nothing predicted positive) is left out."""
        fpr, tpr, thr, _ = self.roc()[1]
        keep = np.isfinite(thr)
        fpr, tpr, thr = fpr[keep], tpr[keep], thr[keep]
        rows, seen = [], set()
        for i in sorted(set(range(0, len(thr), max(1, len(thr) // n))) | {len(thr) - 1}):
            t = round(float(min(thr[i], 1.0)), 4)
            if t not in seen:
                seen.add(t)
                rows.append((t, float(tpr[i]), float(fpr[i])))
        return rows

    def top_losses(self, n: int) -> list[int]:
        """Row numbers of the n highest-loss samples."""
        return [int(i) for i in np.argsort(-self.losses, kind="stable")[:n]]

    def gallery(self, k: int) -> dict[str, list[int]]:
        """Row numbers of true positives, false positives and false negatives of class k, most confident first."""
        conf = self.confidence
        pick = {"true positives": (self.y_true == k) & (self.y_pred == k),
                "false positives": (self.y_true != k) & (self.y_pred == k),
                "false negatives": (self.y_true == k) & (self.y_pred != k)}
        return {name: [int(i) for i in np.flatnonzero(m)[np.argsort(-conf[m], kind="stable")]]
                for name, m in pick.items()}

    def metrics(self) -> dict:
        """The content of metrics.json."""
        roc = self.roc()
        out = {"split": self.split, "samples": int(len(self.y_true)), "accuracy": self.accuracy, "loss": self.loss,
               "classes": self.classes, "per_class": self.per_class(),
               "confusion": self.confusion().tolist(),
               "most_confused": [{"true": self.classes[t], "predicted": self.classes[p], "count": c}
                                 for t, p, c in self.most_confused(10)],
               "roc_auc": {self.classes[k]: v[3] for k, v in roc.items()}, "roc_auc_macro": self.macro_auc()}
        if self.top5 is not None:
            out["top5_accuracy"] = self.top5
        if self.threshold is not None:
            out["threshold"] = self.threshold
        if self.tuned is not None:
            out["youden"] = {**self.tuned, "on_this_split": self.at_threshold(self.tuned["threshold"])}
        return out


def evaluate(model: torch.nn.Module, split, classes: list[str], name: str = "test",
             threshold: float | None = None) -> EvalReport:
    """Run a split through the model in large batches without gradients."""
    logits = predict(model, split).float()
    probs = torch.softmax(logits, 1)
    losses = F.cross_entropy(logits, split.y, reduction="none")
    probs_np = probs.cpu().numpy()
    if threshold is not None and len(classes) == 2:
        y_pred = (probs_np[:, 1] >= threshold).astype(np.int64)
    else:
        y_pred = probs_np.argmax(1)
    return EvalReport(name, list(classes), split.y.cpu().numpy(), y_pred, probs_np, losses.cpu().numpy(),
                      split.index.cpu().numpy(), threshold)


def tune_threshold(report: EvalReport) -> dict | None:
    """Youden's J threshold chosen on `report`'s split (validation, normally), to apply to other splits."""
    y = report.youden()
    return None if y is None else {**y, "chosen_on": report.split}


def write_report(report: EvalReport, out_dir: str | Path) -> Path:
    """metrics.json, per_class.csv, confusion.csv, roc.csv and predictions.csv under out_dir."""
    out = Path(out_dir)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        _write_report_files(report, safe_folder(out))  # a symlinked eval/ would write outside the run
    except OSError as e:
        raise CheckpointError(f"{out}: cannot write the evaluation files ({e.strerror or e})") from None
    return out


def _write_report_files(report: EvalReport, out: Path) -> None:
    from lab_workbench.engine.core.files import atomic_open, write_json
    write_json(out / "metrics.json", report.metrics())
    pc = report.per_class()
    with atomic_open(out / "per_class.csv") as f:
        w = csv.writer(f)
        w.writerow(["class", "precision", "recall", "f1", "support"])
        for r in pc["classes"]:
            w.writerow([r["class"], f"{r['precision']:.6f}", f"{r['recall']:.6f}", f"{r['f1']:.6f}", r["support"]])
        for avg in ("macro", "weighted"):
            r = pc[avg]
            w.writerow([f"{avg} avg", f"{r['precision']:.6f}", f"{r['recall']:.6f}", f"{r['f1']:.6f}", r["support"]])
    with atomic_open(out / "confusion.csv") as f:
        w = csv.writer(f)
        w.writerow(["true\\predicted", *report.classes])
        for name, row in zip(report.classes, report.confusion()):
            w.writerow([name, *row.tolist()])
    with atomic_open(out / "roc.csv") as f:
        w = csv.writer(f)
        w.writerow(["class", "fpr", "tpr", "threshold"])
        for k, (fpr, tpr, thr, _) in report.roc().items():
            for a, b, c in zip(fpr, tpr, thr):
                w.writerow([report.classes[k], f"{a:.6f}", f"{b:.6f}", f"{min(c, 1.0):.6f}"])
    with atomic_open(out / "predictions.csv") as f:
        w = csv.writer(f)
        w.writerow(["index", "true", "predicted", "confidence", "loss"])
        conf = report.confidence
        for i in range(len(report.y_true)):
            w.writerow([int(report.index[i]), int(report.y_true[i]), int(report.y_pred[i]), f"{conf[i]:.6f}",
                        f"{report.losses[i]:.6f}"])
