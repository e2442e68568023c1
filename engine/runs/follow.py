"""Following a growing metrics.csv: what `labtui --watch` and the dashboard read while a run writes."""

from __future__ import annotations

from pathlib import Path

from lab_workbench.engine.core.errors import CheckpointError
from lab_workbench.engine.core.files import open_regular, read_limited
from lab_workbench.engine.runs.metrics_csv import METRICS_LIMIT, parse_metrics, parse_row


class MetricsReader:
    """A metrics.csv followed as it grows: the first read thins the whole file (read_metrics); later reads
    parse only the bytes appended since (at most CHUNK per call, so a flood never blocks a viewer), keeping
    at most max_rows rows by doubling the stride. A file that shrinks or is replaced is read afresh."""

    CHUNK = 4 << 20

    def __init__(self, path: str | Path, max_rows: int = 2000):
        self.path, self.max_rows = Path(path), max_rows
        self.rows: list[dict] = []
        self.offset, self.ident, self.stride, self.count, self.last = 0, None, 1, 0, None

    def read(self) -> list[dict]:
        try:
            st = self.path.stat()
        except OSError:
            self.__init__(self.path, self.max_rows)
            return []
        if self.ident != (st.st_dev, st.st_ino) or st.st_size < self.offset:
            self._first(st)
        elif st.st_size > self.offset:
            self._more()
        rows = list(self.rows)
        if self.last is not None and (not rows or rows[-1] is not self.last):
            rows.append(self.last)  # the newest epoch is always drawn, whatever the stride
        return rows

    def _first(self, st) -> None:
        self.ident = (st.st_dev, st.st_ino)
        try:
            data = read_limited(self.path, METRICS_LIMIT)
        except CheckpointError:  # a pipe or a device where metrics.csv should be: nothing to show
            return
        end = data.rfind(b"\n") + 1  # a half-written last line is read again next time
        self.offset = end
        # the bytes read once, up to the last whole line: what _more reads next starts exactly there
        self.rows = parse_metrics(data[:end], self.max_rows) if end else []
        self.count = max(data.count(b"\n", 0, end) - 1, 0)
        self.stride = max(1, -(-self.count // self.max_rows))
        self.last = self.rows[-1] if self.rows else None

    def _more(self) -> None:
        try:
            with open_regular(self.path) as f:
                f.seek(self.offset)
                data = f.read(self.CHUNK)
        except (OSError, CheckpointError):
            return
        end = data.rfind(b"\n") + 1
        self.offset += end
        for line in data[:end].split(b"\n")[:-1]:
            row = parse_row(line)
            if row is None:
                continue
            self.count += 1
            self.last = row
            if self.count % self.stride == 0:
                self.rows.append(row)
                if len(self.rows) > self.max_rows:
                    self.rows, self.stride = self.rows[::2], self.stride * 2
