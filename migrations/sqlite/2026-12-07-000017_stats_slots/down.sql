CREATE TABLE category_stats_old (
    category_key BIGINT PRIMARY KEY NOT NULL,
    products BIGINT NOT NULL DEFAULT 0,
    low_stock BIGINT NOT NULL DEFAULT 0,
    out_of_stock BIGINT NOT NULL DEFAULT 0,
    quantity BIGINT NOT NULL DEFAULT 0,
    value_lo BIGINT NOT NULL DEFAULT 0,
    value_hi BIGINT NOT NULL DEFAULT 0
);
INSERT INTO category_stats_old (category_key, products, low_stock, out_of_stock, quantity, value_lo, value_hi)
SELECT category_key, SUM(products), SUM(low_stock), SUM(out_of_stock), SUM(quantity),
    SUM(value_lo) % 2147483648, SUM(value_hi) + SUM(value_lo) / 2147483648
FROM category_stats GROUP BY category_key;
DROP TABLE category_stats;
ALTER TABLE category_stats_old RENAME TO category_stats;

CREATE TABLE supplier_stats_old (
    supplier_id BIGINT PRIMARY KEY NOT NULL,
    products BIGINT NOT NULL DEFAULT 0,
    supplied_value_lo BIGINT NOT NULL DEFAULT 0,
    stock_value_lo BIGINT NOT NULL DEFAULT 0,
    supplied_value_hi BIGINT NOT NULL DEFAULT 0,
    stock_value_hi BIGINT NOT NULL DEFAULT 0
);
INSERT INTO supplier_stats_old (supplier_id, products, supplied_value_lo, stock_value_lo, supplied_value_hi, stock_value_hi)
SELECT supplier_id, SUM(products), SUM(supplied_value_lo) % 2147483648, SUM(stock_value_lo) % 2147483648,
    SUM(supplied_value_hi) + SUM(supplied_value_lo) / 2147483648, SUM(stock_value_hi) + SUM(stock_value_lo) / 2147483648
FROM supplier_stats GROUP BY supplier_id;
DROP TABLE supplier_stats;
ALTER TABLE supplier_stats_old RENAME TO supplier_stats;
