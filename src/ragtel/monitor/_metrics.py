"""The monitor's OpenTelemetry instruments, through the metrics API only.

The application (or ``ragtel.configure()``) owns the SDK and exporters; this module only asks a
meter provider for instruments, so with no SDK installed every call is a cheap no-op.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Final

from opentelemetry import metrics

from ragtel.monitor._reference import ContextDistances

METER_NAME: Final = "ragtel.monitor"

# Instrument names. They mirror the span attribute names of ragtel.semconv.Ragtel so a
# dashboard and a trace speak of the same quantity with the same word.
CENTROID_DISTANCE: Final = "ragtel.monitor.centroid_distance"
CENTROID_COSINE_DISTANCE: Final = "ragtel.monitor.centroid_cosine_distance"
NEAREST_DISTANCE: Final = "ragtel.monitor.nearest_distance"
NEAREST_COSINE_DISTANCE: Final = "ragtel.monitor.nearest_cosine_distance"
DRIFT: Final = "ragtel.monitor.drift"
THRESHOLD_CROSSINGS: Final = "ragtel.monitor.drift.threshold_crossings"

# The SDK's default buckets (0, 5, 10, 25, ...) put every distance between unit-length embeddings
# into one bucket. These resolve 0.05 in the range where cosine and Euclidean distances of
# normalised vectors live, and still catch unnormalised vectors in the coarse tail.
DISTANCE_BUCKETS: Final = (
    *[round(0.05 * i, 2) for i in range(1, 21)],
    1.25, 1.5, 1.75, 2.0, 3.0, 5.0, 10.0, 25.0, 50.0, 100.0,
)  # fmt: skip


class MonitorInstruments:
    """Histograms of the four distances, a drift gauge and a crossing counter."""

    def __init__(
        self,
        meter_provider: metrics.MeterProvider | None,
        read_drift: Callable[[], float | None],
        version: str | None = None,
    ) -> None:
        provider = meter_provider if meter_provider is not None else metrics.get_meter_provider()
        meter = provider.get_meter(METER_NAME, version)

        def histogram(name: str, description: str) -> metrics.Histogram:
            return meter.create_histogram(
                name, unit="1", description=description,
                explicit_bucket_boundaries_advisory=DISTANCE_BUCKETS,
            )  # fmt: skip

        self._centroid = histogram(CENTROID_DISTANCE, "Euclidean distance query-context centroid")
        self._centroid_cos = histogram(CENTROID_COSINE_DISTANCE, "Cosine distance query-centroid")
        self._nearest = histogram(NEAREST_DISTANCE, "Euclidean distance query-nearest context")
        self._nearest_cos = histogram(NEAREST_COSINE_DISTANCE, "Cosine distance query-nearest")
        self._crossings = meter.create_counter(
            THRESHOLD_CROSSINGS, unit="1", description="Times the query drift crossed its threshold"
        )

        def observe(_options: metrics.CallbackOptions) -> Iterable[metrics.Observation]:
            value = read_drift()
            return [] if value is None else [metrics.Observation(value)]

        meter.create_observable_gauge(
            DRIFT, callbacks=[observe], unit="1",
            description="Distance between the recent query window's centroid and the baseline's",
        )  # fmt: skip

    def record(self, distances: ContextDistances) -> None:
        """Record one query's distances."""
        self._centroid.record(distances.centroid_euclidean)
        self._centroid_cos.record(distances.centroid_cosine)
        self._nearest.record(distances.nearest_euclidean)
        self._nearest_cos.record(distances.nearest_cosine)

    def crossed(self) -> None:
        """Count one threshold crossing."""
        self._crossings.add(1)
