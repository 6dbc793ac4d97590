-- Money aggregates held exactly beyond 64 bits: each value is kept as hi * 2^31 + lo with
-- 0 <= lo < 2^31, both BIGINT, so any sum of product values (each within 64 bits) fits, and
-- totals over many rows sum the two parts separately. Recomputed from the base tables here:
-- an overflow under the old layout may have left a floating-point value behind on SQLite.
ALTER TABLE category_stats RENAME COLUMN value TO value_lo;
ALTER TABLE category_stats ADD COLUMN value_hi BIGINT NOT NULL DEFAULT 0;
ALTER TABLE supplier_stats RENAME COLUMN supplied_value TO supplied_value_lo;
ALTER TABLE supplier_stats ADD COLUMN supplied_value_hi BIGINT NOT NULL DEFAULT 0;
ALTER TABLE supplier_stats RENAME COLUMN stock_value TO stock_value_lo;
ALTER TABLE supplier_stats ADD COLUMN stock_value_hi BIGINT NOT NULL DEFAULT 0;

UPDATE category_stats SET
    value_hi = (SELECT COALESCE(SUM((p.price_cents * p.quantity) / 2147483648), 0) FROM products p WHERE COALESCE(p.category_id, 0) = category_stats.category_key AND p.deleted_at IS NULL),
    value_lo = (SELECT COALESCE(SUM((p.price_cents * p.quantity) % 2147483648), 0) FROM products p WHERE COALESCE(p.category_id, 0) = category_stats.category_key AND p.deleted_at IS NULL);
UPDATE category_stats SET value_hi = value_hi + value_lo / 2147483648, value_lo = value_lo % 2147483648;

UPDATE supplier_stats SET
    supplied_value_hi = (SELECT COALESCE(SUM((p.price_cents * ps.quantity) / 2147483648), 0) FROM product_suppliers ps JOIN products p ON p.id = ps.product_id WHERE ps.supplier_id = supplier_stats.supplier_id AND p.deleted_at IS NULL),
    supplied_value_lo = (SELECT COALESCE(SUM((p.price_cents * ps.quantity) % 2147483648), 0) FROM product_suppliers ps JOIN products p ON p.id = ps.product_id WHERE ps.supplier_id = supplier_stats.supplier_id AND p.deleted_at IS NULL),
    stock_value_hi = (SELECT COALESCE(SUM((p.price_cents * p.quantity) / 2147483648), 0) FROM product_suppliers ps JOIN products p ON p.id = ps.product_id WHERE ps.supplier_id = supplier_stats.supplier_id AND p.deleted_at IS NULL),
    stock_value_lo = (SELECT COALESCE(SUM((p.price_cents * p.quantity) % 2147483648), 0) FROM product_suppliers ps JOIN products p ON p.id = ps.product_id WHERE ps.supplier_id = supplier_stats.supplier_id AND p.deleted_at IS NULL);
UPDATE supplier_stats SET
    supplied_value_hi = supplied_value_hi + supplied_value_lo / 2147483648, supplied_value_lo = supplied_value_lo % 2147483648,
    stock_value_hi = stock_value_hi + stock_value_lo / 2147483648, stock_value_lo = stock_value_lo % 2147483648;
