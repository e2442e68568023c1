"""The process a run lives in: device, precision, threads, memory, hangups and timings."""
