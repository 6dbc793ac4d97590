-- The kept aggregates gain a slot in their key (see the PostgreSQL migration of the same
-- name). SQLite has one writer at a time, so a hot row costs it nothing and it keeps one
-- slot (0) a category and a supplier; the shape is the same so the code is.
CREATE TABLE category_stats_new (
    category_key BIGINT NOT NULL,
    slot BIGINT NOT NULL DEFAULT 0,
    products BIGINT NOT NULL DEFAULT 0,
    low_stock BIGINT NOT NULL DEFAULT 0,
    out_of_stock BIGINT NOT NULL DEFAULT 0,
    quantity BIGINT NOT NULL DEFAULT 0,
    value_lo BIGINT NOT NULL DEFAULT 0,
    value_hi BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (category_key, slot)
);
INSERT INTO category_stats_new (category_key, slot, products, low_stock, out_of_stock, quantity, value_lo, value_hi)
SELECT category_key, 0, products, low_stock, out_of_stock, quantity, value_lo, value_hi FROM category_stats;
DROP TABLE category_stats;
ALTER TABLE category_stats_new RENAME TO category_stats;

CREATE TABLE supplier_stats_new (
    supplier_id BIGINT NOT NULL,
    slot BIGINT NOT NULL DEFAULT 0,
    products BIGINT NOT NULL DEFAULT 0,
    supplied_value_lo BIGINT NOT NULL DEFAULT 0,
    stock_value_lo BIGINT NOT NULL DEFAULT 0,
    supplied_value_hi BIGINT NOT NULL DEFAULT 0,
    stock_value_hi BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (supplier_id, slot)
);
INSERT INTO supplier_stats_new (supplier_id, slot, products, supplied_value_lo, stock_value_lo, supplied_value_hi, stock_value_hi)
SELECT supplier_id, 0, products, supplied_value_lo, stock_value_lo, supplied_value_hi, stock_value_hi FROM supplier_stats;
DROP TABLE supplier_stats;
ALTER TABLE supplier_stats_new RENAME TO supplier_stats;
