-- Stock as of a moment (API.md §11). A ledger row already carries the level's and the
-- product's quantity after it; it now also carries the product's average cost after it, so
-- the value of stock at any past instant is read from one row per product, never replayed.
--
-- Rows booked before this column existed hold -1 ("not yet known"); the server replays each
-- such product's ledger once at start-up (db/averages.rs) and writes the exact averages.
ALTER TABLE stock_adjustments ADD COLUMN average_cost_after BIGINT DEFAULT -1;
CREATE INDEX stock_adjustments_unreplayed ON stock_adjustments (product_id)
    WHERE average_cost_after = -1;

-- "The product's (or the level's) last row at or before T" is one descent of each index;
-- SQLite keeps the rowid (`id`) at the end of every index entry, so ties on `created_at`
-- are broken by `id` within the index.
CREATE INDEX stock_adjustments_product_time ON stock_adjustments (product_id, created_at);
CREATE INDEX stock_adjustments_level_time ON stock_adjustments (product_id, location_id, created_at);
