DROP TABLE list_versions;
DROP INDEX products_category_price;
CREATE INDEX products_category_price ON products (category_id, price_cents, id);
