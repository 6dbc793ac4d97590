ALTER TABLE category_stats DROP COLUMN value_hi;
ALTER TABLE category_stats RENAME COLUMN value_lo TO value;
ALTER TABLE supplier_stats DROP COLUMN supplied_value_hi;
ALTER TABLE supplier_stats RENAME COLUMN supplied_value_lo TO supplied_value;
ALTER TABLE supplier_stats DROP COLUMN stock_value_hi;
ALTER TABLE supplier_stats RENAME COLUMN stock_value_lo TO stock_value;
