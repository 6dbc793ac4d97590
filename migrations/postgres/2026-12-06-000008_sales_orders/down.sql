DROP TABLE sales_order_lines;
DROP TABLE sales_orders;
ALTER TABLE stock_levels DROP COLUMN reserved;
