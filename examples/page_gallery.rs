//! Renders the pages a script cannot reach over HTTP with the server's own templates, for
//! `examples/screenshots.sh`: the forgot-password steps behind the image captcha, and the
//! pages WeCom opens (secondary verification, "绑定成功"):
//!
//!   page_gallery OUTDIR
//!
//! writes forgot-2-verify, forgot-2-questions, forgot-3-password, forgot-4-done, wecom-verify
//! and wecom-bound, each `-zh.html` and `-en.html`, whose asset links point at
//! `/cas/assets/`.

use unicas::accounts::question_text;
use unicas::pages::{Chrome, Lang, Methods, RecoveryStep, RecoveryView};

fn main() {
    let out = std::path::PathBuf::from(
        std::env::args()
            .nth(1)
            .expect("usage: recovery_pages OUTDIR"),
    );
    std::fs::create_dir_all(&out).expect("the output directory");
    let config = unicas::config::Config::default();
    for lang in [Lang::Zh, Lang::En] {
        let contact = match lang {
            Lang::Zh => &config.recovery.contact,
            Lang::En => &config.recovery.contact_en,
        };
        let chrome = Chrome {
            lang,
            prefix: "/cas",
            school_name: match lang {
                Lang::Zh => "统一身份认证平台",
                Lang::En => "Unified Identity Authentication",
            },
            switch_zh: "/cas/forgot?lang=zh-CN".into(),
            switch_en: "/cas/forgot?lang=en".into(),
        };
        let english = lang == Lang::En;
        let methods = Methods {
            phone: true,
            email: true,
            questions: ["mother", "pet"]
                .iter()
                .filter_map(|k| question_text(k, english))
                .collect(),
        };
        let steps = [
            (
                "forgot-2-verify",
                RecoveryStep::Verify {
                    account: "2024010101",
                    methods: methods.clone(),
                    method: "phone",
                    input: "18900006936",
                    code_sent_to: Some("189****6936".into()),
                    wait: 58,
                    captcha: false,
                },
            ),
            (
                "forgot-2-questions",
                RecoveryStep::Verify {
                    account: "2024010101",
                    methods: methods.clone(),
                    method: "questions",
                    input: "",
                    code_sent_to: None,
                    wait: 0,
                    captcha: false,
                },
            ),
            (
                "forgot-3-password",
                RecoveryStep::Password {
                    account: "2024013456",
                    rules: chrome
                        .t()
                        .password_rules
                        .replace("{min}", "8")
                        .replace("{classes}", "3")
                        .replace("{history}", "5"),
                },
            ),
            (
                "forgot-4-done",
                RecoveryStep::Done {
                    login: "/cas/login".into(),
                },
            ),
        ];
        let code = match lang {
            Lang::Zh => "zh",
            Lang::En => "en",
        };
        let write = |name: &str, page: maud::Markup| {
            let file = out.join(format!("{name}-{code}.html"));
            std::fs::write(&file, page.into_string()).expect("write the page");
        };
        for (name, step) in steps {
            let view = RecoveryView {
                service: None,
                step,
                token: "RC-example".into(),
                error: None,
                contact,
            };
            write(name, chrome.recovery(&view));
        }
        write(
            "wecom-verify",
            chrome.wecom_verify("token", "OA-example", "", false, None),
        );
        write("wecom-bound", chrome.bound("/cas/portal"));
    }
}
