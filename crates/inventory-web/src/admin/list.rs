//! Change lists: the query checked (an unknown filter, ordering or page is a message, never an
//! error page), the model's core list called, and the rows drawn with sort links, filters
//! and pages.

use inventory_core::CoreError;
use serde_json::Value;

use super::model::{ColKind, FilterKind, ListParams, Meta, ModelAdmin, PER_PAGE};
use super::ui::{Cell, Choice, FilterView, Header, ListView, Message, PageLink, Row};
use super::web::{query_pairs, query_string, AdminError, Page};

/// A time as staff read it: `2026-12-01 10:15` (UTC).
pub fn short_time(s: &str) -> String {
    let t = s.trim_end_matches('Z');
    match t.split_once('T') {
        Some((d, time)) => format!("{d} {}", time.get(..5).unwrap_or(time)),
        None => t.to_owned(),
    }
}

pub fn cell_text(v: &Value, kind: ColKind) -> String {
    match (v, kind) {
        (Value::Null, _) => "—".into(),
        (Value::Bool(b), _) => if *b { "Yes" } else { "No" }.into(),
        (Value::String(s), ColKind::Time) => short_time(s),
        (Value::String(s), _) => s.clone(),
        (other, _) => other.to_string(),
    }
}

fn valid_filter(kind: FilterKind, value: &str) -> bool {
    match kind {
        FilterKind::Bool => matches!(value, "true" | "false"),
        FilterKind::Choice(c) => c.iter().any(|(v, _)| *v == value),
        FilterKind::Fk => value.parse::<i64>().is_ok_and(|n| n >= 0),
        FilterKind::Date => chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d").is_ok(),
    }
}

/// Reads the query: known keys kept, the rest (and bad values) dropped with a message each.
pub fn params(meta: &Meta, qs: &str, messages: &mut Vec<Message>) -> ListParams {
    let mut p = ListParams {
        page: 1,
        ..ListParams::default()
    };
    for (k, v) in query_pairs(qs) {
        match k.as_str() {
            "q" => {
                let t = v.trim();
                if !t.is_empty() {
                    p.search = Some(t.to_owned());
                }
            }
            "o" | "ordering" => {
                if !v.trim().is_empty() {
                    p.ordering = Some(v.trim().to_owned());
                }
            }
            "p" | "page" => match v.trim().parse::<i64>() {
                Ok(n) if n >= 1 => p.page = n,
                _ => messages.push(Message::warning(format!(
                    "“{v}” is not a page number; showing the first page."
                ))),
            },
            name => match meta.filters.iter().find(|f| f.name == name) {
                Some(f) if valid_filter(f.kind, v.trim()) => {
                    p.filters.retain(|(n, _)| n != name);
                    p.filters.push((name.to_owned(), v.trim().to_owned()))
                }
                Some(f) => messages.push(Message::warning(format!(
                    "“{v}” is not a valid choice for the filter “{}”; it was ignored.",
                    f.title
                ))),
                None => messages.push(Message::warning(format!(
                    "There is no filter “{name}” here; it was ignored."
                ))),
            },
        }
    }
    if !meta.searchable {
        p.search = None;
    }
    p
}

/// Calls the model's list, stepping back from a bad ordering, a filter value the core
/// refuses, or a page past the end, each with a message.
pub fn fetch(
    model: &dyn ModelAdmin,
    page: &Page<'_>,
    p: &mut ListParams,
    messages: &mut Vec<Message>,
) -> Result<(i64, Vec<Value>), AdminError> {
    for _ in 0..4 {
        match model.list(page.core, &page.ctx, p) {
            Ok(r) => return Ok(r),
            Err(CoreError::NotFound) if p.page > 1 => {
                messages.push(Message::warning(format!(
                    "There is no page {}; showing the first page.",
                    p.page
                )));
                p.page = 1;
            }
            Err(CoreError::Validation { errors, .. }) => {
                for (field, msgs) in errors {
                    let text = msgs.join(" ");
                    if field == "ordering" {
                        messages.push(Message::warning(format!(
                            "The list cannot be sorted that way ({text}); showing the default order."
                        )));
                        p.ordering = None;
                    } else if field == "page" || field == "page_size" {
                        p.page = 1;
                    } else {
                        messages.push(Message::warning(format!(
                            "The filter “{field}” was ignored: {text}"
                        )));
                        let meta = model.meta();
                        p.filters.retain(|(n, _)| {
                            let api = meta
                                .filters
                                .iter()
                                .find(|f| f.name == n)
                                .map(|f| f.api)
                                .unwrap_or("");
                            api != field && n != &field
                        });
                        if field == "search" || field == "filter" {
                            p.search = None;
                            p.filters.clear();
                        }
                    }
                }
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(AdminError::BadRequest(
        "The list could not be shown with these filters.".into(),
    ))
}

fn href(meta: &Meta, p: &ListParams, change: impl FnOnce(&mut ListParams)) -> String {
    let mut p = p.clone();
    change(&mut p);
    let mut pairs: Vec<(String, String)> = vec![];
    if let Some(q) = &p.search {
        pairs.push(("q".into(), q.clone()));
    }
    for (k, v) in &p.filters {
        pairs.push((k.clone(), v.clone()));
    }
    if let Some(o) = &p.ordering {
        pairs.push(("ordering".into(), o.clone()));
    }
    if p.page > 1 {
        pairs.push(("page".into(), p.page.to_string()));
    }
    let qs = query_string(&pairs);
    if qs.is_empty() {
        format!("/admin/{}/", meta.slug)
    } else {
        format!("/admin/{}/?{qs}", meta.slug)
    }
}

fn page_links(meta: &Meta, p: &ListParams, count: i64) -> Vec<PageLink> {
    let pages = ((count + PER_PAGE - 1) / PER_PAGE).max(1);
    if pages <= 1 {
        return vec![];
    }
    let mut shown: Vec<i64> = vec![
        1,
        2,
        pages - 1,
        pages,
        p.page - 2,
        p.page - 1,
        p.page,
        p.page + 1,
        p.page + 2,
    ];
    shown.retain(|n| *n >= 1 && *n <= pages);
    shown.sort_unstable();
    shown.dedup();
    let mut out = vec![];
    let mut last = 0;
    for n in shown {
        if n > last + 1 {
            out.push(PageLink {
                label: "…".into(),
                href: None,
                current: false,
            });
        }
        out.push(PageLink {
            label: n.to_string(),
            href: Some(href(meta, p, |q| q.page = n)),
            current: n == p.page,
        });
        last = n;
    }
    out
}

/// Draws the list.
pub fn view(
    model: &dyn ModelAdmin,
    page: &Page<'_>,
    p: &ListParams,
    count: i64,
    rows: &[Value],
) -> Result<ListView, AdminError> {
    let meta = model.meta();
    let current: Vec<(String, bool)> = p
        .ordering
        .as_deref()
        .map(|o| {
            o.split(',')
                .map(|s| match s.strip_prefix('-') {
                    Some(n) => (n.to_owned(), true),
                    None => (s.to_owned(), false),
                })
                .collect()
        })
        .unwrap_or_default();
    let headers = meta
        .columns
        .iter()
        .map(|c| {
            let (sort_href, sorted) = match c.order {
                Some(o) => {
                    let now = current.first().filter(|(n, _)| n == o);
                    let next = match now {
                        Some((_, false)) => format!("-{o}"),
                        _ => o.to_owned(),
                    };
                    let sorted = match now {
                        Some((_, false)) => "ascending",
                        Some((_, true)) => "descending",
                        None => "",
                    };
                    (
                        Some(href(meta, p, |q| {
                            q.ordering = Some(next);
                            q.page = 1;
                        })),
                        sorted,
                    )
                }
                None => (None, ""),
            };
            Header {
                label: c.label.to_owned(),
                sort_href,
                sorted,
            }
        })
        .collect();
    let rows = rows
        .iter()
        .map(|obj| {
            let id = obj.get("id").map(super::forms::display).unwrap_or_default();
            let cells = meta
                .columns
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let href = match c.kind {
                        _ if i == 0 => (!id.is_empty() && model.has_detail())
                            .then(|| format!("/admin/{}/{id}/change/", meta.slug)),
                        ColKind::Ref(slug, id_field) => obj
                            .get(id_field)
                            .and_then(Value::as_i64)
                            .map(|rid| format!("/admin/{slug}/{rid}/change/")),
                        _ => None,
                    };
                    Cell {
                        text: cell_text(obj.get(c.field).unwrap_or(&Value::Null), c.kind),
                        href,
                        numeric: matches!(c.kind, ColKind::Num | ColKind::Money),
                    }
                })
                .collect();
            Row { id, cells }
        })
        .collect();
    let mut filters = vec![];
    for f in meta.filters {
        let choices: Vec<(String, String)> = match f.kind {
            FilterKind::Bool => vec![("true".into(), "Yes".into()), ("false".into(), "No".into())],
            FilterKind::Choice(c) => c.iter().map(|(v, l)| ((*v).into(), (*l).into())).collect(),
            FilterKind::Fk => model.filter_choices(page.core, &page.ctx, f.name)?,
            FilterKind::Date => continue,
        };
        // Filters by id with no list of choices are used from links (a product's "full
        // history"), not offered in the panel.
        if choices.is_empty() && matches!(f.kind, FilterKind::Fk) {
            continue;
        }
        let selected = p
            .filters
            .iter()
            .find(|(n, _)| n == f.name)
            .map(|(_, v)| v.clone());
        let mut list = vec![Choice {
            label: "All".into(),
            href: href(meta, p, |q| {
                q.filters.retain(|(n, _)| n != f.name);
                q.page = 1;
            }),
            selected: selected.is_none(),
        }];
        for (v, l) in choices.into_iter().take(50) {
            list.push(Choice {
                selected: selected.as_deref() == Some(v.as_str()),
                href: href(meta, p, |q| {
                    q.filters.retain(|(n, _)| n != f.name);
                    q.filters.push((f.name.to_owned(), v.clone()));
                    q.page = 1;
                }),
                label: l,
            });
        }
        filters.push(FilterView {
            title: f.title.to_owned(),
            choices: list,
        });
    }
    let mut actions: Vec<(String, String)> = vec![];
    if model_has_delete(model, page) {
        actions.push((
            "delete_selected".into(),
            format!("{} selected {}", model.delete_word(), meta.plural),
        ));
    }
    for (name, label) in model.bulk_actions(&page.ctx) {
        actions.push((name.into(), label.into()));
    }
    let mut keep: Vec<(String, String)> = p.filters.clone();
    if let Some(o) = &p.ordering {
        keep.push(("ordering".into(), o.clone()));
    }
    let filtered = p.search.is_some() || !p.filters.is_empty();
    Ok(ListView {
        plural: meta.plural.to_owned(),
        singular: meta.singular.to_owned(),
        add_href: model
            .can_add(&page.ctx)
            .then(|| format!("/admin/{}/add/", meta.slug)),
        search: p.search.clone(),
        searchable: meta.searchable,
        headers,
        rows,
        count,
        filters,
        pages: page_links(meta, p, count),
        actions,
        keep,
        clear_href: filtered.then(|| format!("/admin/{}/", meta.slug)),
    })
}

/// Whether the model deletes at all for this caller (any object): the bulk delete is offered
/// only then; each object is still checked when it runs.
fn model_has_delete(model: &dyn ModelAdmin, page: &Page<'_>) -> bool {
    model.can_delete(&page.ctx, &Value::Null)
}
