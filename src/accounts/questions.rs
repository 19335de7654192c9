//! Security questions (密保问题): a way to recover a password for people who bound neither
//! phone nor e-mail. Up to three questions from a fixed list (so nobody writes their answer
//! into the question), answers normalised for case, width and spaces and hashed with bcrypt
//! like passwords. Checking answers runs under the login throttle: a wrong set counts like a
//! wrong password, so no path to an account is unthrottled.

use super::{check_length, Accounts, AccountsError};
use crate::model::{AuditEvent, Client};
use crate::store::AttemptKeys;

/// The questions offered: (key, Chinese, English). The key is what is stored.
pub const QUESTIONS: [(&str, &str, &str); 8] = [
    ("mother", "您母亲的姓名是？", "What is your mother's name?"),
    ("father", "您父亲的姓名是？", "What is your father's name?"),
    (
        "primary",
        "您就读的小学校名是？",
        "What was the name of your primary school?",
    ),
    (
        "teacher",
        "您高中班主任的姓名是？",
        "What was your high-school form teacher's name?",
    ),
    (
        "birthplace",
        "您出生的城市是？",
        "In which city were you born?",
    ),
    (
        "friend",
        "您儿时最好的朋友叫什么？",
        "What is the name of your best childhood friend?",
    ),
    (
        "pet",
        "您的第一只宠物叫什么？",
        "What was the name of your first pet?",
    ),
    (
        "book",
        "您最喜欢的一本书是？",
        "What is your favourite book?",
    ),
];

/// Answers shorter than this (normalised) are too easy to guess.
const MIN_ANSWER_CHARS: usize = 2;

/// Why a set of questions was refused; each has its sentence on the page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QuestionsError {
    /// None chosen, an unknown one, or one chosen twice.
    BadChoice,
    /// An answer empty or too short once normalised, or too long.
    BadAnswer,
}

/// The question's words in the page's language (`None`: not a question we offer).
pub fn question_text(key: &str, english: bool) -> Option<&'static str> {
    QUESTIONS
        .iter()
        .find(|(k, _, _)| *k == key)
        .map(|(_, zh, en)| if english { *en } else { *zh })
}

/// An answer as it is compared: full-width letters and digits folded to ASCII, lower case,
/// every space and invisible character dropped. "Zhang San", "zhangsan" and "ＺＨＡＮＧ　ＳＡＮ"
/// are one answer.
pub fn normalize_answer(answer: &str) -> String {
    answer
        .chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            c => c,
        })
        .filter(|c| !c.is_whitespace() && !matches!(c, '\u{200B}'..='\u{200D}' | '\u{FEFF}'))
        .flat_map(char::to_lowercase)
        .collect()
}

impl Accounts {
    /// Replaces the account's questions with `chosen` (question key, answer). `Ok(Err(_))`
    /// says what is wrong, with nothing changed.
    pub async fn set_questions(
        &self,
        account_id: &str,
        chosen: &[(String, String)],
        client: &Client,
    ) -> Result<Result<(), QuestionsError>, AccountsError> {
        let keys: std::collections::HashSet<&str> =
            chosen.iter().map(|(k, _)| k.as_str()).collect();
        if chosen.is_empty()
            || chosen.len() > 3
            || keys.len() != chosen.len()
            || chosen
                .iter()
                .any(|(k, _)| question_text(k, false).is_none())
        {
            return Ok(Err(QuestionsError::BadChoice));
        }
        let mut set = Vec::with_capacity(chosen.len());
        for (key, answer) in chosen {
            let answer = normalize_answer(answer);
            if answer.chars().count() < MIN_ANSWER_CHARS || check_length(&answer).is_err() {
                return Ok(Err(QuestionsError::BadAnswer));
            }
            set.push((key.clone(), self.hasher.hash(answer).await?));
        }
        let (id, client, now) = (account_id.to_string(), client.clone(), self.clock.now());
        let event = AuditEvent::SecurityQuestionsSet { count: set.len() };
        self.store
            .call(move |s| s.set_questions(&id, &set, &client.record(event, Some(&id)), now))
            .await?;
        Ok(Ok(()))
    }

    /// The account's question keys, in order (none: an empty list).
    pub async fn questions_of(&self, account_id: &str) -> Result<Vec<String>, AccountsError> {
        let id = account_id.to_string();
        let rows = self.store.call(move |s| s.questions(&id)).await?;
        Ok(rows.into_iter().map(|(q, _)| q).collect())
    }

    /// Checks answers, in order, for `name` (the canonical account name typed in a recovery;
    /// `account` the account behind it, if any) under the login throttle. Every answer costs
    /// one bcrypt verification whether the account, its questions or the earlier answers
    /// exist or not, so neither the answer nor its timing says more than "wrong". `None`:
    /// throttled, nothing evaluated.
    pub async fn check_answers(
        &self,
        name: &str,
        account: Option<&str>,
        answers: &[String],
        client: &Client,
    ) -> Result<Option<bool>, AccountsError> {
        let keys = AttemptKeys {
            account_id: name.to_string(),
            client_ip: client.ip.clone(),
            initial: false,
        };
        if !self.reserve(&keys, client).await? {
            return Ok(None);
        }
        let stored = match account {
            Some(id) => {
                let id = id.to_string();
                self.store.call(move |s| s.questions(&id)).await?
            }
            None => Vec::new(),
        };
        let mut right = !stored.is_empty() && stored.len() == answers.len();
        for (i, answer) in answers.iter().enumerate() {
            let hash = stored.get(i).map(|(_, h)| h.clone());
            let answer = normalize_answer(answer);
            let answer = if check_length(&answer).is_ok() {
                answer
            } else {
                String::new()
            };
            right &= self.hasher.verify(answer, hash).await;
        }
        let event = match right {
            true => AuditEvent::RecoveryVerified {
                method: "questions",
            },
            false => AuditEvent::RecoveryFailed {
                method: "questions",
            },
        };
        self.end_attempt(&keys, right, event, client).await?;
        Ok(Some(right))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_compared_without_case_width_or_spaces() {
        let one = normalize_answer("Zhang San");
        for same in [
            "zhangsan",
            "ＺＨＡＮＧ　ＳＡＮ",
            " zhang\u{200B} san ",
            "ZHANGSAN",
        ] {
            assert_eq!(normalize_answer(same), one, "{same}");
        }
        assert_eq!(normalize_answer("北京 市"), "北京市");
        assert_ne!(normalize_answer("zhang-san"), one);
    }
}
