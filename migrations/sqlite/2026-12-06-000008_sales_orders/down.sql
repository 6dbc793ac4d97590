DROP TABLE sales_return_lines;
DROP TABLE sales_returns;
DROP TABLE sales_order_lines;
DROP TABLE sales_orders;
DROP INDEX stock_levels_reserved;
ALTER TABLE stock_levels DROP COLUMN reserved;
