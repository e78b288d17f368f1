-- The revenue of a custom event or click (a purchase): its amount in
-- ten-thousandths of the currency's unit (store.Amount) and the ISO 4217
-- currency, or 0 and '' (most events). Summed per currency for event goals.
ALTER TABLE events ADD COLUMN revenue_amount UInt64 DEFAULT 0 AFTER language;
ALTER TABLE events ADD COLUMN revenue_currency String DEFAULT '' AFTER revenue_amount;
