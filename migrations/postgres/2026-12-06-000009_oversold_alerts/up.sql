-- A third alert kind, `oversold`: a correction or count left a location with less than
-- confirmed sales orders reserved there. It lives beside a low-stock alert of the same
-- product (one open alert of each family).
ALTER TABLE alerts DROP CONSTRAINT alerts_kind_check;
ALTER TABLE alerts ADD CONSTRAINT alerts_kind_check
    CHECK (kind IN ('low_stock', 'out_of_stock', 'oversold'));
DROP INDEX alerts_one_open;
CREATE UNIQUE INDEX alerts_one_open ON alerts (product_id, (kind = 'oversold')) WHERE status <> 'resolved';
