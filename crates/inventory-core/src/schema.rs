//! Diesel table definitions, written by hand so one schema serves SQLite and PostgreSQL.
//!
//! Identifiers and quantities are `BigInt` on both backends (SQLite stores every integer as
//! 64-bit anyway); small bounded numbers (`rating`, `lead_time_days`) are `Integer`.

diesel::table! {
    users (id) {
        id -> BigInt,
        username -> Text,
        email -> Text,
        password_hash -> Text,
        first_name -> Text,
        last_name -> Text,
        phone -> Text,
        role -> Text,
        is_active -> Bool,
        is_staff -> Bool,
        is_superuser -> Bool,
        email_verified -> Bool,
        date_joined -> Timestamp,
        last_login -> Nullable<Timestamp>,
        auth_epoch -> Timestamp,
        lockout_reset_at -> Nullable<Timestamp>,
        username_key -> Text,
    }
}

diesel::table! {
    sessions (key_hash) {
        key_hash -> Text,
        user_id -> Nullable<BigInt>,
        login_id -> Nullable<Text>,
        data -> Text,
        expires_at -> Timestamp,
        created_at -> Timestamp,
    }
}

diesel::table! {
    jwt_tokens (jti) {
        jti -> Text,
        user_id -> BigInt,
        family -> Text,
        token_type -> Text,
        expires_at -> Timestamp,
        created_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
        rotated_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    api_tokens (id) {
        id -> BigInt,
        user_id -> BigInt,
        name -> Text,
        prefix -> Text,
        token_hash -> Text,
        read_only -> Bool,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    idempotency_keys (id) {
        id -> BigInt,
        user_id -> BigInt,
        method -> Text,
        path -> Text,
        idem_key -> Text,
        body_hash -> Text,
        created_at -> Timestamp,
        committed_at -> Nullable<Timestamp>,
        status -> Nullable<Integer>,
        content_type -> Nullable<Text>,
        response -> Nullable<Binary>,
    }
}

diesel::table! {
    account_tokens (token_hash) {
        token_hash -> Text,
        user_id -> BigInt,
        purpose -> Text,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    login_attempts (id) {
        id -> BigInt,
        username -> Text,
        user_id -> Nullable<BigInt>,
        ip -> Nullable<Text>,
        user_agent -> Text,
        success -> Bool,
        reason -> Text,
        at -> Timestamp,
    }
}

diesel::table! {
    categories (id) {
        id -> BigInt,
        name -> Text,
        description -> Text,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    suppliers (id) {
        id -> BigInt,
        name -> Text,
        contact_name -> Text,
        email -> Text,
        phone -> Text,
        address -> Text,
        contract_terms -> Text,
        contract_start -> Nullable<Date>,
        contract_end -> Nullable<Date>,
        rating -> Nullable<Integer>,
        is_active -> Bool,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    locations (id) {
        id -> BigInt,
        code -> Text,
        name -> Text,
        kind -> Text,
        address -> Text,
        is_active -> Bool,
        is_default -> Bool,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    products (id) {
        id -> BigInt,
        sku -> Text,
        barcode -> Nullable<Text>,
        name -> Text,
        description -> Text,
        category_id -> Nullable<BigInt>,
        price_cents -> BigInt,
        quantity -> BigInt,
        reorder_level -> BigInt,
        reorder_quantity -> BigInt,
        unit -> Text,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        deleted_at -> Nullable<Timestamp>,
        deleted_by -> Nullable<BigInt>,
        average_cost -> Nullable<BigInt>,
        reserved -> BigInt,
    }
}

diesel::table! {
    product_suppliers (product_id, supplier_id) {
        product_id -> BigInt,
        supplier_id -> BigInt,
        quantity -> BigInt,
        unit_cost_cents -> Nullable<BigInt>,
        lead_time_days -> Nullable<Integer>,
        contract_ref -> Text,
        is_preferred -> Bool,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    stock_levels (product_id, location_id) {
        product_id -> BigInt,
        location_id -> BigInt,
        quantity -> BigInt,
        updated_at -> Timestamp,
        reserved -> BigInt,
    }
}

diesel::table! {
    stock_adjustments (id) {
        id -> BigInt,
        product_id -> BigInt,
        location_id -> BigInt,
        kind -> Text,
        delta -> BigInt,
        quantity_after -> BigInt,
        product_quantity_after -> BigInt,
        reason -> Text,
        reference -> Text,
        user_id -> Nullable<BigInt>,
        created_at -> Timestamp,
        unit_cost -> BigInt,
        average_cost_after -> Nullable<BigInt>,
    }
}

diesel::table! {
    transfers (id) {
        id -> BigInt,
        product_id -> BigInt,
        from_location_id -> BigInt,
        to_location_id -> BigInt,
        quantity -> BigInt,
        status -> Text,
        note -> Text,
        requested_by -> BigInt,
        approved_by -> Nullable<BigInt>,
        decided_at -> Nullable<Timestamp>,
        reason -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    audit_logs (id) {
        id -> BigInt,
        at -> Timestamp,
        user_id -> Nullable<BigInt>,
        username -> Text,
        action -> Text,
        object_type -> Text,
        object_id -> Text,
        object_repr -> Text,
        changes -> Text,
        ip -> Nullable<Text>,
        request_id -> Text,
    }
}

diesel::joinable!(products -> categories (category_id));
diesel::joinable!(product_suppliers -> products (product_id));
diesel::joinable!(product_suppliers -> suppliers (supplier_id));
diesel::joinable!(stock_levels -> products (product_id));
diesel::joinable!(stock_levels -> locations (location_id));
diesel::joinable!(stock_adjustments -> products (product_id));

diesel::table! {
    customers (id) {
        id -> BigInt,
        name -> Text,
        email -> Text,
        phone -> Text,
        billing_address -> Text,
        shipping_address -> Text,
        notes -> Text,
        is_active -> Bool,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    sales_orders (id) {
        id -> BigInt,
        number -> Text,
        customer_id -> Nullable<BigInt>,
        location_id -> BigInt,
        status -> Text,
        reference -> Text,
        notes -> Text,
        tracking -> Text,
        created_by -> Nullable<BigInt>,
        confirmed_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    sales_order_lines (id) {
        id -> BigInt,
        order_id -> BigInt,
        product_id -> BigInt,
        quantity -> BigInt,
        unit_price_cents -> BigInt,
        reserved_quantity -> BigInt,
        shipped_quantity -> BigInt,
        returned_quantity -> BigInt,
    }
}

diesel::table! {
    sales_returns (id) {
        id -> BigInt,
        order_id -> BigInt,
        location_id -> BigInt,
        restock -> Bool,
        reason -> Text,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    sales_return_lines (id) {
        id -> BigInt,
        return_id -> BigInt,
        product_id -> BigInt,
        quantity -> BigInt,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    users,
    customers,
    sales_orders,
    sales_order_lines,
    sales_returns,
    sales_return_lines,
    sessions,
    account_tokens,
    jwt_tokens,
    api_tokens,
    idempotency_keys,
    login_attempts,
    categories,
    suppliers,
    locations,
    products,
    product_suppliers,
    stock_levels,
    stock_adjustments,
    transfers,
    audit_logs,
    purchase_orders,
    purchase_order_lines,
    alerts,
    category_stats,
    supplier_stats,
    list_versions,
);

diesel::table! {
    purchase_orders (id) {
        id -> BigInt,
        number -> Text,
        supplier_id -> BigInt,
        location_id -> BigInt,
        status -> Text,
        expected_date -> Nullable<Date>,
        notes -> Text,
        created_by -> Nullable<BigInt>,
        approved_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    purchase_order_lines (id) {
        id -> BigInt,
        order_id -> BigInt,
        product_id -> BigInt,
        quantity -> BigInt,
        unit_price_cents -> BigInt,
        received_quantity -> BigInt,
    }
}

diesel::table! {
    alerts (id) {
        id -> BigInt,
        product_id -> BigInt,
        kind -> Text,
        quantity -> BigInt,
        threshold -> BigInt,
        status -> Text,
        acknowledged_by -> Nullable<BigInt>,
        acknowledged_at -> Nullable<Timestamp>,
        resolved_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::joinable!(purchase_order_lines -> purchase_orders (order_id));

diesel::table! {
    category_stats (category_key, slot) {
        category_key -> BigInt,
        slot -> BigInt,
        products -> BigInt,
        low_stock -> BigInt,
        out_of_stock -> BigInt,
        quantity -> BigInt,
        value_lo -> BigInt,
        value_hi -> BigInt,
    }
}

diesel::table! {
    supplier_stats (supplier_id, slot) {
        supplier_id -> BigInt,
        slot -> BigInt,
        products -> BigInt,
        supplied_value_lo -> BigInt,
        stock_value_lo -> BigInt,
        supplied_value_hi -> BigInt,
        stock_value_hi -> BigInt,
    }
}

diesel::table! {
    list_versions (name) {
        name -> Text,
        version -> BigInt,
    }
}

diesel::table! {
    webhooks (id) {
        id -> BigInt,
        url -> Text,
        events -> Text,
        secret -> Text,
        is_active -> Bool,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> BigInt,
        webhook_id -> BigInt,
        event -> Text,
        object_key -> Text,
        data -> Text,
        created_at -> Timestamp,
        state -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        leased_until -> Nullable<Timestamp>,
    }
}

diesel::table! {
    webhook_attempts (id) {
        id -> BigInt,
        delivery_id -> BigInt,
        webhook_id -> BigInt,
        event -> Text,
        attempt -> Integer,
        status_code -> Nullable<Integer>,
        error -> Text,
        duration_ms -> BigInt,
        at -> Timestamp,
    }
}

diesel::joinable!(webhook_deliveries -> webhooks (webhook_id));
diesel::allow_tables_to_appear_in_same_query!(webhooks, webhook_deliveries, webhook_attempts);

diesel::table! {
    auth_budget (ip) {
        ip -> Text,
        tat_ms -> BigInt,
    }
}
