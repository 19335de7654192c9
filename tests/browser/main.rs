//! The browser suite: a real Chromium, driven over WebDriver, through every flow a person
//! does, against the real server (TLS, `https://cas.test/cas`), applications on other sites
//! that validate their tickets as stock clients do, the SMS outbox and the WeCom stand-in.
//! Every step asserts what the person sees: the words on the page and where they end up.
//!
//! It needs Chromium and chromedriver (Debian's `chromium` and `chromium-driver`), so a plain
//! `cargo test` skips it; `bash tests/browser/run.sh` installs them and runs it.

#[allow(dead_code)]
#[path = "../all/support/mod.rs"]
mod support;

mod application;
mod browser;
mod campus;

mod account;
mod console;
mod day_one;
mod first_login;
mod login;
mod passkeys;
mod phone_login;
mod recovery;
mod second_factor;
mod wecom;

/// One test of `flow` per person: `persons!(flow: zh_desktop => ZH_DESKTOP, …);` makes
/// `flow::zh_desktop`, which runs `flow(test name, ZH_DESKTOP)`.
#[macro_export]
macro_rules! persons {
    ($flow:ident: $($name:ident => $person:expr),+ $(,)?) => {
        mod $flow {
            #[allow(unused_imports)]
            use $crate::browser::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                #[ignore = "drives Chromium: bash tests/browser/run.sh"]
                async fn $name() {
                    super::$flow(
                        concat!(module_path!(), "::", stringify!($name)),
                        $person,
                    )
                    .await
                }
            )+
        }
    };
}
