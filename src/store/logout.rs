//! Single-logout participants: which services validated a ticket of which SSO session. Rows
//! outlive their session on purpose; a session's end is announced by taking its rows.

use super::{Result, Store};
use rusqlite::params;

/// A service to tell when a session ends.
#[derive(Clone, Debug)]
pub struct LogoutParticipant {
    pub session_hash: String,
    pub service_id: i64,
    /// The service URL exactly as the client presented it.
    pub service: String,
    /// The ticket it validated: the SessionIndex of its LogoutRequest.
    pub ticket: String,
    pub account_id: String,
    pub validated_at: i64,
}

impl Store {
    /// Records a batch; a later ticket of the same session and service replaces the earlier
    /// one (only the most recent is announced, as Apereo does).
    pub fn insert_logout_participants(&self, batch: &[LogoutParticipant]) -> Result<()> {
        self.write(|tx| {
            let mut insert = tx.prepare_cached(
                "INSERT INTO logout_participants
                     (session_hash, service_id, service, ticket, account_id, validated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (session_hash, service_id) DO UPDATE SET service = excluded.service,
                     ticket = excluded.ticket, validated_at = excluded.validated_at",
            )?;
            for p in batch {
                insert.execute(params![
                    p.session_hash,
                    p.service_id,
                    p.service,
                    p.ticket,
                    p.account_id,
                    p.validated_at
                ])?;
            }
            Ok(())
        })
    }

    /// Takes the participants of every session that no longer exists, however it ended:
    /// logout, expiry, or an administrator's command from another process. The scan runs on
    /// a reader, so logins are not held up behind it; each row is then deleted only if its
    /// session is still gone, and only rows this call deleted are returned, so two
    /// concurrent callers never announce the same logout twice.
    pub fn take_ended_participants(&self) -> Result<Vec<LogoutParticipant>> {
        let candidates: Vec<LogoutParticipant> = self.read(|conn| {
            conn.prepare_cached(
                "SELECT session_hash, service_id, service, ticket, account_id, validated_at
                 FROM logout_participants p WHERE NOT EXISTS
                     (SELECT 1 FROM sso_sessions s WHERE s.id_hash = p.session_hash)",
            )?
            .query_map([], |r| {
                Ok(LogoutParticipant {
                    session_hash: r.get(0)?,
                    service_id: r.get(1)?,
                    service: r.get(2)?,
                    ticket: r.get(3)?,
                    account_id: r.get(4)?,
                    validated_at: r.get(5)?,
                })
            })?
            .collect()
        })?;
        if candidates.is_empty() {
            return Ok(candidates);
        }
        self.write(|tx| {
            let mut delete = tx.prepare_cached(
                "DELETE FROM logout_participants
                 WHERE session_hash = ?1 AND service_id = ?2 AND ticket = ?3 AND NOT EXISTS
                     (SELECT 1 FROM sso_sessions s WHERE s.id_hash = ?1)",
            )?;
            let mut taken = Vec::with_capacity(candidates.len());
            for p in candidates {
                if delete.execute(params![p.session_hash, p.service_id, p.ticket])? > 0 {
                    taken.push(p);
                }
            }
            Ok(taken)
        })
    }
}
