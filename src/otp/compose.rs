//! The words of a code's message and of a notice, in the school's name, for SMS and e-mail.

use super::*;

impl Codes {
    pub(super) fn compose_code(
        &self,
        target: &Recipient,
        purpose: Purpose,
        code: String,
        minutes: i64,
    ) -> Outgoing {
        let (subject, text) = match target {
            Recipient::Phone(_) => (
                String::new(),
                self.inner
                    .sms
                    .template
                    .replace("{sign}", &self.inner.sms.sign_name)
                    .replace("{code}", &code)
                    .replace("{minutes}", &minutes.to_string()),
            ),
            Recipient::Email(_) => {
                let (zh, en) = purpose.words();
                let (school, school_en) = &self.inner.school;
                (
                    format!("【{school}】验证码 / Verification code"),
                    format!(
                        "您的验证码为 {code}，用于{zh}，{minutes}分钟内有效，请勿泄露给他人。\n\
                         如非本人操作，请忽略本邮件。\n\n\
                         Your verification code for {en} is {code}. It is valid for {minutes} \
                         minutes; do not share it. If you did not ask for it, ignore this \
                         message.\n\n{school} / {school_en}\n"
                    ),
                )
            }
        };
        Outgoing {
            target: target.clone(),
            purpose: purpose.as_str(),
            code: Some(code),
            minutes,
            event: "",
            subject,
            text,
        }
    }

    pub(super) fn compose_notice(&self, target: &Recipient, notice: Notice) -> Outgoing {
        let (zh, en) = notice.words();
        let when = crate::clock::iso8601(self.inner.clock.now());
        let (subject, text) = match target {
            Recipient::Phone(_) => (
                String::new(),
                self.inner
                    .sms
                    .notice_template
                    .replace("{sign}", &self.inner.sms.sign_name)
                    .replace("{event}", zh),
            ),
            Recipient::Email(_) => {
                let (school, school_en) = &self.inner.school;
                (
                    format!("【{school}】账号安全提醒 / Account security notice"),
                    format!(
                        "您的统一身份认证账号{zh}（{when}）。如非本人操作，请立即联系学校信息中心。\n\n\
                         Your account's {en} ({when}). If this was not you, contact the \
                         university's IT centre at once.\n\n{school} / {school_en}\n"
                    ),
                )
            }
        };
        Outgoing {
            target: target.clone(),
            purpose: notice.as_str(),
            code: None,
            minutes: 0,
            event: zh,
            subject,
            text,
        }
    }
}
