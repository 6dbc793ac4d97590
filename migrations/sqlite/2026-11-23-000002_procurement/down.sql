DROP INDEX stock_adjustments_kind_time;
DROP TABLE alerts;
DROP TABLE purchase_order_lines;
DROP TABLE purchase_orders;
