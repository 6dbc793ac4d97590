//! Reading the audit log (auditors and admins); there is no way to write it from outside.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::Deserialize;

use crate::auth::Ctx;
use crate::context::Core;
use crate::cursor::{CursorPage, CursorReq};
use crate::db::MultiBackend;
use crate::error::{CoreError, CoreResult};
use crate::models::{AuditEntry, AuditRow};
use crate::paging::{PageReq, Paged};
use crate::schema::audit_logs;

#[derive(Debug, Default, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditFilter {
    pub user: Option<i64>,
    pub action: Option<String>,
    pub object_type: Option<String>,
    pub object_id: Option<String>,
    pub since: Option<String>,
    pub until: Option<String>,
}

/// Accepts an RFC 3339 timestamp or a plain date (its midnight UTC).
pub fn parse_instant(field: &str, s: &str) -> CoreResult<NaiveDateTime> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s.trim()) {
        return Ok(t.naive_utc());
    }
    if let Ok(d) = NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d") {
        return Ok(d.and_time(chrono::NaiveTime::MIN));
    }
    Err(CoreError::validation(
        field,
        "Enter an RFC 3339 timestamp or a YYYY-MM-DD date.",
    ))
}

/// A list's `since` and `until` (each optional; `until` excluded), checked.
pub fn parse_span(
    since: Option<&str>,
    until: Option<&str>,
) -> CoreResult<(Option<NaiveDateTime>, Option<NaiveDateTime>)> {
    Ok((
        since.map(|s| parse_instant("since", s)).transpose()?,
        until.map(|s| parse_instant("until", s)).transpose()?,
    ))
}

/// The filter, checked once, as the query every reading of the log starts from.
fn audit_query(
    f: &AuditFilter,
) -> CoreResult<impl Fn() -> audit_logs::BoxedQuery<'static, MultiBackend>> {
    let (since, until) = parse_span(f.since.as_deref(), f.until.as_deref())?;
    let f = AuditFilter {
        since: None,
        until: None,
        user: f.user,
        action: f.action.clone(),
        object_type: f.object_type.clone(),
        object_id: f.object_id.clone(),
    };
    Ok(move || {
        let mut q = audit_logs::table.into_boxed();
        if let Some(u) = f.user {
            q = q.filter(audit_logs::user_id.eq(u));
        }
        if let Some(a) = &f.action {
            q = q.filter(audit_logs::action.eq(a.clone()));
        }
        if let Some(t) = &f.object_type {
            q = q.filter(audit_logs::object_type.eq(t.clone()));
        }
        if let Some(i) = &f.object_id {
            q = q.filter(audit_logs::object_id.eq(i.clone()));
        }
        if let Some(s) = since {
            q = q.filter(audit_logs::at.ge(s));
        }
        if let Some(u) = until {
            q = q.filter(audit_logs::at.lt(u));
        }
        q
    })
}

#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id()))]
pub fn list(
    core: &Core,
    ctx: &Ctx,
    f: &AuditFilter,
    page: PageReq,
) -> CoreResult<Paged<AuditEntry>> {
    ctx.read_audit()?;
    let query = audit_query(f)?;
    core.db.read(|c| {
        let rows: Paged<AuditRow> = page.load(c, query, |q| q.order(audit_logs::id.desc()))?;
        Ok(rows.map(AuditEntry::from))
    })
}

/// `GET /api/audit-logs?cursor=`.
#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id()))]
pub fn list_by_cursor(
    core: &Core,
    ctx: &Ctx,
    f: &AuditFilter,
    cursor: &CursorReq,
) -> CoreResult<CursorPage<AuditEntry>> {
    ctx.read_audit()?;
    cursor.check("-id", 0)?;
    let query = audit_query(f)?;
    core.db.read(|c| {
        let rows: Vec<AuditRow> =
            crate::newest_first_window!(query(), cursor, audit_logs::id).load(c)?;
        Ok(cursor
            .finish("-id", rows, |r| (vec![], r.id))
            .map(AuditEntry::from))
    })
}

/// One entry, for those who read the audit log.
#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id(), id = id))]
pub fn get(core: &Core, ctx: &Ctx, id: i64) -> CoreResult<AuditEntry> {
    ctx.read_audit()?;
    core.db.read(|c| {
        let row: AuditRow = audit_logs::table.find(id).first(c)?;
        Ok(row.into())
    })
}

/// Every entry matching the filter as CSV, oldest first, read in id-ordered chunks.
#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id()))]
pub fn export_csv(core: &Core, ctx: &Ctx, f: &AuditFilter) -> CoreResult<Vec<u8>> {
    ctx.read_audit()?;
    let query = audit_query(f)?;
    let mut w = csv::Writer::from_writer(Vec::new());
    let csv_err = |e: csv::Error| CoreError::Internal(e.to_string());
    w.write_record([
        "id",
        "at",
        "user_id",
        "username",
        "action",
        "object_type",
        "object_id",
        "object_repr",
        "changes",
        "ip",
        "request_id",
    ])
    .map_err(csv_err)?;
    let mut after = 0i64;
    loop {
        let rows: Vec<AuditRow> = core.db.read(|c| {
            let q = query().filter(audit_logs::id.gt(after));
            Ok(q.order(audit_logs::id).limit(5000).load(c)?)
        })?;
        let Some(last) = rows.last().map(|r| r.id) else {
            break;
        };
        after = last;
        for r in rows {
            crate::csvsafe::write_record(
                &mut w,
                [
                    r.id.to_string(),
                    crate::types::fmt_ts(&r.at),
                    r.user_id.map(|u| u.to_string()).unwrap_or_default(),
                    r.username,
                    r.action,
                    r.object_type,
                    r.object_id,
                    r.object_repr,
                    r.changes,
                    r.ip.unwrap_or_default(),
                    r.request_id,
                ],
            )
            .map_err(csv_err)?;
        }
    }
    w.into_inner()
        .map_err(|e| CoreError::Internal(e.to_string()))
}
