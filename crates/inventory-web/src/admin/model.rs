//! What a model of the staff site is: its names, columns, filters and form fields, and the
//! core services behind its pages. Objects travel as the API's JSON (`serde_json::Value`), so
//! a page shows exactly what the API would, and saves go through the API's input types.

use inventory_core::auth::Ctx;
use inventory_core::{Core, CoreError};
use serde_json::{Map, Value};

use super::forms::FieldSpec;
use super::ui::FormView;
use super::web::{Errors, FormData};

pub type CoreResult<T> = Result<T, CoreError>;

/// How a column's value is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColKind {
    Text,
    Num,
    Money,
    Bool,
    Time,
    /// A name linking to another model's object: (model slug, the id field).
    Ref(&'static str, &'static str),
}

pub struct Column {
    /// The field of the object (the API's name), or a display field the model adds.
    pub field: &'static str,
    pub label: &'static str,
    /// The API's ordering name, when sortable.
    pub order: Option<&'static str>,
    pub kind: ColKind,
}

pub const fn col(field: &'static str, label: &'static str) -> Column {
    Column {
        field,
        label,
        order: None,
        kind: ColKind::Text,
    }
}

pub const fn sort(field: &'static str, label: &'static str, kind: ColKind) -> Column {
    Column {
        field,
        label,
        order: Some(field),
        kind,
    }
}

pub const fn show(field: &'static str, label: &'static str, kind: ColKind) -> Column {
    Column {
        field,
        label,
        order: None,
        kind,
    }
}

#[derive(Debug, Clone, Copy)]
pub enum FilterKind {
    Bool,
    Choice(&'static [(&'static str, &'static str)]),
    /// Choices from [`ModelAdmin::filter_choices`].
    Fk,
    /// A date (`YYYY-MM-DD`), typed in the URL.
    Date,
}

pub struct Filter {
    /// The name in the staff site's query string.
    pub name: &'static str,
    /// The API filter it is.
    pub api: &'static str,
    pub title: &'static str,
    pub kind: FilterKind,
}

pub const fn filter(
    name: &'static str,
    api: &'static str,
    title: &'static str,
    kind: FilterKind,
) -> Filter {
    Filter {
        name,
        api,
        title,
        kind,
    }
}

pub struct Meta {
    pub slug: &'static str,
    pub singular: &'static str,
    pub plural: &'static str,
    /// `object_type` of its audit-log entries.
    pub object_type: &'static str,
    pub columns: &'static [Column],
    pub filters: &'static [Filter],
    pub searchable: bool,
}

/// A change list request, checked: search, ordering, page and the filters by their staff-site
/// names.
#[derive(Debug, Clone, Default)]
pub struct ListParams {
    pub search: Option<String>,
    pub ordering: Option<String>,
    pub page: i64,
    pub filters: Vec<(String, String)>,
}

/// Rows per change-list page (Django's `list_per_page`, the API's largest page).
pub const PER_PAGE: i64 = 100;

impl ListParams {
    /// The API query string with these filters (`search`, `ordering` and each filter under its
    /// API name), for the API's own filter types.
    pub fn api_query(&self, meta: &Meta) -> String {
        let mut pairs: Vec<(String, String)> = vec![];
        if let Some(s) = &self.search {
            pairs.push(("search".into(), s.clone()));
        }
        if let Some(o) = &self.ordering {
            pairs.push(("ordering".into(), o.clone()));
        }
        for (name, value) in &self.filters {
            if let Some(f) = meta.filters.iter().find(|f| f.name == name) {
                pairs.push((f.api.to_owned(), value.clone()));
            }
        }
        super::web::query_string(&pairs)
    }

    pub fn page_req(&self) -> CoreResult<inventory_core::paging::PageReq> {
        inventory_core::paging::PageReq::new(Some(self.page), Some(PER_PAGE))
    }
}

/// Parses an API filter struct from the list's parameters, as the API parses its query.
pub fn api_filter<T: serde::de::DeserializeOwned>(p: &ListParams, meta: &Meta) -> CoreResult<T> {
    actix_web::web::Query::<T>::from_query(&p.api_query(meta))
        .map(|q| q.into_inner())
        .map_err(|e| CoreError::validation("filter", e.to_string()))
}

/// Rows of a formset (inline) as drawn or submitted.
pub struct InlineSpec {
    pub prefix: &'static str,
    pub title: &'static str,
    pub fields: Vec<FieldSpec>,
    pub can_delete: bool,
    /// Empty rows offered for new entries.
    pub extra: usize,
}

pub trait ModelAdmin: Sync {
    fn meta(&self) -> &'static Meta;

    /// Whether the caller may see this model at all (the navigation and the list).
    fn can_view(&self, ctx: &Ctx) -> bool;

    /// One page of rows, and the total count.
    fn list(&self, core: &Core, ctx: &Ctx, p: &ListParams) -> CoreResult<(i64, Vec<Value>)>;

    /// (value, label) choices of a foreign-key filter (categories, suppliers and locations,
    /// by their staff-site filter names).
    fn filter_choices(
        &self,
        core: &Core,
        ctx: &Ctx,
        filter: &str,
    ) -> CoreResult<Vec<(String, String)>> {
        super::models::filter_choices(core, ctx, filter)
    }

    fn get(&self, core: &Core, ctx: &Ctx, id: i64) -> CoreResult<Value>;

    /// Whether objects have a page of their own (rows link to it).
    fn has_detail(&self) -> bool {
        true
    }

    /// How an object is named in headings and messages.
    fn repr(&self, obj: &Value) -> String {
        obj.get("name")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .unwrap_or_else(|| {
                format!(
                    "#{}",
                    obj.get("id").map(Value::to_string).unwrap_or_default()
                )
            })
    }

    fn can_add(&self, _ctx: &Ctx) -> bool {
        false
    }

    /// The form's fields, for a new object (`None`) or a given one.
    fn fields(&self, _core: &Core, _ctx: &Ctx, _obj: Option<&Value>) -> CoreResult<Vec<FieldSpec>> {
        Ok(vec![])
    }

    /// Values a new form starts with.
    fn defaults(&self, _core: &Core, _ctx: &Ctx) -> CoreResult<Map<String, Value>> {
        Ok(Map::new())
    }

    /// Inline rows edited with the object, if any.
    fn inline(&self, _core: &Core, _ctx: &Ctx) -> CoreResult<Option<InlineSpec>> {
        Ok(None)
    }

    /// The existing inline rows of an object (as JSON objects keyed by the inline's fields).
    fn inline_rows(&self, _obj: &Value) -> Vec<Value> {
        vec![]
    }

    /// The JSON key the inline rows go under in the body.
    fn inline_key(&self) -> &'static str {
        ""
    }

    fn create(&self, _core: &Core, _ctx: &Ctx, _body: Value) -> CoreResult<Value> {
        Err(CoreError::NotFound)
    }

    /// Whether the caller may change this object (a read-only view otherwise).
    fn can_change(&self, _ctx: &Ctx, _obj: &Value) -> bool {
        false
    }

    fn update(&self, _core: &Core, _ctx: &Ctx, _id: i64, _body: Value) -> CoreResult<Value> {
        Err(CoreError::NotFound)
    }

    fn can_delete(&self, _ctx: &Ctx, _obj: &Value) -> bool {
        false
    }

    /// What deleting the object affects, one line each, for the confirmation page.
    fn delete_summary(&self, _core: &Core, _ctx: &Ctx, _obj: &Value) -> CoreResult<Vec<String>> {
        Ok(vec![])
    }

    /// Why the object cannot be deleted now (it is in use), if that is known before trying:
    /// the confirmation page then says so and offers no button.
    fn delete_blocked(&self, _core: &Core, _ctx: &Ctx, _obj: &Value) -> CoreResult<Option<String>> {
        Ok(None)
    }

    fn delete(&self, _core: &Core, _ctx: &Ctx, _id: i64) -> CoreResult<()> {
        Err(CoreError::NotFound)
    }

    /// The word for deleting (users are deactivated).
    fn delete_word(&self) -> &'static str {
        "Delete"
    }

    /// Panels, buttons and small forms on the object's page.
    fn decorate(
        &self,
        _core: &Core,
        _ctx: &Ctx,
        _obj: &Value,
        _form: &mut FormView,
    ) -> CoreResult<()> {
        Ok(())
    }

    /// A state change or other action on one object (`approve`, `unlock` …), with the
    /// message to show on success.
    fn object_action(
        &self,
        _core: &Core,
        _ctx: &Ctx,
        _id: i64,
        _action: &str,
        _form: &FormData,
    ) -> CoreResult<String> {
        Err(CoreError::NotFound)
    }

    /// The confirmation an action asks for first: (button label, dangerous?, fields).
    fn action_confirm(&self, _action: &str) -> Option<(&'static str, bool, Vec<FieldSpec>)> {
        None
    }

    /// Bulk actions of the change list beyond `delete_selected`, (name, label).
    fn bulk_actions(&self, _ctx: &Ctx) -> Vec<(&'static str, &'static str)> {
        vec![]
    }

    /// Runs a bulk action on one object.
    fn bulk(&self, core: &Core, ctx: &Ctx, action: &str, id: i64) -> CoreResult<()> {
        match action {
            "delete_selected" => self.delete(core, ctx, id),
            other => self
                .object_action(core, ctx, id, other, &FormData::default())
                .map(|_| ()),
        }
    }

    /// Form-level checks before the body goes to the core (none by default).
    fn precheck(&self, _form: &FormData, _errors: &mut Errors) {}
}
