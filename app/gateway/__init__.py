"""The mock payment gateway on the public VNPay 2.1.0 contract: its own ASGI app
(`app.gateway.main.create_gateway_app`), server (`portalsim gateway`) and ledger."""
