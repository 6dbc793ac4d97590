ALTER TABLE stock_adjustments DROP COLUMN unit_cost;
ALTER TABLE products DROP COLUMN average_cost;
