CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL,
    email TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    first_name TEXT NOT NULL DEFAULT '',
    last_name TEXT NOT NULL DEFAULT '',
    phone TEXT NOT NULL DEFAULT '',
    role TEXT NOT NULL CHECK (role IN ('admin', 'manager', 'employee', 'auditor')),
    is_active BOOLEAN NOT NULL DEFAULT 1,
    is_staff BOOLEAN NOT NULL DEFAULT 0,
    is_superuser BOOLEAN NOT NULL DEFAULT 0,
    email_verified BOOLEAN NOT NULL DEFAULT 0,
    date_joined TIMESTAMP NOT NULL,
    last_login TIMESTAMP,
    auth_epoch TIMESTAMP NOT NULL,
    lockout_reset_at TIMESTAMP
);
CREATE UNIQUE INDEX users_username_ci ON users (lower(username));
CREATE UNIQUE INDEX users_email_ci ON users (lower(email));

CREATE TABLE sessions (
    key_hash TEXT PRIMARY KEY NOT NULL,
    user_id INTEGER REFERENCES users (id),
    login_id TEXT,
    data TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE jwt_tokens (
    jti TEXT PRIMARY KEY NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users (id),
    family TEXT NOT NULL,
    token_type TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP,
    rotated_at TIMESTAMP
);
CREATE INDEX jwt_tokens_user ON jwt_tokens (user_id);
CREATE INDEX jwt_tokens_family ON jwt_tokens (family);

CREATE TABLE account_tokens (
    token_hash TEXT PRIMARY KEY NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users (id),
    purpose TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX account_tokens_user ON account_tokens (user_id, purpose);

CREATE TABLE login_attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL,
    user_id INTEGER REFERENCES users (id),
    ip TEXT,
    user_agent TEXT NOT NULL DEFAULT '',
    success BOOLEAN NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    at TIMESTAMP NOT NULL
);
CREATE INDEX login_attempts_username ON login_attempts (lower(username), at);
CREATE INDEX login_attempts_at ON login_attempts (at);

CREATE TABLE categories (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    created_by INTEGER REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX categories_name ON categories (name);

CREATE TABLE suppliers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    contact_name TEXT NOT NULL DEFAULT '',
    email TEXT NOT NULL DEFAULT '',
    phone TEXT NOT NULL DEFAULT '',
    address TEXT NOT NULL DEFAULT '',
    contract_terms TEXT NOT NULL DEFAULT '',
    contract_start DATE,
    contract_end DATE,
    rating INTEGER CHECK (rating BETWEEN 0 AND 50),
    is_active BOOLEAN NOT NULL DEFAULT 1,
    created_by INTEGER REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX suppliers_name ON suppliers (name);

CREATE TABLE locations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('warehouse', 'store', 'other')),
    address TEXT NOT NULL DEFAULT '',
    is_active BOOLEAN NOT NULL DEFAULT 1,
    is_default BOOLEAN NOT NULL DEFAULT 0,
    created_by INTEGER REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX locations_code ON locations (code);
CREATE UNIQUE INDEX locations_one_default ON locations (is_default) WHERE is_default;
INSERT INTO locations (code, name, kind, address, is_active, is_default, created_at, updated_at)
VALUES ('MAIN', 'Main warehouse', 'warehouse', '', 1, 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP);

CREATE TABLE products (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    sku TEXT NOT NULL,
    barcode TEXT,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    category_id INTEGER REFERENCES categories (id),
    price_cents BIGINT NOT NULL CHECK (price_cents >= 0),
    quantity BIGINT NOT NULL DEFAULT 0 CHECK (quantity >= 0),
    reorder_level BIGINT NOT NULL DEFAULT 0,
    reorder_quantity BIGINT NOT NULL DEFAULT 0,
    unit TEXT NOT NULL DEFAULT 'pcs',
    created_by INTEGER REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    deleted_at TIMESTAMP,
    deleted_by INTEGER REFERENCES users (id)
);
CREATE UNIQUE INDEX products_sku_live ON products (sku) WHERE deleted_at IS NULL;
CREATE UNIQUE INDEX products_barcode_live ON products (barcode) WHERE deleted_at IS NULL AND barcode IS NOT NULL;
CREATE INDEX products_name ON products (name, id);
CREATE INDEX products_price ON products (price_cents, id);
CREATE INDEX products_quantity ON products (quantity, id);
CREATE INDEX products_created ON products (created_at, id);
CREATE INDEX products_updated ON products (updated_at, id);
CREATE INDEX products_category ON products (category_id);
CREATE INDEX products_owner ON products (created_by);

CREATE TABLE product_suppliers (
    product_id INTEGER NOT NULL REFERENCES products (id),
    supplier_id INTEGER NOT NULL REFERENCES suppliers (id),
    quantity BIGINT NOT NULL DEFAULT 0 CHECK (quantity >= 0),
    unit_cost_cents BIGINT CHECK (unit_cost_cents >= 0),
    lead_time_days INTEGER,
    contract_ref TEXT NOT NULL DEFAULT '',
    is_preferred BOOLEAN NOT NULL DEFAULT 0,
    created_by INTEGER REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (product_id, supplier_id)
);
CREATE INDEX product_suppliers_supplier ON product_suppliers (supplier_id);

CREATE TABLE stock_levels (
    product_id INTEGER NOT NULL REFERENCES products (id),
    location_id INTEGER NOT NULL REFERENCES locations (id),
    quantity BIGINT NOT NULL DEFAULT 0 CHECK (quantity >= 0),
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (product_id, location_id)
);
CREATE INDEX stock_levels_location ON stock_levels (location_id);

CREATE TABLE stock_adjustments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    product_id INTEGER NOT NULL REFERENCES products (id),
    location_id INTEGER NOT NULL REFERENCES locations (id),
    kind TEXT NOT NULL,
    delta BIGINT NOT NULL,
    quantity_after BIGINT NOT NULL,
    product_quantity_after BIGINT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    reference TEXT NOT NULL DEFAULT '',
    user_id INTEGER REFERENCES users (id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX stock_adjustments_product ON stock_adjustments (product_id, id);
CREATE INDEX stock_adjustments_created ON stock_adjustments (created_at);

CREATE TABLE transfers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    product_id INTEGER NOT NULL REFERENCES products (id),
    from_location_id INTEGER NOT NULL REFERENCES locations (id),
    to_location_id INTEGER NOT NULL REFERENCES locations (id),
    quantity BIGINT NOT NULL CHECK (quantity > 0),
    status TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    requested_by INTEGER NOT NULL REFERENCES users (id),
    approved_by INTEGER REFERENCES users (id),
    decided_at TIMESTAMP,
    reason TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE audit_logs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TIMESTAMP NOT NULL,
    user_id INTEGER REFERENCES users (id),
    username TEXT NOT NULL DEFAULT '',
    action TEXT NOT NULL,
    object_type TEXT NOT NULL,
    object_id TEXT NOT NULL DEFAULT '',
    object_repr TEXT NOT NULL DEFAULT '',
    changes TEXT NOT NULL DEFAULT '{}',
    ip TEXT,
    request_id TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_logs_object ON audit_logs (object_type, object_id);
CREATE INDEX audit_logs_at ON audit_logs (at);
