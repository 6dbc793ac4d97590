//! The authentication endpoints' per-IP budget, kept in the database so that it holds across
//! instances: two instances behind one balancer give a client 10 a minute in total, not 10
//! each. Each server also keeps an in-process limiter in front of this one (so a flood from
//! one address is turned away without touching the database); only requests that pass it,
//! and only authentication calls, reach the table.
//!
//! The algorithm is the generic cell rate algorithm, the one the in-process limiter uses: an
//! address's row holds its theoretical arrival time (TAT). With an emission interval
//! `T = 60 s / limit`, a request at `now` is allowed when `max(TAT, now) + T − now ≤ 60 s`
//! (so a burst of `limit` passes, then one every `T`), and then TAT moves to
//! `max(TAT, now) + T`. The check and the move are one conditional UPDATE on the address's
//! row, so parallel requests on several instances cannot both take the last unit.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use crate::db::{Backend, Db};
use crate::error::CoreResult;
use crate::schema::auth_budget;

const WINDOW_MS: i64 = 60_000;

const ENSURE: &str =
    "INSERT INTO auth_budget (ip, tat_ms) VALUES ($1, 0) ON CONFLICT (ip) DO NOTHING";

const TAKE_SQLITE: &str = "UPDATE auth_budget SET tat_ms = max(tat_ms, $2) + $3 \
     WHERE ip = $1 AND max(tat_ms, $2) + $3 - $2 <= $4";

const TAKE_PG: &str = "UPDATE auth_budget SET tat_ms = GREATEST(tat_ms, $2) + $3 \
     WHERE ip = $1 AND GREATEST(tat_ms, $2) + $3 - $2 <= $4";

/// Takes one unit of `ip`'s budget of `per_minute` at `now_ms`. `Ok(Ok(()))` when allowed;
/// `Ok(Err(seconds))` with the wait before the next one would be.
pub fn take(db: &Db, ip: &str, per_minute: u32, now_ms: i64) -> CoreResult<Result<(), u64>> {
    if per_minute == 0 {
        return Ok(Ok(()));
    }
    let interval = (WINDOW_MS / i64::from(per_minute)).max(1);
    let take = match db.backend() {
        Backend::Sqlite => TAKE_SQLITE,
        Backend::Postgres => TAKE_PG,
    };
    db.write(|c| {
        crate::sql::query(ENSURE).bind::<Text, _>(ip).execute(c)?;
        let taken = crate::sql::query(take)
            .bind::<Text, _>(ip)
            .bind::<BigInt, _>(now_ms)
            .bind::<BigInt, _>(interval)
            .bind::<BigInt, _>(WINDOW_MS)
            .execute(c)?;
        if taken == 1 {
            return Ok(Ok(()));
        }
        let tat: i64 = auth_budget::table
            .find(ip)
            .select(auth_budget::tat_ms)
            .first(c)?;
        // The next unit frees when max(TAT, now) + T − now ≤ window, i.e. at TAT + T − window.
        let wait_ms = (tat + interval - WINDOW_MS - now_ms).max(1);
        Ok(Err(u64::try_from((wait_ms + 999) / 1000).unwrap_or(1)))
    })
}

/// Drops the rows of addresses whose budget is whole again (their arrival time has passed),
/// which is what a missing row means too.
pub fn purge_idle(db: &Db, now_ms: i64) -> CoreResult<usize> {
    db.write(|c| {
        Ok(diesel::delete(auth_budget::table.filter(auth_budget::tat_ms.le(now_ms))).execute(c)?)
    })
}
