//! Forms to the API's JSON and back. A saved form becomes the same JSON object the API would
//! receive (field names are the API's), deserialized into the same input type and handed to
//! the same core service, so every rule and message is the API's; only "is this a number"
//! is the form's own question. Field views keep what was typed after a failed save.

use serde_json::{Map, Value};

use super::ui::{FieldView, Opt, Widget};
use super::web::{Errors, FormData};

/// How a field is entered and turned into JSON.
#[derive(Debug, Clone)]
pub enum Kind {
    Text,
    TextArea,
    Email,
    Password,
    /// A whole number; empty means "not given" (or `null` when nullable).
    Int,
    /// A decimal amount, sent as the string typed.
    Money,
    Bool,
    Date,
    /// A foreign key chosen from (id, label) pairs; empty means `null`.
    Fk(Vec<(String, String)>),
    /// One of fixed string values (value, label).
    Choice(Vec<(String, String)>),
    /// Shown, never submitted.
    ReadOnly,
}

#[derive(Debug, Clone)]
pub struct FieldSpec {
    pub name: String,
    pub label: String,
    pub kind: Kind,
    pub required: bool,
    pub nullable: bool,
    pub help: String,
}

impl FieldSpec {
    pub fn new(name: &str, label: &str, kind: Kind) -> FieldSpec {
        FieldSpec {
            name: name.into(),
            label: label.into(),
            kind,
            required: false,
            nullable: false,
            help: String::new(),
        }
    }
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }
    pub fn nullable(mut self) -> Self {
        self.nullable = true;
        self
    }
    pub fn help(mut self, h: &str) -> Self {
        self.help = h.into();
        self
    }
}

/// Above this many choices a foreign key is a number input with suggestions, not a select.
const SELECT_LIMIT: usize = 300;

fn add_error(errors: &mut Errors, field: &str, msg: &str) {
    errors
        .entry(field.to_owned())
        .or_default()
        .push(msg.to_owned());
}

/// One field's JSON value from the form (`None`: leave it out of the body).
pub fn field_json(
    spec: &FieldSpec,
    key: &str,
    form: &FormData,
    errors: &mut Errors,
) -> Option<Value> {
    let raw = form.get(key).unwrap_or("");
    match &spec.kind {
        Kind::ReadOnly => None,
        Kind::Text | Kind::TextArea | Kind::Email | Kind::Password | Kind::Choice(_) => {
            if raw.is_empty() && spec.nullable {
                Some(Value::Null)
            } else {
                Some(Value::String(raw.to_owned()))
            }
        }
        Kind::Bool => Some(Value::Bool(
            matches!(raw, "on" | "true" | "1" | "yes") && form.has(key),
        )),
        Kind::Money | Kind::Date => {
            let t = raw.trim();
            if t.is_empty() {
                spec.nullable.then_some(Value::Null)
            } else {
                Some(Value::String(t.to_owned()))
            }
        }
        Kind::Int => {
            let t = raw.trim();
            if t.is_empty() {
                return spec.nullable.then_some(Value::Null);
            }
            match t.parse::<i64>() {
                Ok(n) => Some(Value::from(n)),
                Err(_) => {
                    add_error(errors, key, "Enter a whole number.");
                    None
                }
            }
        }
        Kind::Fk(_) => {
            let t = raw.trim();
            if t.is_empty() {
                return Some(Value::Null);
            }
            match t.parse::<i64>() {
                Ok(n) if n > 0 => Some(Value::from(n)),
                _ => {
                    add_error(
                        errors,
                        key,
                        "Select a valid choice. That choice is not one of the available choices.",
                    );
                    None
                }
            }
        }
    }
}

/// The JSON body of a form, and the form-level errors (a number that is not one).
pub fn to_json(specs: &[FieldSpec], form: &FormData) -> (Map<String, Value>, Errors) {
    let mut errors = Errors::new();
    let mut body = Map::new();
    for spec in specs {
        if let Some(v) = field_json(spec, &spec.name, form, &mut errors) {
            body.insert(spec.name.clone(), v);
        }
    }
    (body, errors)
}

/// The text an input shows for a JSON value.
pub fn display(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => if *b { "Yes" } else { "No" }.to_owned(),
        other => other.to_string(),
    }
}

/// Where a field view's value comes from.
pub enum Source<'a> {
    /// A new, empty form (with the given defaults).
    Empty(&'a Map<String, Value>),
    /// The object being changed, as the API shows it.
    Object(&'a Value),
    /// What was just submitted (a failed save keeps it).
    Submitted(&'a FormData),
}

fn options(choices: &[(String, String)], current: &str, blank: bool) -> Vec<Opt> {
    let mut out = vec![];
    if blank {
        out.push(Opt {
            value: String::new(),
            label: "---------".into(),
            selected: current.is_empty(),
        });
    }
    out.extend(choices.iter().map(|(v, l)| Opt {
        value: v.clone(),
        label: l.clone(),
        selected: v == current,
    }));
    out
}

/// Draws one field under `key` (its name in the form; a formset row prefixes it).
pub fn view(spec: &FieldSpec, key: &str, source: &Source<'_>, errors: &Errors) -> FieldView {
    let (value, checked) = match source {
        Source::Empty(defaults) => {
            let v = defaults.get(&spec.name).cloned().unwrap_or(Value::Null);
            (raw_value(&v), v.as_bool().unwrap_or(false))
        }
        Source::Object(obj) => {
            let v = obj.get(&spec.name).cloned().unwrap_or(Value::Null);
            (raw_value(&v), v.as_bool().unwrap_or(false))
        }
        Source::Submitted(form) => (form.text(key), form.has(key)),
    };
    let (widget, opts) = match &spec.kind {
        Kind::Text => (Widget::Text, vec![]),
        Kind::TextArea => (Widget::TextArea, vec![]),
        Kind::Email => (Widget::Email, vec![]),
        Kind::Password => (Widget::Password, vec![]),
        Kind::Int => (Widget::Number, vec![]),
        Kind::Money => (Widget::Money, vec![]),
        Kind::Bool => (Widget::Checkbox, vec![]),
        Kind::Date => (Widget::Date, vec![]),
        Kind::ReadOnly => (Widget::ReadOnly, vec![]),
        Kind::Choice(c) => (Widget::Select, options(c, &value, !spec.required)),
        Kind::Fk(c) if c.len() > SELECT_LIMIT => (
            Widget::Lookup,
            c.iter()
                .take(SELECT_LIMIT)
                .map(|(v, l)| Opt {
                    value: v.clone(),
                    label: l.clone(),
                    selected: false,
                })
                .collect(),
        ),
        Kind::Fk(c) => (Widget::Select, options(c, &value, true)),
    };
    FieldView {
        name: key.to_owned(),
        label: spec.label.clone(),
        widget,
        value: if matches!(spec.kind, Kind::Password) {
            String::new()
        } else {
            value
        },
        checked,
        options: opts,
        errors: errors.get(key).cloned().unwrap_or_default(),
        required: spec.required,
        help: spec.help.clone(),
    }
}

/// A JSON value as an input's raw text (booleans as `true`, not "Yes").
fn raw_value(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

pub fn views(specs: &[FieldSpec], source: &Source<'_>, errors: &Errors) -> Vec<FieldView> {
    specs
        .iter()
        .map(|s| view(s, &s.name, source, errors))
        .collect()
}

/// Errors of a core validation failure split into those beside a field of the form and the
/// rest (for the summary on top).
pub fn split_errors(fields: &[&str], errors: inventory_core::FieldErrors) -> (Errors, Vec<String>) {
    let mut beside = Errors::new();
    let mut summary = vec![];
    for (field, msgs) in errors {
        if fields.contains(&field.as_str()) {
            beside.entry(field).or_default().extend(msgs);
        } else if field == "non_field_errors" {
            summary.extend(msgs);
        } else {
            summary.extend(msgs.into_iter().map(|m| format!("{field}: {m}")));
        }
    }
    (beside, summary)
}
