-- Aggregates the dashboard and list counts read instead of scanning every product. They are
-- kept in step by the services in the same transaction as each change (see stats.rs), one row
-- per category (key 0: uncategorised) and per supplier, so concurrent changes to different
-- categories never wait on one hot row.
CREATE TABLE category_stats (
    category_key BIGINT PRIMARY KEY NOT NULL,
    products BIGINT NOT NULL DEFAULT 0,
    low_stock BIGINT NOT NULL DEFAULT 0,
    out_of_stock BIGINT NOT NULL DEFAULT 0,
    quantity BIGINT NOT NULL DEFAULT 0,
    value BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE supplier_stats (
    supplier_id BIGINT PRIMARY KEY NOT NULL,
    products BIGINT NOT NULL DEFAULT 0,
    supplied_value BIGINT NOT NULL DEFAULT 0,
    stock_value BIGINT NOT NULL DEFAULT 0
);

INSERT INTO category_stats (category_key, products, low_stock, out_of_stock, quantity, value)
SELECT 0, 0, 0, 0, 0, 0;
INSERT INTO category_stats (category_key, products, low_stock, out_of_stock, quantity, value)
SELECT id, 0, 0, 0, 0, 0 FROM categories;
UPDATE category_stats SET
    products = (SELECT COUNT(*) FROM products p WHERE COALESCE(p.category_id, 0) = category_stats.category_key AND p.deleted_at IS NULL),
    low_stock = (SELECT COUNT(*) FROM products p WHERE COALESCE(p.category_id, 0) = category_stats.category_key AND p.deleted_at IS NULL AND p.quantity <= p.reorder_level),
    out_of_stock = (SELECT COUNT(*) FROM products p WHERE COALESCE(p.category_id, 0) = category_stats.category_key AND p.deleted_at IS NULL AND p.quantity = 0),
    quantity = (SELECT COALESCE(SUM(p.quantity), 0) FROM products p WHERE COALESCE(p.category_id, 0) = category_stats.category_key AND p.deleted_at IS NULL),
    value = (SELECT COALESCE(SUM(p.price_cents * p.quantity), 0) FROM products p WHERE COALESCE(p.category_id, 0) = category_stats.category_key AND p.deleted_at IS NULL);

INSERT INTO supplier_stats (supplier_id, products, supplied_value, stock_value)
SELECT s.id,
    (SELECT COUNT(*) FROM product_suppliers ps JOIN products p ON p.id = ps.product_id WHERE ps.supplier_id = s.id AND p.deleted_at IS NULL),
    (SELECT COALESCE(SUM(p.price_cents * ps.quantity), 0) FROM product_suppliers ps JOIN products p ON p.id = ps.product_id WHERE ps.supplier_id = s.id AND p.deleted_at IS NULL),
    (SELECT COALESCE(SUM(p.price_cents * p.quantity), 0) FROM product_suppliers ps JOIN products p ON p.id = ps.product_id WHERE ps.supplier_id = s.id AND p.deleted_at IS NULL)
FROM suppliers s;

-- Lists: live products by id (counts and deep pages walk this small index), the low-stock
-- subset, and category + price for the common filter-and-sort.
CREATE INDEX products_live_id ON products (id) WHERE deleted_at IS NULL;
CREATE INDEX products_low_stock ON products (id) WHERE deleted_at IS NULL AND quantity <= reorder_level;
CREATE INDEX products_category_price ON products (category_id, price_cents, id);
