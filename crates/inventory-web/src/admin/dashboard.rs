//! `/admin/`: the figures of `/api/dashboard`, stock value by category, units in and out per
//! day for 30 days, and what waits for someone (open alerts, pending transfers, orders
//! waiting for approval).

use actix_web::{web as aw, HttpResponse};
use inventory_core::paging::PageReq;
use inventory_core::services::{alerts, dashboard, insight, orders, transfers};
use inventory_core::types::Money;

use super::charts;
use super::list::short_time;
use super::ui::{Cell, DashboardPage, Figure, Panel};
use super::web::{run, Visit};
use crate::app::AppState;

fn cell(text: impl Into<String>, href: Option<String>, numeric: bool) -> Cell {
    Cell {
        text: text.into(),
        href,
        numeric,
    }
}

pub async fn page(st: aw::Data<AppState>, visit: Visit) -> HttpResponse {
    run(&st, visit, |page| {
        let core = page.core;
        let ctx = &page.ctx;
        let d = dashboard::dashboard(core, ctx)?;
        let first = PageReq::new(Some(1), Some(10))?;
        let open_alerts = alerts::list(
            core,
            ctx,
            &alerts::AlertFilter {
                status: Some("open".into()),
                product: None,
            },
            first,
        )?;
        let pending = transfers::list(
            core,
            ctx,
            &transfers::TransferFilter {
                status: Some("pending".into()),
                ..Default::default()
            },
            first,
        )?;
        let waiting = orders::list(
            core,
            ctx,
            &orders::OrderFilter {
                status: Some("submitted".into()),
                supplier: None,
            },
            first,
        )?;
        let figures = vec![
            Figure {
                label: "Products".into(),
                value: d.products.total.to_string(),
                href: Some("/admin/products/".into()),
            },
            Figure {
                label: "Low stock".into(),
                value: d.products.low_stock.to_string(),
                href: Some("/admin/products/?low_stock=true".into()),
            },
            Figure {
                label: "Out of stock".into(),
                value: d.products.out_of_stock.to_string(),
                href: None,
            },
            Figure {
                label: "Units on hand".into(),
                value: d.inventory.total_quantity.to_string(),
                href: None,
            },
            Figure {
                label: "Stock value".into(),
                value: Money::format_wide(d.inventory.total_value),
                href: None,
            },
            Figure {
                label: "Open alerts".into(),
                value: open_alerts.count.to_string(),
                href: Some("/admin/alerts/?status=open".into()),
            },
            Figure {
                label: "Transfers to approve".into(),
                value: pending.count.to_string(),
                href: Some("/admin/transfers/?status=pending".into()),
            },
            Figure {
                label: "Orders to approve".into(),
                value: waiting.count.to_string(),
                href: Some("/admin/orders/?status=submitted".into()),
            },
        ];
        let ids: Vec<i64> = open_alerts
            .results
            .iter()
            .map(|a| a.product_id)
            .chain(pending.results.iter().map(|t| t.product_id))
            .collect();
        let names = inventory_core::services::names::products(core, ctx, &ids)?;
        let product = |id: i64| names.get(&id).cloned().unwrap_or_else(|| format!("#{id}"));
        let suppliers = super::models::name_map(&super::models::supplier_choices(core, ctx)?);
        let supplier = |id: i64| suppliers.get(&id).cloned().unwrap_or_else(|| format!("#{id}"));
        // The dashboard stays at selling price (API §10).
        let valuation = insight::valuation(core, ctx, "category", insight::Basis::Price, None)?;
        let mut rows: Vec<(String, f64, String)> = valuation
            .rows
            .iter()
            .map(|r| (r.name.clone(), r.value.minor as f64, r.value.format()))
            .collect();
        rows.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        rows.truncate(12);
        let value_chart = charts::bars(
            "value-chart-title",
            &format!(
                "Stock value at selling price by category; total {}.",
                valuation.total_value.format()
            ),
            &rows,
        );
        let movements = insight::movements(core, ctx, &insight::MovementQuery::default())?;
        let days: Vec<(String, i64, i64)> = movements
            .rows
            .iter()
            .map(|r| (r.period.clone(), r.received.max(0), (r.sold + r.removed).max(0)))
            .collect();
        let total_in: i64 = days.iter().map(|d| d.1).sum();
        let total_out: i64 = days.iter().map(|d| d.2).sum();
        let movement_chart = charts::in_out(
            "movement-chart-title",
            &format!("Units received and units sold or removed per day over the last 30 days: {total_in} in, {total_out} out."),
            &days,
        );
        let supplier_rows: Vec<Vec<Cell>> = d
            .suppliers
            .value
            .iter()
            .take(10)
            .map(|s| {
                let count = d
                    .products
                    .by_supplier
                    .iter()
                    .find(|c| c.supplier_id == s.supplier_id)
                    .map(|c| c.count)
                    .unwrap_or(0);
                vec![
                    cell(s.supplier.clone(), Some(format!("/admin/suppliers/{}/change/", s.supplier_id)), false),
                    cell(count.to_string(), Some(format!("/admin/products/?supplier_id={}", s.supplier_id)), true),
                    cell(Money::format_wide(s.supplied_value), None, true),
                    cell(Money::format_wide(s.stock_value), None, true),
                ]
            })
            .collect();
        let category_rows: Vec<Vec<Cell>> = d
            .products
            .by_category
            .iter()
            .map(|c| {
                vec![
                    cell(
                        c.category.clone().unwrap_or_else(|| "Uncategorised".into()),
                        c.category_id.map(|id| format!("/admin/products/?category_id={id}")),
                        false,
                    ),
                    cell(c.count.to_string(), None, true),
                ]
            })
            .collect();
        let panels = vec![
            Panel {
                title: "Open alerts".into(),
                headers: vec!["Alert".into(), "Product".into(), "Kind".into(), "Quantity".into(), "Since".into()],
                rows: open_alerts
                    .results
                    .iter()
                    .map(|a| {
                        vec![
                            cell(format!("#{}", a.id), Some(format!("/admin/alerts/{}/change/", a.id)), false),
                            cell(product(a.product_id), Some(format!("/admin/products/{}/change/", a.product_id)), false),
                            cell(a.kind.replace('_', " "), None, false),
                            cell(a.quantity.to_string(), None, true),
                            cell(short_time(&inventory_core::types::fmt_ts(&a.created_at)), None, false),
                        ]
                    })
                    .collect(),
                empty: "No open alerts.".into(),
                link: Some(("/admin/alerts/?status=open".into(), "All open alerts".into())),
            },
            Panel {
                title: "Transfers waiting for approval".into(),
                headers: vec!["Transfer".into(), "Product".into(), "Quantity".into(), "Requested".into()],
                rows: pending
                    .results
                    .iter()
                    .map(|t| {
                        vec![
                            cell(format!("#{}", t.id), Some(format!("/admin/transfers/{}/change/", t.id)), false),
                            cell(product(t.product_id), Some(format!("/admin/products/{}/change/", t.product_id)), false),
                            cell(t.quantity.to_string(), None, true),
                            cell(short_time(&inventory_core::types::fmt_ts(&t.created_at)), None, false),
                        ]
                    })
                    .collect(),
                empty: "No transfer is waiting.".into(),
                link: Some(("/admin/transfers/?status=pending".into(), "All pending transfers".into())),
            },
            Panel {
                title: "Purchase orders waiting for approval".into(),
                headers: vec!["Order".into(), "Supplier".into(), "Total".into(), "Created".into()],
                rows: waiting
                    .results
                    .iter()
                    .map(|o| {
                        vec![
                            cell(o.number.clone(), Some(format!("/admin/orders/{}/change/", o.id)), false),
                            cell(supplier(o.supplier_id), Some(format!("/admin/suppliers/{}/change/", o.supplier_id)), false),
                            cell(Money::format_wide(o.total), None, true),
                            cell(short_time(&inventory_core::types::fmt_ts(&o.created_at)), None, false),
                        ]
                    })
                    .collect(),
                empty: "No order is waiting.".into(),
                link: Some(("/admin/orders/?status=submitted".into(), "All submitted orders".into())),
            },
        ];
        let mut panels = panels;
        panels.push(Panel {
            title: "Products by category".into(),
            headers: vec!["Category".into(), "Products".into()],
            rows: category_rows,
            empty: "No categories yet.".into(),
            link: Some(("/admin/categories/".into(), "All categories".into())),
        });
        panels.push(Panel {
            title: "Suppliers".into(),
            headers: vec!["Supplier".into(), "Products".into(), "Supplied value".into(), "Stock value".into()],
            rows: supplier_rows,
            empty: "No suppliers yet.".into(),
            link: Some(("/admin/suppliers/".into(), "All suppliers".into())),
        });
        let tpl = DashboardPage {
            chrome: page.chrome("Dashboard", vec![]),
            figures,
            value_chart,
            movement_chart,
            panels,
        };
        page.html(&tpl)
    })
    .await
}
