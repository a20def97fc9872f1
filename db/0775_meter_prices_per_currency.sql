-- Meter (overage) prices per currency (ADR 0775), the way plan prices are (ADR 0720): meter_prices keeps the price in the plans' primary
-- currency (usd) and the quantity included (a quantity, the same in every currency); meter_currency_prices holds the price of the same
-- meter and plan in each other currency. A tenant billed in a currency is charged only the prices in that currency: a meter with no
-- price in it is not billed there (the catalogue lists which prices exist), never the USD number read as euros.
CREATE TABLE meter_currency_prices (
    meter            text        NOT NULL,
    plan             text        NOT NULL,
    currency         text        NOT NULL CHECK (currency ~ '^[a-z]{3}$' AND currency <> 'usd'),
    unit_price_cents numeric     NOT NULL CHECK (unit_price_cents >= 0 AND scale(unit_price_cents) <= 6),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (meter, plan, currency),
    FOREIGN KEY (meter, plan) REFERENCES meter_prices (meter, plan) ON DELETE CASCADE
);
COMMENT ON TABLE meter_currency_prices IS 'global: overage price of each meter per plan in the currencies other than the primary (usd)';

-- Euro seeds: the built-in meters at euro prices of their own (EUR 0.0009 a call, EUR 0.021 a GB-month, EUR 2.30 a GPU hour), like the
-- plans' euro prices (Starter 45 for 49, Professional 185 for 199). Any other meter an operator priced keeps, in euros, the number it was
-- billed in euros until now (no invoice changes under a tenant without an operator deciding it); the operator reprices it per currency.
INSERT INTO meter_currency_prices (meter, plan, currency, unit_price_cents)
SELECT p.meter, p.plan, 'eur', coalesce(s.cents, p.unit_price_cents)
FROM meter_prices p
LEFT JOIN (VALUES ('api_calls', 0.09), ('storage_gb', 2.1), ('gpu_hours', 230)) AS s(meter, cents) ON s.meter = p.meter;

GRANT SELECT, INSERT, UPDATE, DELETE ON meter_currency_prices TO platform_app;
GRANT SELECT ON meter_currency_prices TO platform_xt;
