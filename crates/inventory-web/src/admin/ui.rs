//! What the staff site's templates show: plain view structs filled by the handlers, and one
//! askama template per page kind (checked at compile time). Every page shares [`Chrome`].

use askama::Template;

/// A notice shown once, on the page after the action that caused it.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Message {
    /// `success`, `info`, `warning` or `error` (also the CSS class).
    pub level: String,
    pub text: String,
}

impl Message {
    pub fn success(text: impl Into<String>) -> Message {
        Message {
            level: "success".into(),
            text: text.into(),
        }
    }
    pub fn warning(text: impl Into<String>) -> Message {
        Message {
            level: "warning".into(),
            text: text.into(),
        }
    }
    pub fn error(text: impl Into<String>) -> Message {
        Message {
            level: "error".into(),
            text: text.into(),
        }
    }
}

/// One entry of the side navigation.
#[derive(Debug, Clone)]
pub struct NavItem {
    pub href: String,
    pub label: String,
    pub active: bool,
}

/// What every page around its content shows: who is signed in, the navigation, the messages
/// and the CSRF token the page's forms carry.
#[derive(Debug, Clone, Default)]
pub struct Chrome {
    pub title: String,
    pub user: Option<String>,
    pub csrf: String,
    pub nav: Vec<NavItem>,
    pub messages: Vec<Message>,
    pub crumbs: Vec<(String, String)>,
}

/// A column header of a change list, with its sort link when sortable.
#[derive(Debug, Clone)]
pub struct Header {
    pub label: String,
    /// The link that sorts by this column (toggling the direction), if sortable.
    pub sort_href: Option<String>,
    /// `ascending`, `descending` or empty: how the list is sorted by it now.
    pub sorted: &'static str,
}

/// One cell: text, and a link when it is the object's name.
#[derive(Debug, Clone)]
pub struct Cell {
    pub text: String,
    pub href: Option<String>,
    pub numeric: bool,
}

#[derive(Debug, Clone)]
pub struct Row {
    pub id: String,
    pub cells: Vec<Cell>,
}

/// A filter of the side panel: its choices as links.
#[derive(Debug, Clone)]
pub struct FilterView {
    pub title: String,
    pub choices: Vec<Choice>,
}

#[derive(Debug, Clone)]
pub struct Choice {
    pub label: String,
    pub href: String,
    pub selected: bool,
}

#[derive(Debug, Clone)]
pub struct PageLink {
    pub label: String,
    pub href: Option<String>,
    pub current: bool,
}

#[derive(Debug, Clone, Default)]
pub struct ListView {
    pub plural: String,
    pub singular: String,
    pub add_href: Option<String>,
    pub search: Option<String>,
    pub searchable: bool,
    pub headers: Vec<Header>,
    pub rows: Vec<Row>,
    pub count: i64,
    pub filters: Vec<FilterView>,
    pub pages: Vec<PageLink>,
    /// (value, label) of the bulk actions offered; none hides the check boxes.
    pub actions: Vec<(String, String)>,
    /// Hidden inputs that keep the list's query string across the search form.
    pub keep: Vec<(String, String)>,
    pub clear_href: Option<String>,
}

/// How an input is drawn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Widget {
    Text,
    Email,
    Password,
    Number,
    Money,
    Date,
    TextArea,
    Checkbox,
    Select,
    /// A number input with a list of suggestions (a long foreign-key list).
    Lookup,
    ReadOnly,
}

#[derive(Debug, Clone)]
pub struct Opt {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// One form field as drawn: its value kept after a failed save, and its errors beside it.
#[derive(Debug, Clone)]
pub struct FieldView {
    pub name: String,
    pub label: String,
    pub widget: Widget,
    pub value: String,
    pub checked: bool,
    pub options: Vec<Opt>,
    pub errors: Vec<String>,
    pub required: bool,
    pub help: String,
}

impl FieldView {
    pub fn id(&self) -> String {
        format!("id_{}", self.name)
    }
    pub fn input_type(&self) -> &'static str {
        match self.widget {
            Widget::Email => "email",
            Widget::Password => "password",
            Widget::Number | Widget::Lookup => "number",
            Widget::Date => "date",
            _ => "text",
        }
    }
    pub fn is_textarea(&self) -> bool {
        self.widget == Widget::TextArea
    }
    pub fn is_checkbox(&self) -> bool {
        self.widget == Widget::Checkbox
    }
    pub fn is_select(&self) -> bool {
        self.widget == Widget::Select
    }
    pub fn is_lookup(&self) -> bool {
        self.widget == Widget::Lookup
    }
    pub fn is_readonly(&self) -> bool {
        self.widget == Widget::ReadOnly
    }
    pub fn is_money(&self) -> bool {
        self.widget == Widget::Money
    }
    pub fn has_errors(&self) -> bool {
        !self.errors.is_empty()
    }
}

/// Rows of related objects edited with their parent (a product's supplier links, an order's
/// lines), in Django's formset shape: `<prefix>-TOTAL_FORMS` and `<prefix>-<n>-<field>`.
#[derive(Debug, Clone)]
pub struct InlineView {
    pub prefix: String,
    pub title: String,
    pub labels: Vec<String>,
    pub rows: Vec<InlineRow>,
    pub errors: Vec<String>,
    /// Whether rows may be removed (a `DELETE` box per row).
    pub can_delete: bool,
}

#[derive(Debug, Clone)]
pub struct InlineRow {
    pub fields: Vec<FieldView>,
    pub delete_name: String,
    pub existing: bool,
}

/// A read-only table beside a form (stock per location, the last ledger entries).
#[derive(Debug, Clone)]
pub struct Panel {
    pub title: String,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
    pub empty: String,
    pub link: Option<(String, String)>,
}

/// A state-changing button on an object's page, its own small POST form.
#[derive(Debug, Clone)]
pub struct ActionButton {
    pub label: String,
    pub href: String,
    /// Extra fields the action takes (a rejection reason, quantities to receive).
    pub fields: Vec<FieldView>,
    /// Buttons that cannot be undone go through a confirmation page first.
    pub confirm: bool,
    pub danger: bool,
    /// The button most people want (approve, receive): drawn as the default.
    pub primary: bool,
}

/// A small form posted elsewhere (a product's "record adjustment").
#[derive(Debug, Clone)]
pub struct MiniForm {
    pub title: String,
    pub action: String,
    pub fields: Vec<FieldView>,
    pub submit: String,
}

#[derive(Debug, Clone, Default)]
pub struct FormView {
    pub heading: String,
    pub slug: String,
    pub object_id: Option<String>,
    pub fields: Vec<FieldView>,
    pub summary: Vec<String>,
    pub inlines: Vec<InlineView>,
    pub panels: Vec<Panel>,
    pub buttons: Vec<ActionButton>,
    pub mini_forms: Vec<MiniForm>,
    /// An SVG drawn by the server (a product's barcode label), shown as an image.
    pub image: Option<(String, String)>,
    /// Read-only view: no save buttons.
    pub read_only: bool,
    /// Whether "Save and add another" is offered.
    pub add_another: bool,
    pub delete_href: Option<String>,
    pub history_href: Option<String>,
}

impl FormView {
    /// Whether the page has a side column (small forms, a label).
    pub fn has_side(&self) -> bool {
        !self.mini_forms.is_empty() || self.image.is_some()
    }

    pub fn has_summary(&self) -> bool {
        !self.summary.is_empty() || self.fields.iter().any(FieldView::has_errors)
    }
}

#[derive(Template)]
#[template(path = "admin/login.html")]
pub struct LoginPage {
    pub chrome: Chrome,
    pub username: String,
    pub next: String,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/change_list.html")]
pub struct ChangeListPage {
    pub chrome: Chrome,
    pub list: ListView,
}

#[derive(Template)]
#[template(path = "admin/change_form.html")]
pub struct ChangeFormPage {
    pub chrome: Chrome,
    pub form: FormView,
}

#[derive(Template)]
#[template(path = "admin/confirm.html")]
pub struct ConfirmPage {
    pub chrome: Chrome,
    pub heading: String,
    pub question: String,
    /// What the change affects, one line each.
    pub affects: Vec<String>,
    pub action: String,
    /// Hidden inputs carried to the final POST (the bulk action's selection).
    pub hidden: Vec<(String, String)>,
    pub fields: Vec<FieldView>,
    pub submit: String,
    pub back: String,
    pub danger: bool,
}

/// One audit entry on an object's history page.
#[derive(Debug, Clone)]
pub struct HistoryRow {
    pub at: String,
    pub user: String,
    pub action: String,
    pub changes: Vec<String>,
    pub ip: String,
    pub request_id: String,
}

#[derive(Template)]
#[template(path = "admin/history.html")]
pub struct HistoryPage {
    pub chrome: Chrome,
    pub heading: String,
    pub rows: Vec<HistoryRow>,
    pub back: String,
}

/// A figure on the dashboard.
#[derive(Debug, Clone)]
pub struct Figure {
    pub label: String,
    pub value: String,
    pub href: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/dashboard.html")]
pub struct DashboardPage {
    pub chrome: Chrome,
    pub figures: Vec<Figure>,
    pub value_chart: String,
    pub movement_chart: String,
    pub panels: Vec<Panel>,
}

#[derive(Template)]
#[template(path = "admin/scan.html")]
pub struct ScanPage {
    pub chrome: Chrome,
    pub code: String,
    pub product: Option<ScannedProduct>,
    pub not_found: bool,
    pub locations: Vec<Opt>,
    pub can_count: bool,
}

#[derive(Debug, Clone)]
pub struct ScannedProduct {
    pub id: i64,
    pub sku: String,
    pub name: String,
    pub barcode: String,
    pub quantity: i64,
    pub price: String,
    pub href: String,
}

#[derive(Template)]
#[template(path = "admin/password_change.html")]
pub struct PasswordChangePage {
    pub chrome: Chrome,
    pub fields: Vec<FieldView>,
    pub summary: Vec<String>,
}

#[derive(Template)]
#[template(path = "admin/error.html")]
pub struct ErrorPage {
    pub chrome: Chrome,
    pub status: u16,
    pub heading: String,
    pub detail: String,
}
