//! The pages every model shares: change list (with bulk actions), add, change, delete, history
//! and the object's state actions. Each finds its model, checks what the caller may do with
//! the same core rules the API uses, and draws the page.

use actix_web::{web as aw, HttpResponse};
use inventory_core::services::audit_log::{self, AuditFilter};
use inventory_core::services::ledger;
use inventory_core::CoreError;
use serde_json::{Map, Value};

use super::forms::{self, Source};
use super::model::ModelAdmin;
use super::ui::{ChangeListPage, ConfirmPage, HistoryPage, HistoryRow, Message};
use super::web::{run, AdminError, Errors, Form, Out, Page, Visit};
use super::{capitalise, find};
use crate::app::AppState;

type St = aw::Data<AppState>;

pub(super) fn model(slug: &str) -> Result<&'static dyn ModelAdmin, AdminError> {
    find(slug).ok_or(AdminError::NotFound)
}

pub(super) fn visible(m: &dyn ModelAdmin, page: &Page<'_>) -> Result<(), AdminError> {
    if m.can_view(&page.ctx) {
        Ok(())
    } else {
        Err(AdminError::Forbidden(
            "You do not have permission to view this part of the site.".into(),
        ))
    }
}

pub(super) fn list_crumbs(m: &dyn ModelAdmin) -> Vec<(String, String)> {
    let meta = m.meta();
    vec![(format!("/admin/{}/", meta.slug), capitalise(meta.plural))]
}

pub(super) fn object_crumbs(m: &dyn ModelAdmin, id: i64, repr: &str) -> Vec<(String, String)> {
    let mut c = list_crumbs(m);
    c.push((
        format!("/admin/{}/{id}/change/", m.meta().slug),
        repr.to_owned(),
    ));
    c
}

pub async fn list(st: St, visit: Visit, slug: aw::Path<String>) -> HttpResponse {
    let qs = visit.query.clone();
    run(&st, visit, move |page| {
        let m = model(&slug)?;
        visible(m, page)?;
        let mut messages = vec![];
        let mut p = super::list::params(m.meta(), &qs, &mut messages);
        let (count, rows) = super::list::fetch(m, page, &mut p, &mut messages)?;
        let list = super::list::view(m, page, &p, count, &rows)?;
        let mut chrome = page.chrome(
            capitalise(m.meta().plural),
            vec![(String::new(), capitalise(m.meta().plural))],
        );
        chrome.messages.extend(messages);
        page.html(&ChangeListPage { chrome, list })
    })
    .await
}

/// `POST /admin/<model>/`: a bulk action over the checked rows, confirmed first.
pub async fn list_action(st: St, visit: Visit, slug: aw::Path<String>, form: Form) -> HttpResponse {
    let form = form.0;
    run(&st, visit, move |page| {
        let m = model(&slug)?;
        visible(m, page)?;
        let meta = m.meta();
        let back = format!("/admin/{}/", meta.slug);
        let action = form.text("action");
        let ids: Vec<i64> = form
            .all("_selected_action")
            .iter()
            .filter_map(|s| s.trim().parse().ok())
            .collect();
        let allowed: Vec<(String, String)> = {
            let mut a = vec![];
            if m.can_delete(&page.ctx, &Value::Null) {
                a.push(("delete_selected".to_owned(), format!("{} selected", m.delete_word())));
            }
            a.extend(m.bulk_actions(&page.ctx).into_iter().map(|(n, l)| (n.to_owned(), l.to_owned())));
            a
        };
        let Some((_, label)) = allowed.iter().find(|(n, _)| *n == action) else {
            return Ok(page.redirect(back, Some(Message::warning("No action selected."))));
        };
        if ids.is_empty() {
            return Ok(page.redirect(
                back,
                Some(Message::warning(
                    "Items must be selected in order to perform actions on them. No items have been changed.",
                )),
            ));
        }
        if form.get("post") != Some("yes") {
            let mut affects = vec![];
            for id in &ids {
                match m.get(page.core, &page.ctx, *id) {
                    Ok(obj) => affects.push(format!("{} “{}”", capitalise(meta.singular), m.repr(&obj))),
                    Err(CoreError::NotFound) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            let mut hidden = vec![("action".to_owned(), action.clone())];
            hidden.extend(ids.iter().map(|i| ("_selected_action".to_owned(), i.to_string())));
            let tpl = ConfirmPage {
                chrome: page.chrome("Are you sure?", list_crumbs(m)),
                heading: "Are you sure?".into(),
                question: format!(
                    "“{label}” will be applied to these {} {}:",
                    affects.len(),
                    meta.plural
                ),
                affects,
                action: back.clone(),
                hidden,
                fields: vec![],
                submit: "Yes, I’m sure".into(),
                back,
                danger: action == "delete_selected",
            };
            return page.html(&tpl);
        }
        let mut done = 0;
        for id in ids {
            match m.bulk(page.core, &page.ctx, &action, id) {
                Ok(()) => done += 1,
                Err(CoreError::NotFound) => page.flash.push(Message::warning(format!(
                    "{} #{id} no longer exists.",
                    capitalise(meta.singular)
                ))),
                Err(e) => page.flash.push(Message::error(format!(
                    "{} #{id}: {}",
                    capitalise(meta.singular),
                    refusal(&e)
                ))),
            }
        }
        let msg = format!(
            "“{label}” done for {done} {}.",
            if done == 1 { meta.singular } else { meta.plural }
        );
        Ok(page.redirect(back, Some(Message::success(msg))))
    })
    .await
}

/// A refusal in words (a conflict, a permission, a validation message).
pub fn refusal(e: &CoreError) -> String {
    match e {
        CoreError::Validation { detail, errors } => {
            let mut s = detail.clone();
            for (f, msgs) in errors {
                if f == "non_field_errors" {
                    s.push_str(&format!(" {}", msgs.join(" ")));
                } else {
                    s.push_str(&format!(" {f}: {}", msgs.join(" ")));
                }
            }
            s
        }
        CoreError::Conflict { detail, .. } | CoreError::Forbidden { detail, .. } => detail.clone(),
        CoreError::Unauthenticated { detail, .. } | CoreError::Unprocessable { detail, .. } => {
            detail.clone()
        }
        CoreError::NotFound => "Not found.".into(),
        CoreError::Unavailable(_) => "The database is unavailable; try again.".into(),
        CoreError::Internal(_) => "Something went wrong; it has been logged.".into(),
    }
}

pub(super) fn id_of(raw: &str) -> Result<i64, AdminError> {
    raw.parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or(AdminError::NotFound)
}

fn delete_page(
    m: &dyn ModelAdmin,
    page: &mut Page<'_>,
    id: i64,
    obj: &Value,
    error: Option<String>,
) -> Result<Out, AdminError> {
    let meta = m.meta();
    let blocked = m.delete_blocked(page.core, &page.ctx, obj)?;
    let affects = match &blocked {
        Some(why) => vec![why.clone()],
        None => m.delete_summary(page.core, &page.ctx, obj)?,
    };
    let word = m.delete_word();
    let mut chrome = page.chrome("Are you sure?", object_crumbs(m, id, &m.repr(obj)));
    if let Some(e) = error {
        chrome.messages.push(Message::error(e));
    }
    if blocked.is_some() {
        let tpl = ConfirmPage {
            chrome,
            heading: format!(
                "Cannot {} {} “{}”",
                word.to_lowercase(),
                meta.singular,
                m.repr(obj)
            ),
            question: format!("The {} “{}” is in use:", meta.singular, m.repr(obj)),
            affects,
            action: String::new(),
            hidden: vec![],
            fields: vec![],
            submit: String::new(),
            back: format!("/admin/{}/{id}/change/", meta.slug),
            danger: true,
        };
        return page.html(&tpl);
    }
    let tpl = ConfirmPage {
        chrome,
        heading: "Are you sure?".into(),
        question: format!(
            "Are you sure you want to {} the {} “{}”?{}",
            word.to_lowercase(),
            meta.singular,
            m.repr(obj),
            if affects.is_empty() {
                ""
            } else {
                " It affects the following:"
            }
        ),
        affects,
        action: format!("/admin/{}/{id}/delete/", meta.slug),
        hidden: vec![],
        fields: vec![],
        submit: format!("Yes, {} it", word.to_lowercase()),
        back: format!("/admin/{}/{id}/change/", meta.slug),
        danger: true,
    };
    page.html(&tpl)
}

pub async fn delete_form(st: St, visit: Visit, path: aw::Path<(String, String)>) -> HttpResponse {
    let (slug, id) = path.into_inner();
    run(&st, visit, move |page| {
        let m = model(&slug)?;
        visible(m, page)?;
        let id = id_of(&id)?;
        let obj = m.get(page.core, &page.ctx, id)?;
        if !m.can_delete(&page.ctx, &obj) {
            return Err(AdminError::Forbidden(format!(
                "You may not delete this {}.",
                m.meta().singular
            )));
        }
        delete_page(m, page, id, &obj, None)
    })
    .await
}

pub async fn delete(
    st: St,
    visit: Visit,
    path: aw::Path<(String, String)>,
    _form: Form,
) -> HttpResponse {
    let (slug, id) = path.into_inner();
    run(&st, visit, move |page| {
        let m = model(&slug)?;
        visible(m, page)?;
        let id = id_of(&id)?;
        let obj = m.get(page.core, &page.ctx, id)?;
        if !m.can_delete(&page.ctx, &obj) {
            return Err(AdminError::Forbidden(format!(
                "You may not delete this {}.",
                m.meta().singular
            )));
        }
        match m.delete(page.core, &page.ctx, id) {
            Ok(()) => {
                let done = if m.delete_word() == "Delete" {
                    "deleted"
                } else {
                    "deactivated"
                };
                let msg = format!(
                    "The {} “{}” was {done} successfully.",
                    m.meta().singular,
                    m.repr(&obj)
                );
                Ok(page.redirect(
                    format!("/admin/{}/", m.meta().slug),
                    Some(Message::success(msg)),
                ))
            }
            Err(
                e @ (CoreError::Conflict { .. }
                | CoreError::Forbidden { .. }
                | CoreError::Validation { .. }),
            ) => delete_page(m, page, id, &obj, Some(refusal(&e))),
            Err(e) => Err(e.into()),
        }
    })
    .await
}

/// A change's `[old, new]` pairs in words.
fn change_lines(changes: &Value) -> Vec<String> {
    let Some(map) = changes.as_object() else {
        return vec![];
    };
    map.iter()
        .filter(|(_, v)| {
            // A created object's empty fields say nothing.
            !matches!(v.as_array().map(Vec::as_slice), Some([old, new]) if old.is_null() && (new.is_null() || new == ""))
        })
        .map(|(field, v)| match v.as_array().map(Vec::as_slice) {
            Some([old, new]) if old.is_null() => format!("{field}: {}", forms::display(new)),
            Some([old, new]) => {
                format!("{field}: {} → {}", forms::display(old), forms::display(new))
            }
            _ => format!("{field}: {}", forms::display(v)),
        })
        .collect()
}

pub async fn history(st: St, visit: Visit, path: aw::Path<(String, String)>) -> HttpResponse {
    let (slug, id) = path.into_inner();
    run(&st, visit, move |page| {
        let m = model(&slug)?;
        visible(m, page)?;
        let id = id_of(&id)?;
        let obj = m.get(page.core, &page.ctx, id)?;
        let f = AuditFilter {
            object_type: Some(m.meta().object_type.to_owned()),
            object_id: Some(id.to_string()),
            ..AuditFilter::default()
        };
        let page_req = inventory_core::paging::PageReq::new(Some(1), Some(100))?;
        let entries = audit_log::list(page.core, &page.ctx, &f, page_req)?;
        let rows = entries
            .results
            .into_iter()
            .map(|e| {
                let v = serde_json::to_value(&e).unwrap_or(Value::Null);
                HistoryRow {
                    at: super::list::short_time(v["at"].as_str().unwrap_or("")),
                    user: v["username"].as_str().unwrap_or("").to_owned(),
                    action: v["action"].as_str().unwrap_or("").to_owned(),
                    changes: change_lines(&v["changes"]),
                    ip: v["ip"].as_str().unwrap_or("").to_owned(),
                    request_id: v["request_id"].as_str().unwrap_or("").to_owned(),
                }
            })
            .collect();
        let repr = m.repr(&obj);
        let mut crumbs = object_crumbs(m, id, &repr);
        crumbs.push((String::new(), "History".into()));
        let tpl = HistoryPage {
            chrome: page.chrome(format!("Change history: {repr}"), crumbs),
            heading: format!("Change history: {repr}"),
            rows,
            back: format!("/admin/{}/{id}/change/", m.meta().slug),
        };
        page.html(&tpl)
    })
    .await
}

pub async fn action_form(
    st: St,
    visit: Visit,
    path: aw::Path<(String, String, String)>,
) -> HttpResponse {
    let (slug, id, action) = path.into_inner();
    run(&st, visit, move |page| {
        let m = model(&slug)?;
        visible(m, page)?;
        let id = id_of(&id)?;
        let obj = m.get(page.core, &page.ctx, id)?;
        let Some((label, danger, fields)) = m.action_confirm(&action) else {
            return Err(AdminError::NotFound);
        };
        let empty = Map::new();
        let views = forms::views(&fields, &Source::Empty(&empty), &Errors::new());
        let tpl = ConfirmPage {
            chrome: page.chrome("Are you sure?", object_crumbs(m, id, &m.repr(&obj))),
            heading: "Are you sure?".into(),
            question: format!("{label}: the {} “{}”.", m.meta().singular, m.repr(&obj)),
            affects: vec![],
            action: format!("/admin/{}/{id}/{action}/", m.meta().slug),
            hidden: vec![],
            fields: views,
            submit: label.to_owned(),
            back: format!("/admin/{}/{id}/change/", m.meta().slug),
            danger,
        };
        page.html(&tpl)
    })
    .await
}

/// `POST /admin/<model>/<id>/<action>/`: a state change. A refusal (self-approval, not enough
/// stock, the wrong state) is a message on the object's page, not an error page.
pub async fn action(
    st: St,
    visit: Visit,
    path: aw::Path<(String, String, String)>,
    form: Form,
) -> HttpResponse {
    let (slug, id, action) = path.into_inner();
    let form = form.0;
    run(&st, visit, move |page| {
        let m = model(&slug)?;
        visible(m, page)?;
        let id = id_of(&id)?;
        let back = form
            .get("_next")
            .filter(|n| n.starts_with("/admin/") && !n.starts_with("//"))
            .map(str::to_owned)
            .unwrap_or_else(|| format!("/admin/{}/{id}/change/", m.meta().slug));
        match m.object_action(page.core, &page.ctx, id, &action, &form) {
            Ok(msg) => Ok(page.redirect(back, Some(Message::success(msg)))),
            Err(CoreError::NotFound) => Err(AdminError::NotFound),
            Err(e @ (CoreError::Unavailable(_) | CoreError::Internal(_))) => Err(e.into()),
            Err(e) => Ok(page.redirect(back, Some(Message::error(refusal(&e))))),
        }
    })
    .await
}

/// `GET /admin/products/<id>/barcode.svg`: the label, for the product page (the same drawing
/// as the API's).
pub async fn barcode(st: St, visit: Visit, id: aw::Path<String>) -> HttpResponse {
    run(&st, visit, move |page| {
        let id = id_of(&id)?;
        let code = ledger::label_code(page.core, &page.ctx, id)?;
        let svg = crate::api::stock::barcode_svg_for(&code).map_err(AdminError::BadRequest)?;
        Ok(Out::Svg(svg))
    })
    .await
}
