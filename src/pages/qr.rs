//! QR-code login, the phone's side (扫码登录): the code's image, the page a scan opens
//! ("确认在电脑上登录？" with who is asking: time, address, browser), and the login form for
//! a phone without a session.

use super::{Chrome, Refresh};
use maud::{html, Markup};

/// The QR code of `text` as a PNG: black modules, a four-module quiet zone, 6 pixels each.
pub fn qr_png(text: &str) -> Option<Vec<u8>> {
    const SCALE: u32 = 6;
    const QUIET: u32 = 4;
    let code = qrcode::QrCode::new(text.as_bytes()).ok()?;
    let modules = code.width() as u32;
    let colors = code.to_colors();
    let size = (modules + 2 * QUIET) * SCALE;
    let image = image::GrayImage::from_fn(size, size, |x, y| {
        let (mx, my) = (x / SCALE, y / SCALE);
        let dark = mx >= QUIET
            && my >= QUIET
            && mx < QUIET + modules
            && my < QUIET + modules
            && colors[((my - QUIET) * modules + (mx - QUIET)) as usize] == qrcode::Color::Dark;
        image::Luma([if dark { 0 } else { 255 }])
    });
    let mut png = Vec::new();
    image
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .ok()?;
    Some(png)
}

/// The confirmation a scan opens on a phone with a session.
pub struct QrConfirmView<'a> {
    pub token: String,
    pub uuid: &'a str,
    pub account: &'a str,
    /// Who asks: when, from where, with which browser; and for which application.
    pub requested_at: String,
    pub address: &'a str,
    pub browser: String,
    pub app: Option<&'a str>,
}

/// The phone's login form, before it can confirm.
pub struct QrPhoneLogin<'a> {
    pub token: String,
    pub uuid: &'a str,
    pub username: &'a str,
    pub captcha: bool,
    pub error: Option<String>,
}

impl Chrome<'_> {
    fn scan_action(&self) -> String {
        format!("{}/qrCode/qrCodeLogin.do", self.prefix)
    }

    /// The phone's login form again (a new captcha), keeping the request and the name typed.
    fn scan_again(&self, v: &QrPhoneLogin) -> String {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("uuid", v.uuid)
            .append_pair("username", v.username)
            .finish();
        format!("{}?{query}", self.scan_action())
    }

    pub fn qr_confirm(&self, v: &QrConfirmView) -> Markup {
        let t = self.t();
        self.page(
            t.qr_confirm_title,
            html! {
                div.card {
                    h1 { (t.qr_confirm_title) }
                    p { (t.qr_confirm_as) (v.account) }
                    table.details {
                        tr { th { (t.time) } td { (v.requested_at) } }
                        tr { th { (t.address) } td { (v.address) } }
                        tr { th { (t.browser) } td { (v.browser) } }
                        @if let Some(app) = v.app { tr { th { (t.app_name_short) } td { (app) } } }
                    }
                    p.note { (t.qr_confirm_warning) }
                    form method="post" action=(self.scan_action()) {
                        input type="hidden" name="execution" value=(v.token);
                        input type="hidden" name="uuid" value=(v.uuid);
                        button type="submit" name="action" value="confirm" { (t.qr_confirm_button) }
                        button.secondary type="submit" name="action" value="cancel" { (t.cancel) }
                    }
                }
            },
        )
    }

    pub fn qr_phone_login(&self, v: &QrPhoneLogin) -> Markup {
        let t = self.t();
        self.page(
            t.qr_confirm_title,
            html! {
                div.card.login {
                    h1 { (t.qr_confirm_title) }
                    p.hint { (t.qr_login_first) }
                    @if let Some(error) = &v.error { p #showErrorTip .error role="alert" { (error) } }
                    form method="post" action=(self.scan_action()) autocomplete="off" {
                        input type="hidden" name="execution" value=(v.token);
                        input type="hidden" name="uuid" value=(v.uuid);
                        label.sr for="username" { (t.username_placeholder) }
                        input #username type="text" name="username" value=(v.username) placeholder=(t.username_placeholder) autocapitalize="off" required;
                        label.sr for="password" { (t.password_placeholder) }
                        input #password type="password" name="password" placeholder=(t.password_placeholder) required;
                        @if v.captcha { (self.captcha_field(true, Refresh::Link(&self.scan_again(v)))) }
                        button type="submit" name="action" value="login" { (t.login_button) }
                    }
                }
            },
        )
    }
}
