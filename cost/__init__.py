"""The price before you deploy: a monthly estimate of a stack from its offline plan (`make cost`), over a price table
kept in `cost/prices.json` that `make prices` refreshes from the AWS Price List."""
