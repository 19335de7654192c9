//! Logging in without typing the password: with a code sent to the bound phone (短信登录),
//! and by scanning the login page's QR code with a phone that is logged in (扫码登录): the
//! computer shows the code, the phone reads it and confirms, the computer lands on the
//! application (by itself with JavaScript; without, once the person says they confirmed).

use crate::browser::*;
use crate::campus::Campus;
use crate::persons;
use crate::support::PASSWORD;

async fn sms_login(test: &'static str, p: Person) {
    let campus = Campus::start(test).await;
    campus.bind("alice", "phone", "13500003333");
    let jw = &campus.apps[0];
    let b = campus.browser("alice", p).await;
    b.open(&jw.url()).await;
    b.arrive("/cas/login?service=").await;
    b.sees_own_language().await;
    b.press(p.t("短信登录", "SMS login")).await;
    b.see(p.t(
        "使用已绑定的手机号接收验证码登录。",
        "Receive a code on your bound mobile phone",
    ))
    .await;
    b.fill("mobile", "13500003333").await;
    b.solve_captcha(&campus).await;
    b.press(p.t("获取验证码", "Send code")).await;
    b.see(p.t(
        "验证码已发送至 135****3333",
        "A code was sent to 135****3333",
    ))
    .await;
    let code = campus.server.sms_code("13500003333").await.unwrap();
    if !p.javascript {
        // Without the countdown the button stays: pressed again, the page says to wait and
        // keeps the field for the code already sent.
        b.solve_captcha(&campus).await;
        b.press(p.t("获取验证码", "Send code")).await;
        b.see(p.t("验证码已发送，请在", "A code was just sent"))
            .await;
    }
    b.fill("dynamicCode", &code).await;
    b.press(p.t("登录", "Log in")).await;
    b.arrive(&jw.url()).await;
    b.see("Signed in as alice").await;
    b.close().await;
}

persons!(sms_login:
    zh_phone => ZH_PHONE,
    en_desktop => EN_DESKTOP,
    zh_desktop_without_javascript => ZH_DESKTOP.without_javascript(),
);

async fn qr_login(test: &'static str, p: Person) {
    let campus = Campus::start(test).await;
    let jw = &campus.apps[0];

    // The phone, already logged in (WeChat's browser, as the manual has it).
    let phone = campus.browser("alice-phone", ZH_WECHAT).await;
    phone.open("/cas/login").await;
    phone.fill("username", "alice").await;
    phone.fill("password", PASSWORD).await;
    phone.press("登录").await;
    phone.arrive("/cas/portal").await;

    let computer = campus.browser("computer", p).await;
    computer.open(&jw.url()).await;
    computer.arrive("/cas/login?service=").await;
    computer.sees_own_language().await;
    computer.press(p.t("扫码登录", "QR code")).await;
    computer
        .see(p.t("请使用手机扫描二维码登录", "Scan the code with your phone"))
        .await;
    let scanned = read_qr(&computer.image("img.qrcode").await)
        .unwrap_or_else(|| panic!("the login page's QR code does not read"));
    assert!(
        scanned.starts_with("https://cas.test/cas/qrCode/qrCodeLogin.do?uuid="),
        "{scanned}"
    );

    phone.open(&scanned).await;
    phone.see("确认在电脑上登录？").await;
    phone.see("登录账号：alice").await;
    phone.press("确认登录").await;
    phone.see("已确认，请在电脑上继续。").await;

    if !p.javascript {
        computer
            .press(p.t("我已在手机上确认", "I confirmed on my phone"))
            .await;
    }
    computer.arrive(&jw.url()).await;
    computer.see("Signed in as alice").await;
    computer.close().await;
    phone.close().await;
}

/// The text of the QR code in a picture, as a phone's camera reads it.
fn read_qr(png: &[u8]) -> Option<String> {
    let picture = image::load_from_memory(png).ok()?.to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(
        picture.width() as usize,
        picture.height() as usize,
        |x, y| picture.get_pixel(x as u32, y as u32).0[0],
    );
    let grids = prepared.detect_grids();
    Some(grids.first()?.decode().ok()?.1)
}

persons!(qr_login:
    zh_desktop => ZH_DESKTOP,
    en_desktop => EN_DESKTOP,
    zh_desktop_without_javascript => ZH_DESKTOP.without_javascript(),
);
