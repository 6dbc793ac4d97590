-- Folds the slots back into one row a category and a supplier.
CREATE TABLE category_stats_one AS
SELECT category_key, SUM(products)::BIGINT AS products, SUM(low_stock)::BIGINT AS low_stock,
    SUM(out_of_stock)::BIGINT AS out_of_stock, SUM(quantity)::BIGINT AS quantity,
    (SUM(value_hi) + SUM(value_lo) / 2147483648)::BIGINT AS value_hi,
    (SUM(value_lo) % 2147483648)::BIGINT AS value_lo
FROM category_stats GROUP BY category_key;
DELETE FROM category_stats;
ALTER TABLE category_stats DROP CONSTRAINT category_stats_pkey;
ALTER TABLE category_stats DROP COLUMN slot;
ALTER TABLE category_stats ADD PRIMARY KEY (category_key);
INSERT INTO category_stats (category_key, products, low_stock, out_of_stock, quantity, value_hi, value_lo)
SELECT category_key, products, low_stock, out_of_stock, quantity, value_hi, value_lo FROM category_stats_one;
DROP TABLE category_stats_one;

CREATE TABLE supplier_stats_one AS
SELECT supplier_id, SUM(products)::BIGINT AS products,
    (SUM(supplied_value_hi) + SUM(supplied_value_lo) / 2147483648)::BIGINT AS supplied_value_hi,
    (SUM(supplied_value_lo) % 2147483648)::BIGINT AS supplied_value_lo,
    (SUM(stock_value_hi) + SUM(stock_value_lo) / 2147483648)::BIGINT AS stock_value_hi,
    (SUM(stock_value_lo) % 2147483648)::BIGINT AS stock_value_lo
FROM supplier_stats GROUP BY supplier_id;
DELETE FROM supplier_stats;
ALTER TABLE supplier_stats DROP CONSTRAINT supplier_stats_pkey;
ALTER TABLE supplier_stats DROP COLUMN slot;
ALTER TABLE supplier_stats ADD PRIMARY KEY (supplier_id);
INSERT INTO supplier_stats (supplier_id, products, supplied_value_hi, supplied_value_lo, stock_value_hi, stock_value_lo)
SELECT supplier_id, products, supplied_value_hi, supplied_value_lo, stock_value_hi, stock_value_lo FROM supplier_stats_one;
DROP TABLE supplier_stats_one;
