DROP INDEX stock_adjustments_level_time;
DROP INDEX stock_adjustments_product_time;
DROP INDEX stock_adjustments_unreplayed;
ALTER TABLE stock_adjustments DROP COLUMN average_cost_after;
