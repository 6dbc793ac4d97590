//! The add and change pages: a model's form (with its inline rows) drawn, posted, checked by
//! the API's input types and services, and drawn again with every error beside its field.

use actix_web::{web as aw, HttpResponse};
use inventory_core::CoreError;
use serde_json::{Map, Value};

use super::forms::{self, FieldSpec, Source};
use super::model::{InlineSpec, ModelAdmin};
use super::ui::{ChangeFormPage, FieldView, FormView, InlineRow, InlineView, Message};
use super::web::{run, AdminError, Errors, Form, FormData, Out, Page, Visit};
use crate::app::AppState;

type St = aw::Data<AppState>;
use super::handlers::{id_of, list_crumbs, model, object_crumbs, visible};

/// The rows of an inline formset as submitted, with the ones marked for removal left out and
/// empty extra rows skipped.
fn inline_submitted(spec: &InlineSpec, form: &FormData, errors: &mut Errors) -> Vec<Value> {
    let total: usize = form
        .get(&format!("{}-TOTAL_FORMS", spec.prefix))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
        .min(1000);
    let mut rows = vec![];
    for i in 0..total {
        let key = |f: &str| format!("{}-{i}-{f}", spec.prefix);
        if form.has(&key("DELETE")) {
            continue;
        }
        let filled = spec.fields.iter().any(|f| {
            !matches!(f.kind, forms::Kind::Bool) && !form.text(&key(&f.name)).trim().is_empty()
        });
        if !filled {
            continue;
        }
        let mut obj = Map::new();
        for f in &spec.fields {
            if let Some(v) = forms::field_json(f, &key(&f.name), form, errors) {
                if !v.is_null() || f.nullable {
                    obj.insert(f.name.clone(), v);
                }
            }
        }
        rows.push(Value::Object(obj));
    }
    rows
}

fn inline_view(
    spec: &InlineSpec,
    existing: &[Value],
    submitted: Option<&FormData>,
    errors: &Errors,
    messages: Vec<String>,
) -> InlineView {
    let labels = spec.fields.iter().map(|f| f.label.clone()).collect();
    let row = |i: usize, source: &Source<'_>, existing: bool| InlineRow {
        fields: spec
            .fields
            .iter()
            .map(|f| {
                forms::view(
                    f,
                    &format!("{}-{i}-{}", spec.prefix, f.name),
                    source,
                    errors,
                )
            })
            .collect(),
        delete_name: format!("{}-{i}-DELETE", spec.prefix),
        existing,
    };
    let mut rows = vec![];
    match submitted {
        Some(form) => {
            let total: usize = form
                .get(&format!("{}-TOTAL_FORMS", spec.prefix))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0)
                .min(1000);
            for i in 0..total {
                rows.push(row(i, &Source::Submitted(form), i < existing.len()));
            }
        }
        None => {
            for (i, obj) in existing.iter().enumerate() {
                rows.push(row(i, &Source::Object(obj), true));
            }
            let empty = Map::new();
            for j in 0..spec.extra {
                rows.push(row(existing.len() + j, &Source::Empty(&empty), false));
            }
        }
    }
    InlineView {
        prefix: spec.prefix.to_owned(),
        title: spec.title.to_owned(),
        labels,
        rows,
        errors: messages,
        can_delete: spec.can_delete,
    }
}

/// The body a form posts: its fields, and its inline rows under the model's key.
fn body_of(
    m: &dyn ModelAdmin,
    page: &Page<'_>,
    specs: &[FieldSpec],
    form: &FormData,
) -> Result<(Value, Errors), AdminError> {
    let (mut body, mut errors) = forms::to_json(specs, form);
    if let Some(spec) = m.inline(page.core, &page.ctx)? {
        let rows = inline_submitted(&spec, form, &mut errors);
        body.insert(m.inline_key().to_owned(), Value::Array(rows));
    }
    m.precheck(form, &mut errors);
    Ok((Value::Object(body), errors))
}

struct Draw<'a> {
    heading: String,
    obj: Option<&'a Value>,
    submitted: Option<&'a FormData>,
    errors: Errors,
    summary: Vec<String>,
    inline_errors: Vec<String>,
}

fn form_page(m: &dyn ModelAdmin, page: &Page<'_>, d: Draw<'_>) -> Result<Out, AdminError> {
    let meta = m.meta();
    let specs = m.fields(page.core, &page.ctx, d.obj)?;
    let defaults = m.defaults(page.core, &page.ctx)?;
    let source = match (d.submitted, d.obj) {
        (Some(f), _) => Source::Submitted(f),
        (None, Some(o)) => Source::Object(o),
        (None, None) => Source::Empty(&defaults),
    };
    let fields: Vec<FieldView> = forms::views(&specs, &source, &d.errors);
    let mut form = FormView {
        heading: d.heading.clone(),
        slug: meta.slug.to_owned(),
        fields,
        summary: d.summary,
        add_another: m.can_add(&page.ctx),
        ..FormView::default()
    };
    if let Some(spec) = m.inline(page.core, &page.ctx)? {
        let existing = d.obj.map(|o| m.inline_rows(o)).unwrap_or_default();
        form.inlines.push(inline_view(
            &spec,
            &existing,
            d.submitted,
            &d.errors,
            d.inline_errors,
        ));
    }
    let crumbs = match d.obj {
        Some(o) => {
            let id = o.get("id").and_then(Value::as_i64).unwrap_or(0);
            form.object_id = Some(id.to_string());
            form.read_only = !m.can_change(&page.ctx, o);
            if m.can_delete(&page.ctx, o) {
                form.delete_href = Some(format!("/admin/{}/{id}/delete/", meta.slug));
            }
            if page.ctx.read_audit().is_ok() {
                form.history_href = Some(format!("/admin/{}/{id}/history/", meta.slug));
            }
            m.decorate(page.core, &page.ctx, o, &mut form)?;
            object_crumbs(m, id, &m.repr(o))
        }
        None => {
            let mut c = list_crumbs(m);
            c.push((String::new(), format!("Add {}", meta.singular)));
            c
        }
    };
    let tpl = ChangeFormPage {
        chrome: page.chrome(d.heading, crumbs),
        form,
    };
    page.html(&tpl)
}

pub async fn add_form(st: St, visit: Visit, slug: aw::Path<String>) -> HttpResponse {
    run(&st, visit, move |page| {
        let m = model(&slug)?;
        visible(m, page)?;
        if !m.can_add(&page.ctx) {
            return Err(AdminError::Forbidden(format!(
                "You may not add {}.",
                m.meta().plural
            )));
        }
        form_page(
            m,
            page,
            Draw {
                heading: format!("Add {}", m.meta().singular),
                obj: None,
                submitted: None,
                errors: Errors::new(),
                summary: vec![],
                inline_errors: vec![],
            },
        )
    })
    .await
}

/// Where a successful save goes: `_continue` → the object, `_addanother` → an empty form,
/// `_save` → the list.
fn after_save(m: &dyn ModelAdmin, form: &FormData, id: i64) -> String {
    let slug = m.meta().slug;
    if form.has("_continue") {
        format!("/admin/{slug}/{id}/change/")
    } else if form.has("_addanother") {
        format!("/admin/{slug}/add/")
    } else {
        format!("/admin/{slug}/")
    }
}

/// A failed save drawn again: the core's field errors beside their fields, the rest on top.
fn failed(
    m: &dyn ModelAdmin,
    page: &Page<'_>,
    heading: String,
    obj: Option<&Value>,
    form: &FormData,
    mut errors: Errors,
    e: CoreError,
) -> Result<Out, AdminError> {
    let specs = m.fields(page.core, &page.ctx, obj)?;
    let names: Vec<&str> = specs.iter().map(|s| s.name.as_str()).collect();
    let (field_errors, mut summary) = match e {
        CoreError::Validation { errors, .. } => forms::split_errors(&names, errors),
        CoreError::Conflict { detail, errors, .. } if !errors.is_empty() => {
            let (b, mut s) = forms::split_errors(&names, errors);
            if b.is_empty() && s.is_empty() {
                s.push(detail);
            }
            (b, s)
        }
        CoreError::Conflict { detail, .. } => (Errors::new(), vec![detail]),
        CoreError::Forbidden { detail, .. } => (Errors::new(), vec![detail]),
        other => return Err(other.into()),
    };
    let inline_key = m.inline_key();
    let mut inline_errors = vec![];
    summary.retain(|s| {
        if !inline_key.is_empty() && s.starts_with(inline_key) {
            inline_errors.push(s.clone());
            false
        } else {
            true
        }
    });
    for (k, v) in field_errors {
        errors.entry(k).or_default().extend(v);
    }
    form_page(
        m,
        page,
        Draw {
            heading,
            obj,
            submitted: Some(form),
            errors,
            summary,
            inline_errors,
        },
    )
}

pub async fn add(st: St, visit: Visit, slug: aw::Path<String>, form: Form) -> HttpResponse {
    let form = form.0;
    run(&st, visit, move |page| {
        let m = model(&slug)?;
        visible(m, page)?;
        if !m.can_add(&page.ctx) {
            return Err(AdminError::Forbidden(format!(
                "You may not add {}.",
                m.meta().plural
            )));
        }
        let heading = format!("Add {}", m.meta().singular);
        let specs = m.fields(page.core, &page.ctx, None)?;
        let (body, errors) = body_of(m, page, &specs, &form)?;
        if !errors.is_empty() {
            return failed(
                m,
                page,
                heading,
                None,
                &form,
                errors,
                CoreError::from_fields(Default::default()),
            );
        }
        match m.create(page.core, &page.ctx, body) {
            Ok(obj) => {
                let id = obj.get("id").and_then(Value::as_i64).unwrap_or(0);
                let msg = format!(
                    "The {} “{}” was added successfully.",
                    m.meta().singular,
                    m.repr(&obj)
                );
                Ok(page.redirect(after_save(m, &form, id), Some(Message::success(msg))))
            }
            Err(e) => failed(m, page, heading, None, &form, errors, e),
        }
    })
    .await
}

pub async fn change_form(st: St, visit: Visit, path: aw::Path<(String, String)>) -> HttpResponse {
    let (slug, id) = path.into_inner();
    run(&st, visit, move |page| {
        let m = model(&slug)?;
        visible(m, page)?;
        let id = id_of(&id)?;
        let obj = m.get(page.core, &page.ctx, id)?;
        let heading = if m.can_change(&page.ctx, &obj) {
            format!("Change {}", m.meta().singular)
        } else {
            format!("View {}", m.meta().singular)
        };
        form_page(
            m,
            page,
            Draw {
                heading: format!("{heading}: {}", m.repr(&obj)),
                obj: Some(&obj),
                submitted: None,
                errors: Errors::new(),
                summary: vec![],
                inline_errors: vec![],
            },
        )
    })
    .await
}

pub async fn change(
    st: St,
    visit: Visit,
    path: aw::Path<(String, String)>,
    form: Form,
) -> HttpResponse {
    let (slug, id) = path.into_inner();
    let form = form.0;
    run(&st, visit, move |page| {
        let m = model(&slug)?;
        visible(m, page)?;
        let id = id_of(&id)?;
        let obj = m.get(page.core, &page.ctx, id)?;
        if !m.can_change(&page.ctx, &obj) {
            return Err(AdminError::Forbidden(format!(
                "You may not change this {}.",
                m.meta().singular
            )));
        }
        let heading = format!("Change {}: {}", m.meta().singular, m.repr(&obj));
        let specs = m.fields(page.core, &page.ctx, Some(&obj))?;
        let (body, errors) = body_of(m, page, &specs, &form)?;
        if !errors.is_empty() {
            return failed(
                m,
                page,
                heading,
                Some(&obj),
                &form,
                errors,
                CoreError::from_fields(Default::default()),
            );
        }
        match m.update(page.core, &page.ctx, id, body) {
            Ok(new) => {
                let msg = format!(
                    "The {} “{}” was changed successfully.",
                    m.meta().singular,
                    m.repr(&new)
                );
                Ok(page.redirect(after_save(m, &form, id), Some(Message::success(msg))))
            }
            Err(e) => failed(m, page, heading, Some(&obj), &form, errors, e),
        }
    })
    .await
}
