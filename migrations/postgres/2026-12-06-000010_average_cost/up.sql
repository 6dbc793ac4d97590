-- What stock cost (API §10). Amounts are exact integers in ten-thousandths of the currency
-- unit ("12.3456" is 123456), never floats.
--
-- `products.average_cost` is the perpetual weighted average of what is on hand; NULL until
-- the first unit comes in. `stock_adjustments.unit_cost` is what one unit of that movement
-- cost: the receipt's own cost, or the average at that moment for everything else.
ALTER TABLE products ADD COLUMN average_cost BIGINT;
ALTER TABLE stock_adjustments ADD COLUMN unit_cost BIGINT NOT NULL DEFAULT 0;

-- Existing stock had no recorded cost: it is costed the way a first receipt without a cost
-- is, at the preferred supplier's cost, else at the product's price.
UPDATE products SET average_cost = COALESCE(
    (SELECT ps.unit_cost_cents * 100 FROM product_suppliers ps
      WHERE ps.product_id = products.id AND ps.is_preferred AND ps.unit_cost_cents IS NOT NULL
      ORDER BY ps.supplier_id LIMIT 1),
    price_cents * 100)
WHERE quantity > 0 OR EXISTS (SELECT 1 FROM stock_adjustments a WHERE a.product_id = products.id);

UPDATE stock_adjustments SET unit_cost = COALESCE(
    (SELECT p.average_cost FROM products p WHERE p.id = stock_adjustments.product_id), 0);
