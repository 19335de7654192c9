//! WeChat's web OAuth: an official account's page inside WeChat (`snsapi_base`, silent) and
//! an Open Platform website application's QR code on a computer (`snsapi_login`). A code is
//! exchanged for the person's `openid` (per application) and, when the applications share an
//! Open Platform account, `unionid` (the same for both): the identity bound is the `unionid`,
//! else `appid/openid`. "Snapshot" visitors (`is_snapshotuser`) are no identity.

use super::{enc, errcode, json, WxError};
use crate::config::WeChatConfig;
use std::time::Duration;

pub struct WeChat {
    config: WeChatConfig,
    http: reqwest::Client,
}

impl WeChat {
    /// `None` when WeChat is not configured.
    pub fn new(config: &WeChatConfig, http: reqwest::Client) -> Option<WeChat> {
        (!config.app_id.is_empty()).then(|| WeChat {
            config: config.clone(),
            http,
        })
    }

    /// Whether computers get a WeChat QR code (a website application is configured).
    pub fn has_website(&self) -> bool {
        !self.config.website_app_id.is_empty()
    }

    /// The silent OAuth page inside WeChat.
    pub fn oauth_url(&self, redirect_uri: &str, state: &str) -> String {
        format!(
            "{}/connect/oauth2/authorize?appid={}&redirect_uri={}&response_type=code&scope=snsapi_base&state={}#wechat_redirect",
            self.config.oauth_base.trim_end_matches('/'),
            enc(&self.config.app_id),
            enc(redirect_uri),
            enc(state)
        )
    }

    /// The website application's QR page for a computer.
    pub fn qr_url(&self, redirect_uri: &str, state: &str) -> String {
        format!(
            "{}/connect/qrconnect?appid={}&redirect_uri={}&response_type=code&scope=snsapi_login&state={}#wechat_redirect",
            self.config.oauth_base.trim_end_matches('/'),
            enc(&self.config.website_app_id),
            enc(redirect_uri),
            enc(state)
        )
    }

    /// The identity behind a code from the official account's page (`website` false) or the
    /// website application's (`true`): the value to bind (`union/…`, else `appid/openid`),
    /// then, when there is a unionid, the `appid/openid` an earlier binding may hold (bound
    /// before the applications shared an Open Platform account).
    pub async fn identity(&self, code: &str, website: bool) -> Result<Vec<String>, WxError> {
        let c = &self.config;
        let (app, secret) = match website {
            true => (&c.website_app_id, &c.website_secret),
            false => (&c.app_id, &c.secret),
        };
        let url = format!(
            "{}/sns/oauth2/access_token?appid={}&secret={}&code={}&grant_type=authorization_code",
            c.api_base.trim_end_matches('/'),
            enc(app),
            enc(secret),
            enc(code)
        );
        let answer = json(self.http.get(url).timeout(Duration::from_secs(c.timeout))).await?;
        if errcode(&answer) != 0 {
            return Err(WxError::Code(errcode(&answer)));
        }
        if answer["is_snapshotuser"].as_i64() == Some(1) {
            return Err(WxError::NotAnIdentity);
        }
        let union = answer["unionid"].as_str().filter(|u| !u.is_empty());
        let open = answer["openid"].as_str().filter(|o| !o.is_empty());
        let identities: Vec<String> = union
            .map(|u| format!("union/{u}"))
            .into_iter()
            .chain(open.map(|o| format!("{app}/{o}")))
            .collect();
        match identities.is_empty() {
            true => Err(WxError::Unavailable("no openid")),
            false => Ok(identities),
        }
    }
}
