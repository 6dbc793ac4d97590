-- Live products only, so a category + price filter counts from the index alone.
DROP INDEX products_category_price;
CREATE INDEX products_category_price ON products (category_id, price_cents, id) WHERE deleted_at IS NULL;

-- Bumped whenever the set of live products changes (create, delete, import), so a cached map
-- of list positions (deep pages) knows when it is stale, on every instance.
CREATE TABLE list_versions (
    name TEXT PRIMARY KEY NOT NULL,
    version BIGINT NOT NULL DEFAULT 0
);
INSERT INTO list_versions (name, version) VALUES ('products_live', 0);
