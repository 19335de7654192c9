//! Settings of the WeCom and WeChat applications, with their defaults.

use super::*;

/// WeCom (企业微信): the school's self-built application. Empty `corp_id`: off.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WeComConfig {
    /// 我的企业 → 企业信息 → 企业ID.
    pub corp_id: String,
    /// 应用管理 → the application → AgentId and Secret.
    pub agent_id: String,
    pub secret: String,
    /// The server API, the computer's QR login page, and the in-app OAuth page (configurable
    /// so tests can use a local stand-in).
    pub api_base: String,
    pub login_base: String,
    pub oauth_base: String,
    /// The directory's userid is the student or payroll number (schools that sync WeCom
    /// from the roster): such a userid logs in as that account and is bound at first use.
    pub userid_is_account: bool,
    /// Secondary verification (二次验证) API: `tfa` (auth/get_tfa_info, user/tfa_succ) or
    /// `legacy` (user/getuserinfo, user/authsucc).
    pub tfa_api: TfaApi,
    /// Seconds an API call may take.
    pub timeout: u64,
}

impl Default for WeComConfig {
    fn default() -> Self {
        WeComConfig {
            corp_id: String::new(),
            agent_id: String::new(),
            secret: String::new(),
            api_base: "https://qyapi.weixin.qq.com".into(),
            login_base: "https://login.work.weixin.qq.com".into(),
            oauth_base: "https://open.weixin.qq.com".into(),
            userid_is_account: false,
            tfa_api: TfaApi::Tfa,
            timeout: 5,
        }
    }
}

/// WeCom's two generations of the secondary verification API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TfaApi {
    Tfa,
    Legacy,
}

impl WeComConfig {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        if !self.corp_id.is_empty() && (self.agent_id.is_empty() || self.secret.is_empty()) {
            return Err(invalid("wecom", "corp_id, agent_id and secret go together"));
        }
        Ok(())
    }
}

/// WeChat (微信): an official account's web OAuth (inside WeChat) and, optionally, an Open
/// Platform website application (a QR code on the computer). Empty `app_id`: off.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WeChatConfig {
    /// 公众号 → 设置与开发 → 基本配置 → AppID and AppSecret.
    pub app_id: String,
    pub secret: String,
    /// 开放平台 → 网站应用 → AppID and AppSecret; empty: no WeChat QR login on computers.
    pub website_app_id: String,
    pub website_secret: String,
    pub api_base: String,
    pub oauth_base: String,
    pub timeout: u64,
}

impl Default for WeChatConfig {
    fn default() -> Self {
        WeChatConfig {
            app_id: String::new(),
            secret: String::new(),
            website_app_id: String::new(),
            website_secret: String::new(),
            api_base: "https://api.weixin.qq.com".into(),
            oauth_base: "https://open.weixin.qq.com".into(),
            timeout: 5,
        }
    }
}

impl WeChatConfig {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        if !self.app_id.is_empty() && self.secret.is_empty()
            || !self.website_app_id.is_empty() && self.website_secret.is_empty()
        {
            return Err(invalid("wechat", "each app id needs its secret"));
        }
        Ok(())
    }
}
