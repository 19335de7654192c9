//! Proxy-granting tickets, keyed by the SHA-256 of their id. Rows go with their SSO session
//! (foreign key with ON DELETE CASCADE), which is how a PGT "expires with the session".

use super::db::args;
use super::{Result, Store};
use crate::model::Proof;

/// A proxy-granting ticket as stored.
#[derive(Clone, Debug)]
pub struct ProxyGrantingTicket {
    pub session_hash: String,
    pub account_id: String,
    /// The service the PGT was issued to.
    pub service: String,
    /// Proxy callback URLs, newest first.
    pub proxies: Vec<String>,
    /// How the session was proved when the ticket it was granted for was issued.
    pub proof: Proof,
}

impl Store {
    pub fn insert_pgt(&self, id_hash: &str, pgt: &ProxyGrantingTicket, now: i64) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO proxy_granting_tickets
                     (id_hash, session_hash, account_id, service, proxies, created_at, factors)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                args![
                    id_hash,
                    &pgt.session_hash,
                    &pgt.account_id,
                    &pgt.service,
                    &pgt.proxies.join("\n"),
                    now,
                    &pgt.proof.encode()
                ],
            )?;
            Ok(())
        })
    }

    pub fn delete_pgt(&self, id_hash: &str) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "DELETE FROM proxy_granting_tickets WHERE id_hash = ?1",
                args![id_hash],
            )?;
            Ok(())
        })
    }

    pub fn pgt(&self, id_hash: &str) -> Result<Option<ProxyGrantingTicket>> {
        self.read(|conn| {
            conn.query_opt(
                "SELECT session_hash, account_id, service, proxies, factors
                 FROM proxy_granting_tickets WHERE id_hash = ?1",
                args![id_hash],
                |r| {
                    let proxies: String = r.get(3)?;
                    Ok(ProxyGrantingTicket {
                        session_hash: r.get(0)?,
                        account_id: r.get(1)?,
                        service: r.get(2)?,
                        proxies: proxies.lines().map(str::to_string).collect(),
                        proof: Proof::decode(&r.get::<String>(4)?),
                    })
                },
            )
        })
    }
}
