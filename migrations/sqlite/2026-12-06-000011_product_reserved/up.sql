-- What confirmed sales orders hold of a product in all (the sum of its levels' `reserved`),
-- kept on the product row by the statements that move reservations, so product lists and
-- pages show `reserved` and `available` without reading the levels.
ALTER TABLE products ADD COLUMN reserved BIGINT NOT NULL DEFAULT 0;
UPDATE products SET reserved = (SELECT COALESCE(SUM(s.reserved), 0) FROM stock_levels s
    WHERE s.product_id = products.id)
WHERE id IN (SELECT product_id FROM stock_levels WHERE reserved > 0);
