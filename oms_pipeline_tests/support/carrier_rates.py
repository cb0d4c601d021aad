"""The addresses and the clock the carrier-rates connector's tests quote with."""

from __future__ import annotations

from oms_pipeline.connectors.carrier_rates import Address

EDISON = Address(name="DC-EAST", latitude=40.52, longitude=-74.41)
AUSTIN = Address(street1="100 Congress Ave", city="Austin", state="TX", zip="78701", country="US")


class FakeClock:
    """A monotonic clock the test moves by hand (``clock.now += seconds``)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now
