"""The gateway's Prometheus metrics: the portal's request metrics (in the gateway's own registry)
plus payments by outcome and IPN deliveries by outcome."""

from __future__ import annotations

from prometheus_client import Counter

from app.core.metrics import Metrics


class GatewayMetrics(Metrics):
    def __init__(self) -> None:
        super().__init__()
        self.payments = Counter(
            "portalsim_gateway_payments_total",
            "Payments settled by the payer simulation, by response code (abandon: none)",
            ["outcome"],
            registry=self.registry,
        )
        self.ipn_deliveries = Counter(
            "portalsim_gateway_ipn_deliveries_total",
            "IPN delivery attempts by outcome",
            ["outcome"],
            registry=self.registry,
        )
