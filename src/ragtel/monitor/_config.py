"""MonitorConfig: the in-process monitor's options, resolved argument > environment > default."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from typing import Final, Literal

_log = logging.getLogger("ragtel.monitor")

ENV_WINDOW_SIZE: Final = "RAGTEL_MONITOR_WINDOW_SIZE"
"""Number of recent queries whose centroid is compared with the baseline."""
ENV_BASELINE_SIZE: Final = "RAGTEL_MONITOR_BASELINE_SIZE"
"""Number of first queries that form the baseline when no baseline file exists."""
ENV_SAMPLE_SIZE: Final = "RAGTEL_MONITOR_SAMPLE_SIZE"
"""Documents kept in the knowledge-base sample (distinct documents, by hash)."""
ENV_DRIFT_THRESHOLD: Final = "RAGTEL_MONITOR_DRIFT_THRESHOLD"
"""A distance, ``auto`` (derived from the baseline's own spread) or ``none`` (report only)."""
ENV_DRIFT_AUTO_FACTOR: Final = "RAGTEL_MONITOR_DRIFT_AUTO_FACTOR"
"""Multiplier of the ``auto`` limits (1: a level sampling noise alone almost never reaches)."""
ENV_BASELINE_PATH: Final = "RAGTEL_MONITOR_BASELINE_PATH"
"""Baseline file: loaded when it exists, written once the first queries have formed one."""

DEFAULT_WINDOW_SIZE: Final = 100
DEFAULT_BASELINE_SIZE: Final = 500
DEFAULT_SAMPLE_SIZE: Final = 1000
# The auto limit is already a level sampling noise alone reaches about once in millions of
# queries (ragtel.monitor._drift.ALARM_Z); the factor scales it, above 1 for fewer alarms on
# bursty, session-correlated traffic, below 1 for earlier ones.
DEFAULT_DRIFT_AUTO_FACTOR: Final = 1.0

AUTO: Final = "auto"
ThresholdSetting = float | Literal["auto"] | None


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value <= 0:
        # A bad variable must not stop the host application: warn and keep the default.
        _log.warning("ignoring %s=%r: expected a positive integer", name, raw)
        return default
    return value


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value > 0:
        _log.warning("ignoring %s=%r: expected a positive number", name, raw)
        return default
    return value


def parse_threshold(raw: str) -> ThresholdSetting:
    """Parse a threshold setting: a positive number, ``auto``, or ``none``/``off`` (report only)."""
    text = raw.strip().lower()
    if text == AUTO:
        return AUTO
    if text in ("none", "off", "false", "0"):
        return None
    value = float(text)
    if not value > 0:
        raise ValueError(f"drift threshold must be positive, got {raw!r}")
    return value


def _env_threshold() -> ThresholdSetting:
    raw = os.environ.get(ENV_DRIFT_THRESHOLD)
    if raw is None or not raw.strip():
        return AUTO
    try:
        return parse_threshold(raw)
    except ValueError:
        _log.warning(
            "ignoring %s=%r: expected a number, 'auto' or 'none'", ENV_DRIFT_THRESHOLD, raw
        )
        return AUTO


def _env_path() -> str | None:
    raw = os.environ.get(ENV_BASELINE_PATH)
    return raw if raw else None


@dataclass(frozen=True, slots=True)
class MonitorConfig:
    """Options of :class:`~ragtel.monitor.EmbeddingMonitor`.

    A field left out of the constructor takes its ``RAGTEL_MONITOR_*`` environment variable, then
    the default, so an SRE can tune a deployed app without touching code.

    Attributes:
        window_size: recent queries whose centroid is compared with the baseline (default 100).
        baseline_size: first queries that form the baseline (default 500).
        sample_size: documents kept in the knowledge-base sample (default 1000).
        drift_threshold: a drift distance, ``"auto"`` (default: an alarm on the drift's
            whitened score at a level sampling noise alone almost never reaches, computed from
            the baseline's own spread; see :mod:`ragtel.monitor._drift`), or ``None`` to report
            drift without ever signalling a crossing.
        drift_auto_factor: multiplier of the ``"auto"`` thresholds' normal score (default 1).
        baseline_path: a baseline file; loaded when it exists, else written once formed.
        seed: salts the hash that picks the knowledge-base sample; None (the default) keeps
            the same sample of the same documents in every process.
    """

    window_size: int = field(default_factory=lambda: _env_int(ENV_WINDOW_SIZE, DEFAULT_WINDOW_SIZE))
    baseline_size: int = field(
        default_factory=lambda: _env_int(ENV_BASELINE_SIZE, DEFAULT_BASELINE_SIZE)
    )
    sample_size: int = field(default_factory=lambda: _env_int(ENV_SAMPLE_SIZE, DEFAULT_SAMPLE_SIZE))
    drift_threshold: ThresholdSetting = field(default_factory=_env_threshold)
    drift_auto_factor: float = field(
        default_factory=lambda: _env_float(ENV_DRIFT_AUTO_FACTOR, DEFAULT_DRIFT_AUTO_FACTOR)
    )
    baseline_path: str | None = field(default_factory=_env_path)
    seed: int | None = None

    def __post_init__(self) -> None:
        for name in ("window_size", "baseline_size", "sample_size"):
            value = getattr(self, name)
            if not isinstance(value, int) or value <= 0:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        threshold = self.drift_threshold
        if (threshold is not None and threshold != AUTO) and (
            not isinstance(threshold, int | float) or not threshold > 0
        ):
            raise ValueError(f"drift_threshold must be > 0, 'auto' or None, got {threshold!r}")
        if not self.drift_auto_factor > 0:
            raise ValueError(f"drift_auto_factor must be > 0, got {self.drift_auto_factor!r}")
