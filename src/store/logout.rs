//! Single-logout participants: which applications validated a ticket of which SSO session.
//! Rows outlive their session on purpose; a session's end is announced by taking its rows.
//! The ticket each participant will be told about is sealed with the key file.

use super::db::args;
use super::{Result, Store};

/// An application to tell when a session ends.
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

impl LogoutParticipant {
    /// One participant per application: the service URL up to the first `?`, `;` or `#`, as
    /// Apereo keys them, so applications sharing one registered pattern are each told.
    pub fn service_key(&self) -> &str {
        let end = self
            .service
            .find(['?', ';', '#'])
            .unwrap_or(self.service.len());
        &self.service[..end]
    }
}

impl Store {
    /// Records a batch; a later ticket of the same session and application replaces the
    /// earlier one (only the most recent is announced, as Apereo does).
    pub fn insert_logout_participants(&self, batch: &[LogoutParticipant]) -> Result<()> {
        let keys = self.keys();
        self.write(|tx| {
            for p in batch {
                tx.execute(
                    "INSERT INTO logout_participants
                         (session_hash, service_key, service_id, service, ticket, account_id, validated_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                     ON CONFLICT (session_hash, service_key) DO UPDATE SET service_id = excluded.service_id,
                         service = excluded.service, ticket = excluded.ticket,
                         validated_at = excluded.validated_at",
                    args![
                        &p.session_hash,
                        p.service_key(),
                        p.service_id,
                        &p.service,
                        &keys.seal(&p.ticket),
                        &p.account_id,
                        p.validated_at
                    ],
                )?;
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
        let keys = self.keys();
        // (service_key, sealed ticket, participant): the sealed text identifies the row read.
        let candidates: Vec<(String, String, LogoutParticipant)> = self.read(|conn| {
            conn.query(
                "SELECT session_hash, service_id, service, ticket, account_id, validated_at, service_key
                 FROM logout_participants p WHERE NOT EXISTS
                     (SELECT 1 FROM sso_sessions s WHERE s.id_hash = p.session_hash)",
                args![],
                |r| {
                let sealed: String = r.get(3)?;
                Ok((
                    r.get(6)?,
                    sealed.clone(),
                    LogoutParticipant {
                        session_hash: r.get(0)?,
                        service_id: r.get(1)?,
                        service: r.get(2)?,
                        // A row sealed with other keys cannot be announced; it is taken all
                        // the same, so it does not come back at every scan.
                        ticket: keys.open(&sealed).unwrap_or_default(),
                        account_id: r.get(4)?,
                        validated_at: r.get(5)?,
                    },
                ))
                },
            )
        })?;
        if candidates.is_empty() {
            return Ok(Vec::new());
        }
        self.write(|tx| {
            let mut taken = Vec::with_capacity(candidates.len());
            for (key, sealed, p) in candidates {
                let deleted = tx.execute(
                    "DELETE FROM logout_participants
                     WHERE session_hash = ?1 AND service_key = ?2 AND ticket = ?3 AND NOT EXISTS
                         (SELECT 1 FROM sso_sessions s WHERE s.id_hash = ?1)",
                    args![&p.session_hash, &key, &sealed],
                )?;
                if deleted > 0 {
                    taken.push(p);
                }
            }
            Ok(taken)
        })
    }
}
