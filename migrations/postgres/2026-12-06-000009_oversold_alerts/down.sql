DELETE FROM alerts WHERE kind = 'oversold';
DROP INDEX alerts_one_open;
CREATE UNIQUE INDEX alerts_one_open ON alerts (product_id) WHERE status <> 'resolved';
ALTER TABLE alerts DROP CONSTRAINT alerts_kind_check;
ALTER TABLE alerts ADD CONSTRAINT alerts_kind_check CHECK (kind IN ('low_stock', 'out_of_stock'));
