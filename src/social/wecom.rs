//! The WeCom server API for one self-built application: the access token (cached, refreshed
//! before it expires, one renewal at a time that every caller shares, and once more when
//! WeCom says it is invalid or expired), who a code belongs to, and secondary verification
//! (二次验证), as WeCom's server API documentation describes them ("获取access_token",
//! "获取访问用户身份", "二次验证").

use super::{enc, errcode, json, WxError};
use crate::clock::Clock;
use crate::config::{TfaApi, WeComConfig};
use futures_util::future::{BoxFuture, FutureExt, Shared};
use serde_json::json;
use std::time::Duration;

/// WeCom's "access_token invalid" and "expired": refresh and try once more.
const TOKEN_INVALID: i64 = 40014;
const TOKEN_EXPIRED: i64 = 42001;

/// Who a WeCom code belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WeComUser {
    /// A member of the school's directory.
    Member(String),
    /// Someone outside it (openid): nobody to log in as.
    Outsider,
}

pub struct WeCom {
    config: WeComConfig,
    http: reqwest::Client,
    clock: Clock,
    token: std::sync::Mutex<Token>,
}

/// A renewal of the token under way, which every caller needing a token awaits: one request
/// to WeCom, one bounded wait for all, one answer (a failure too) for all.
type Renewal = Shared<BoxFuture<'static, Result<(String, i64), WxError>>>;

#[derive(Default)]
struct Token {
    /// The token and when to stop using it.
    current: Option<(String, i64)>,
    renewing: Option<Renewal>,
}

impl WeCom {
    /// `None` when WeCom is not configured.
    pub fn new(config: &WeComConfig, http: reqwest::Client, clock: Clock) -> Option<WeCom> {
        (!config.corp_id.is_empty()).then(|| WeCom {
            config: config.clone(),
            http,
            clock,
            token: Default::default(),
        })
    }

    /// The computer's QR login page (扫码登录) for `redirect_uri`.
    pub fn web_login_url(&self, redirect_uri: &str, state: &str) -> String {
        let c = &self.config;
        format!(
            "{}/wwlogin/sso/login?login_type=CorpApp&appid={}&agentid={}&redirect_uri={}&state={}",
            c.login_base.trim_end_matches('/'),
            enc(&c.corp_id),
            enc(&c.agent_id),
            enc(redirect_uri),
            enc(state)
        )
    }

    /// The silent OAuth page inside the WeCom app (`snsapi_base`).
    pub fn oauth_url(&self, redirect_uri: &str, state: &str) -> String {
        let c = &self.config;
        format!(
            "{}/connect/oauth2/authorize?appid={}&redirect_uri={}&response_type=code&scope=snsapi_base&state={}&agentid={}#wechat_redirect",
            c.oauth_base.trim_end_matches('/'),
            enc(&c.corp_id),
            enc(redirect_uri),
            enc(state),
            enc(&c.agent_id)
        )
    }

    pub fn corp_id(&self) -> &str {
        &self.config.corp_id
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.config.api_base.trim_end_matches('/'))
    }

    fn timeout(&self) -> Duration {
        Duration::from_secs(self.config.timeout)
    }

    /// The cached token, or a fresh one (`stale`: WeCom refused this one). While one renewal
    /// is under way, everyone needing a token waits for it, not for one another: a slow or
    /// failing WeCom costs each caller one timeout at most.
    async fn token(&self, stale: Option<&str>) -> Result<String, WxError> {
        let renewal = {
            let mut state = self.token.lock().unwrap_or_else(|p| p.into_inner());
            let now = self.clock.now();
            if let Some((token, until)) = &state.current {
                if *until > now && Some(token.as_str()) != stale {
                    return Ok(token.clone());
                }
            }
            match &state.renewing {
                Some(renewal) => renewal.clone(),
                None => {
                    let renewal = self.renew(now).boxed().shared();
                    state.renewing = Some(renewal.clone());
                    renewal
                }
            }
        };
        let renewed = renewal.clone().await;
        let mut state = self.token.lock().unwrap_or_else(|p| p.into_inner());
        if state.renewing.as_ref().is_some_and(|r| r.ptr_eq(&renewal)) {
            state.renewing = None;
            if let Ok(fresh) = &renewed {
                state.current = Some(fresh.clone());
            }
        }
        renewed.map(|(token, _)| token)
    }

    /// One request for a new token, and when to stop using it.
    fn renew(&self, now: i64) -> impl std::future::Future<Output = Result<(String, i64), WxError>> {
        let c = &self.config;
        let url = format!(
            "{}?corpid={}&corpsecret={}",
            self.url("/cgi-bin/gettoken"),
            enc(&c.corp_id),
            enc(&c.secret)
        );
        let request = self.http.get(url).timeout(self.timeout());
        async move {
            let answer = json(request).await?;
            match (errcode(&answer), answer["access_token"].as_str()) {
                (0, Some(token)) => {
                    // Renewed a minute early, so a call never carries a token about to expire.
                    let lifetime = answer["expires_in"].as_i64().unwrap_or(7200);
                    Ok((token.to_string(), now + (lifetime - 60).max(1)))
                }
                (0, None) => Err(WxError::Unavailable("no access_token")),
                (code, _) => Err(WxError::Code(code)),
            }
        }
    }

    /// Calls the API with a token; a token WeCom calls invalid or expired is renewed once.
    async fn call(
        &self,
        request: impl Fn(&str) -> reqwest::RequestBuilder,
    ) -> Result<serde_json::Value, WxError> {
        let token = self.token(None).await?;
        let answer = json(request(&token).timeout(self.timeout())).await?;
        let answer = match errcode(&answer) {
            TOKEN_INVALID | TOKEN_EXPIRED => {
                let token = self.token(Some(&token)).await?;
                json(request(&token).timeout(self.timeout())).await?
            }
            _ => answer,
        };
        match errcode(&answer) {
            0 => Ok(answer),
            code => Err(WxError::Code(code)),
        }
    }

    /// Who the code from a WeCom login or OAuth page belongs to (`auth/getuserinfo`; the
    /// older `user/getuserinfo` spells `UserId`, which is read too).
    pub async fn user_of_code(&self, code: &str) -> Result<WeComUser, WxError> {
        let answer = self
            .call(|token| {
                self.http.get(format!(
                    "{}?access_token={}&code={}",
                    self.url("/cgi-bin/auth/getuserinfo"),
                    enc(token),
                    enc(code)
                ))
            })
            .await?;
        Ok(member(&answer))
    }

    /// Secondary verification (二次验证), after the person proved the account: who the code
    /// WeCom opened our page with belongs to, and the confirmation to send once bound.
    pub async fn verification(&self, code: &str) -> Result<Verification, WxError> {
        if self.config.tfa_api == TfaApi::Legacy {
            let answer = self
                .call(|token| {
                    self.http.get(format!(
                        "{}?access_token={}&code={}",
                        self.url("/cgi-bin/user/getuserinfo"),
                        enc(token),
                        enc(code)
                    ))
                })
                .await?;
            return match member(&answer) {
                WeComUser::Member(userid) => Ok(Verification {
                    userid,
                    tfa_code: None,
                }),
                WeComUser::Outsider => Err(WxError::NotAnIdentity),
            };
        }
        let answer = self
            .call(|token| {
                self.http
                    .post(format!(
                        "{}?access_token={}",
                        self.url("/cgi-bin/auth/get_tfa_info"),
                        enc(token)
                    ))
                    .header("content-type", "application/json")
                    .body(json!({ "code": code }).to_string())
            })
            .await?;
        match (answer["userid"].as_str(), answer["tfa_code"].as_str()) {
            (Some(userid), Some(tfa)) => Ok(Verification {
                userid: userid.to_string(),
                tfa_code: Some(tfa.to_string()),
            }),
            _ => Err(WxError::Unavailable("no userid or tfa_code")),
        }
    }

    /// Tells WeCom the member passed (`user/tfa_succ`, or the legacy `user/authsucc`).
    pub async fn verified(&self, v: &Verification) -> Result<(), WxError> {
        match &v.tfa_code {
            Some(tfa) => self
                .call(|token| {
                    self.http
                        .post(format!(
                            "{}?access_token={}",
                            self.url("/cgi-bin/user/tfa_succ"),
                            enc(token)
                        ))
                        .header("content-type", "application/json")
                        .body(json!({ "userid": v.userid, "tfa_code": tfa }).to_string())
                })
                .await
                .map(|_| ()),
            None => self
                .call(|token| {
                    self.http.get(format!(
                        "{}?access_token={}&userid={}",
                        self.url("/cgi-bin/user/authsucc"),
                        enc(token),
                        enc(&v.userid)
                    ))
                })
                .await
                .map(|_| ()),
        }
    }
}

/// A member's userid (`userid`, or the legacy `UserId`), else an outsider.
fn member(answer: &serde_json::Value) -> WeComUser {
    match answer["userid"].as_str().or(answer["UserId"].as_str()) {
        Some(id) if !id.is_empty() => WeComUser::Member(id.to_string()),
        _ => WeComUser::Outsider,
    }
}

/// A secondary verification in progress (kept between the form's attempts).
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Verification {
    pub userid: String,
    /// The `tfa` API's code (the legacy API has none).
    tfa_code: Option<String>,
}
