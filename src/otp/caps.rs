//! The caps on codes: the limits of each channel, whether a sender is near them (then an
//! image captcha comes first), and the alarm when the server's daily budget runs low.

use super::*;

impl Codes {
    pub(super) fn limits(&self, target: &Recipient) -> Limits {
        self.channel_limits(matches!(target, Recipient::Email(_)))
    }

    pub(super) fn channel_limits(&self, email: bool) -> Limits {
        match email {
            false => {
                let c = &self.inner.sms;
                Limits {
                    resend_after: c.resend_after,
                    per_target_hour: c.per_phone_hour,
                    per_target_day: c.per_phone_day,
                    per_account_day: c.per_account_day,
                    per_address_hour: c.per_address_hour,
                    per_address_day: c.per_address_day,
                    per_day: c.per_day,
                }
            }
            true => {
                let c = &self.inner.mail;
                Limits {
                    resend_after: c.resend_after,
                    per_target_hour: c.per_recipient_hour,
                    per_target_day: c.per_recipient_day,
                    per_account_day: c.per_account_day,
                    per_address_hour: c.per_address_hour,
                    per_address_day: c.per_address_day,
                    per_day: c.per_day,
                }
            }
        }
    }

    /// Whether sends from this client or to this target are near their caps, so the next
    /// send must come after an image captcha.
    pub async fn near_cap(&self, client: &Client, target: &Recipient) -> Result<bool, StoreError> {
        let (ip, hash, limits, now) = (
            client.ip.clone(),
            self.target_hash(target),
            self.limits(target),
            self.inner.clock.now(),
        );
        let channel = target.channel();
        self.inner
            .store
            .call(move |s| s.near_cap(channel, &ip, &hash, &limits, now))
            .await
    }

    /// Whether sends from this client on a channel (`email` or SMS) are near their caps,
    /// before a number or address is typed: a form drawn again for a new captcha keeps it.
    pub async fn client_near_cap(&self, client: &Client, email: bool) -> Result<bool, StoreError> {
        let (ip, limits, now) = (
            client.ip.clone(),
            self.channel_limits(email),
            self.inner.clock.now(),
        );
        let channel = if email { "email" } else { "sms" };
        // No message has an empty target: only the client's sends count.
        self.inner
            .store
            .call(move |s| s.near_cap(channel, &ip, "", &limits, now))
            .await
    }

    pub(super) async fn budget_alarm(&self, target: &Recipient, now: i64) {
        let (slot, event) = match target {
            Recipient::Phone(_) => (0, AuditEvent::SmsBudgetSpent),
            Recipient::Email(_) => (1, AuditEvent::MailBudgetSpent),
        };
        let day = now / 86_400;
        if self.inner.alarm_day[slot].swap(day, Ordering::SeqCst) == day {
            return;
        }
        tracing::error!(
            channel = target.channel(),
            "the daily budget of messages is spent: no more are sent today"
        );
        let result = self
            .inner
            .store
            .call(move |s| s.audit(&AuditRecord::system(event, None), now))
            .await;
        if let Err(e) = result {
            tracing::error!("audit of the message budget: {e}");
        }
    }
}
