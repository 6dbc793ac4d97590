-- Sales orders reserve stock at their location when confirmed and ship it later
-- (docs/api-reference.md, section 11). `reserved` is what confirmed orders hold of a level;
-- outgoing movements may not take `quantity` below it.
ALTER TABLE stock_levels ADD COLUMN reserved BIGINT NOT NULL DEFAULT 0 CHECK (reserved >= 0);
-- Just the levels something is reserved on: what product pages read to show `reserved`.
CREATE INDEX stock_levels_reserved ON stock_levels (product_id) WHERE reserved > 0;

CREATE TABLE sales_orders (
    id BIGSERIAL PRIMARY KEY,
    number TEXT NOT NULL,
    -- Kept when the customer is deleted later (allowed once every order is shipped or cancelled).
    customer_id BIGINT REFERENCES customers (id) ON DELETE SET NULL,
    location_id BIGINT NOT NULL REFERENCES locations (id),
    status TEXT NOT NULL CHECK (status IN ('draft', 'confirmed', 'partially_shipped', 'shipped', 'cancelled')),
    reference TEXT NOT NULL DEFAULT '',
    notes TEXT NOT NULL DEFAULT '',
    tracking TEXT NOT NULL DEFAULT '',
    created_by BIGINT REFERENCES users (id),
    confirmed_by BIGINT REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX sales_orders_number ON sales_orders (number);
CREATE INDEX sales_orders_customer ON sales_orders (customer_id, status);
CREATE INDEX sales_orders_status ON sales_orders (status, id);

CREATE TABLE sales_order_lines (
    id BIGSERIAL PRIMARY KEY,
    order_id BIGINT NOT NULL REFERENCES sales_orders (id) ON DELETE CASCADE,
    product_id BIGINT NOT NULL REFERENCES products (id),
    quantity BIGINT NOT NULL CHECK (quantity > 0),
    unit_price_cents BIGINT NOT NULL CHECK (unit_price_cents >= 0),
    reserved_quantity BIGINT NOT NULL DEFAULT 0 CHECK (reserved_quantity >= 0),
    shipped_quantity BIGINT NOT NULL DEFAULT 0 CHECK (shipped_quantity >= 0 AND shipped_quantity <= quantity),
    returned_quantity BIGINT NOT NULL DEFAULT 0 CHECK (returned_quantity >= 0 AND returned_quantity <= shipped_quantity),
    CHECK (reserved_quantity + shipped_quantity <= quantity)
);
CREATE UNIQUE INDEX sales_order_lines_product ON sales_order_lines (order_id, product_id);
CREATE INDEX sales_order_lines_by_product ON sales_order_lines (product_id);

-- Goods a customer sent back: with `restock`, `return` ledger rows brought them back into
-- stock; without, they are only recorded (damaged goods).
CREATE TABLE sales_returns (
    id BIGSERIAL PRIMARY KEY,
    order_id BIGINT NOT NULL REFERENCES sales_orders (id),
    location_id BIGINT NOT NULL REFERENCES locations (id),
    restock BOOLEAN NOT NULL DEFAULT TRUE,
    reason TEXT NOT NULL,
    created_by BIGINT REFERENCES users (id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX sales_returns_order ON sales_returns (order_id, id);

CREATE TABLE sales_return_lines (
    id BIGSERIAL PRIMARY KEY,
    return_id BIGINT NOT NULL REFERENCES sales_returns (id) ON DELETE CASCADE,
    product_id BIGINT NOT NULL REFERENCES products (id),
    quantity BIGINT NOT NULL CHECK (quantity > 0)
);
CREATE INDEX sales_return_lines_return ON sales_return_lines (return_id);
