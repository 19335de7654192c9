//! A browser as a person uses it: a WebDriver session of Chromium (through Debian's
//! chromedriver), sized and dressed as a computer, a phone or the browser inside WeChat or
//! WeCom, in Chinese or English, with or without JavaScript; and what the person does with it:
//! open a page, type into a field, press a button or a link by the words on it, read the
//! screen. A step that does not come about within `PATIENCE` fails the test, and the failure
//! keeps a screenshot and the page's HTML (under `target/tmp/browser/<test>/`) and prints the
//! text the person saw.

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// How long a person waits for a page to show what it should.
pub const PATIENCE: Duration = Duration::from_secs(10);

/// What the person holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Device {
    /// A computer's browser at 1280 × 800.
    Desktop,
    /// A phone's browser at 390 px wide.
    Phone,
    /// WeChat's built-in browser (XWeb, Chromium's engine) on a phone.
    WeChat,
    /// WeCom's built-in browser on a phone.
    WeCom,
}

impl Device {
    fn size(self) -> (u32, u32) {
        match self {
            Device::Desktop => (1280, 800),
            _ => (390, 844),
        }
    }

    /// The user agent the device's browser sends (as those browsers send it); the desktop
    /// keeps Chromium's own.
    fn user_agent(self) -> Option<String> {
        const ANDROID_WEBVIEW: &str = "Mozilla/5.0 (Linux; Android 14; V2307A Build/UP1A.231005.007; wv) \
            AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/130.0.6723.103 Mobile Safari/537.36";
        let app = match self {
            Device::Desktop => return None,
            Device::Phone => {
                return Some(
                    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) \
                     Chrome/148.0.0.0 Mobile Safari/537.36"
                        .into(),
                )
            }
            Device::WeChat => "XWEB/1300259 MMWEBSDK/20241103 MMWEBID/6533 \
                MicroMessenger/8.0.55.2780(0x28003737) WeChat/arm64 Weixin NetType/WIFI Language/zh_CN ABI/arm64",
            Device::WeCom => "wxwork/4.1.33 MicroMessenger/7.0.1 NetType/WIFI Language/zh ColorScheme/Light",
        };
        Some(format!("{ANDROID_WEBVIEW} {app}"))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    Zh,
    En,
}

/// The browser engine: Chromium (Chrome, Edge, 360, WeChat's and WeCom's browsers) or
/// Firefox ESR.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Chromium,
    Firefox,
}

/// Who uses the browser: the language they read, the device, whether JavaScript runs, and
/// the engine.
#[derive(Clone, Copy, Debug)]
pub struct Person {
    pub lang: Lang,
    pub device: Device,
    pub javascript: bool,
    pub engine: Engine,
}

impl Person {
    pub const fn new(lang: Lang, device: Device) -> Person {
        Person {
            lang,
            device,
            javascript: true,
            engine: Engine::Chromium,
        }
    }

    /// The same person with JavaScript turned off.
    pub const fn without_javascript(self) -> Person {
        Person {
            javascript: false,
            ..self
        }
    }

    /// The same person in Firefox ESR.
    pub const fn in_firefox(self) -> Person {
        Person {
            engine: Engine::Firefox,
            ..self
        }
    }

    /// The words in this person's language.
    pub fn t<'a>(&self, zh: &'a str, en: &'a str) -> &'a str {
        match self.lang {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }

    fn label(&self) -> String {
        let lang = match self.lang {
            Lang::Zh => "zh",
            Lang::En => "en",
        };
        let script = if self.javascript { "" } else { "-nojs" };
        format!("{:?}-{:?}-{lang}{script}", self.engine, self.device).to_lowercase()
    }
}

pub const ZH_DESKTOP: Person = Person::new(Lang::Zh, Device::Desktop);
pub const EN_DESKTOP: Person = Person::new(Lang::En, Device::Desktop);
pub const ZH_PHONE: Person = Person::new(Lang::Zh, Device::Phone);
pub const EN_PHONE: Person = Person::new(Lang::En, Device::Phone);
pub const ZH_WECHAT: Person = Person::new(Lang::Zh, Device::WeChat);

/// The WebDriver server of one browser (Debian's chromedriver, or geckodriver), in a process
/// group of its own so that ending it ends the browser it started, even when the test fails
/// half way.
pub struct Driver {
    child: std::process::Child,
    pub url: String,
}

impl Driver {
    /// Starts the driver of `engine` on a free port (a second try if it does not come up).
    pub fn start(engine: Engine) -> Driver {
        Driver::try_start(engine)
            .or_else(|_| Driver::try_start(engine))
            .unwrap_or_else(|e| {
                panic!("{e}; tests/browser/run.sh installs the browsers and their drivers")
            })
    }

    fn try_start(engine: Engine) -> Result<Driver, String> {
        use std::io::{BufRead, BufReader, Read};
        use std::os::unix::process::CommandExt;
        let (variable, program, listening) = match engine {
            Engine::Chromium => (
                "CHROMEDRIVER",
                "chromedriver",
                "started successfully on port ",
            ),
            Engine::Firefox => ("GECKODRIVER", "geckodriver", "Listening on 127.0.0.1:"),
        };
        let path = std::env::var(variable).unwrap_or_else(|_| program.into());
        let mut child = std::process::Command::new(&path)
            .arg("--port=0")
            .process_group(0)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .map_err(|e| format!("{path}: {e}"))?;
        let mut said = BufReader::new(child.stdout.take().unwrap());
        let mut complaint = child.stderr.take().unwrap();
        let mut line = String::new();
        let port = loop {
            line.clear();
            if said.read_line(&mut line).unwrap_or(0) == 0 {
                let mut why = String::new();
                let _ = complaint.read_to_string(&mut why);
                let _ = child.wait();
                return Err(format!("{path} ended before it listened: {why}"));
            }
            if let Some(rest) = line.split(listening).nth(1) {
                break rest.trim().trim_end_matches('.').to_string();
            }
        };
        // Whatever it says later is read too, so it never writes into a closed pipe.
        std::thread::spawn(move || std::io::copy(&mut said, &mut std::io::sink()));
        std::thread::spawn(move || std::io::copy(&mut complaint, &mut std::io::sink()));
        Ok(Driver {
            child,
            url: format!("http://127.0.0.1:{port}"),
        })
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // The whole group: the driver and the browser it started.
        unsafe { libc::kill(-(self.child.id() as i32), libc::SIGKILL) };
        let _ = self.child.wait();
    }
}

/// The W3C WebAuthn extension's "Add Virtual Authenticator", which chromedriver serves: a
/// platform authenticator that makes passkeys and verifies its user without asking.
#[derive(Debug)]
struct AddVirtualAuthenticator;

impl fantoccini::wd::WebDriverCompatibleCommand for AddVirtualAuthenticator {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!(
            "session/{}/webauthn/authenticator",
            session.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (hyper::Method, Option<String>) {
        let body = json!({
            "protocol": "ctap2",
            "transport": "internal",
            "hasResidentKey": true,
            "hasUserVerification": true,
            "isUserVerified": true,
        });
        (hyper::Method::POST, Some(body.to_string()))
    }
}

/// One browser window of one person.
pub struct Browser {
    client: Client,
    pub person: Person,
    /// Where failures keep their screenshot and HTML.
    artifacts: PathBuf,
    name: String,
    /// `https://cas.test`: where paths are opened.
    origin: String,
    /// The browser's profile; files it downloads go to `downloads/` in it.
    profile: tempfile::TempDir,
    /// Its WebDriver server (ended after the session).
    _driver: Driver,
}

/// What a browser session needs to know of the campus.
pub struct Launch<'a> {
    /// Host names and the loopback address each resolves to (`cas.test` → the server), for
    /// Chromium's resolver.
    pub hosts: &'a [(&'a str, std::net::SocketAddr)],
    /// A proxy that reaches those hosts, for Firefox (it has no resolver rules).
    pub proxy: std::net::SocketAddr,
    pub origin: &'a str,
    pub test: &'a str,
    pub name: &'a str,
}

impl Browser {
    pub async fn launch(launch: Launch<'_>, person: Person) -> Browser {
        let profile = tempfile::tempdir().unwrap();
        let caps = match person.engine {
            Engine::Chromium => chromium(&launch, person, profile.path()),
            Engine::Firefox => firefox(&launch, person, profile.path()),
        };
        let serde_json::Value::Object(caps) = caps else {
            unreachable!()
        };
        let driver = Driver::start(person.engine);
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(&driver.url)
            .await
            .unwrap_or_else(|e| panic!("starting {:?} through its driver: {e}", person.engine));
        if person.engine == Engine::Firefox {
            let (width, height) = person.device.size();
            let sized = client.set_window_size(width, height).await;
            sized.unwrap_or_else(|e| panic!("sizing Firefox's window: {e}"));
        }
        let artifacts = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join("browser")
            .join(launch.test);
        std::fs::create_dir_all(&artifacts).unwrap();
        Browser {
            client,
            person,
            artifacts,
            name: format!("{}-{}", launch.name, person.label()),
            origin: launch.origin.to_string(),
            profile,
            _driver: driver,
        }
    }

    /// The words in this person's language.
    pub fn t<'a>(&self, zh: &'a str, en: &'a str) -> &'a str {
        self.person.t(zh, en)
    }

    /// Gives this browser a passkey authenticator (Chromium's virtual one; see
    /// `AddVirtualAuthenticator`); its id.
    pub async fn add_passkey_authenticator(&self) -> String {
        let added = self.client.issue_cmd(AddVirtualAuthenticator).await;
        let id = self.must(added, "add a virtual authenticator").await;
        id.as_str().unwrap_or_default().to_string()
    }

    /// Opens `url`: a path on the CAS server (`/cas/login`) or a whole URL.
    pub async fn open(&self, url: &str) {
        let url = match url.starts_with('/') {
            true => format!("{}{url}", self.origin),
            false => url.to_string(),
        };
        let opened = self.client.goto(&url).await;
        self.must(opened, &format!("open {url}")).await;
    }

    /// The window's title (what the tab shows).
    pub async fn title(&self) -> String {
        let title = self.client.title().await;
        self.must(title, "read the title").await
    }

    /// On the first page of ours, the person reads their own language without touching the
    /// switch: their browser asks for it (`Accept-Language`), as a student's does.
    pub async fn sees_own_language(&self) {
        self.reads(self.person.t("zh-CN", "en")).await;
    }

    /// The person tries the other language with the switch and comes back to their own: the
    /// page, its step and the application it leads to must survive both.
    pub async fn switches_language_and_back(&self) {
        let (other, other_code, own) = match self.person.lang {
            Lang::Zh => ("English", "en", "简体中文"),
            Lang::En => ("简体中文", "zh-CN", "English"),
        };
        self.press(other).await;
        self.reads(other_code).await;
        self.press(own).await;
        self.sees_own_language().await;
    }

    /// Waits until the page is in `lang` (its `<html lang>`).
    async fn reads(&self, lang: &str) {
        let started = Instant::now();
        loop {
            let html = self.client.find(Locator::Css("html")).await;
            let shown = match html {
                Ok(html) => html.attr("lang").await.ok().flatten(),
                Err(_) => None,
            };
            if shown.as_deref() == Some(lang) {
                return;
            }
            if started.elapsed() > PATIENCE {
                self.fail(&format!("the page is in {shown:?}, not {lang}"))
                    .await;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until the page shows `text`.
    pub async fn see(&self, text: &str) {
        let started = Instant::now();
        loop {
            if let Ok(body) = self.client.find(Locator::Css("body")).await {
                if body.text().await.is_ok_and(|t| t.contains(text)) {
                    return;
                }
            }
            if started.elapsed() > PATIENCE {
                self.fail(&format!("never showed {text:?}")).await;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until the page has a field whose placeholder (what it shows while empty) is
    /// `placeholder`.
    pub async fn see_field(&self, placeholder: &str) {
        let xpath = format!("//input[@placeholder={}]", literal(placeholder));
        let started = Instant::now();
        while !self
            .client
            .find_all(Locator::XPath(&xpath))
            .await
            .is_ok_and(|found| !found.is_empty())
        {
            if started.elapsed() > PATIENCE {
                self.fail(&format!("no field says {placeholder:?}")).await;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The page shown now (after `press` or `open` brought it) does not show `text`.
    pub async fn see_no(&self, text: &str) {
        let body = self.client.find(Locator::Css("body")).await;
        let body = self.must(body, "find the page").await;
        let shown = self.must(body.text().await, "read the page").await;
        if shown.contains(text) {
            self.fail(&format!("shows {text:?}")).await;
        }
    }

    /// Waits until the address bar starts with `prefix` (a path on cas.test or a whole URL).
    pub async fn arrive(&self, prefix: &str) {
        let prefix = match prefix.starts_with('/') {
            true => format!("{}{prefix}", self.origin),
            false => prefix.to_string(),
        };
        let started = Instant::now();
        loop {
            if let Ok(url) = self.client.current_url().await {
                if url.as_str().starts_with(&prefix) {
                    return;
                }
            }
            if started.elapsed() > PATIENCE {
                self.fail(&format!("never arrived at {prefix}")).await;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Types `value` into the field with this id (or name), replacing what it held.
    pub async fn fill(&self, field: &str, value: &str) {
        let selector = format!("[id='{field}'],[name='{field}']");
        let found = self.client.find(Locator::Css(&selector)).await;
        let input = self.must(found, &format!("find the field {field}")).await;
        let cleared = input.clear().await;
        self.must(cleared, &format!("clear {field}")).await;
        let typed = input.send_keys(value).await;
        self.must(typed, &format!("type into {field}")).await;
    }

    /// Chooses `file` in the file field with this name, as a person does in the dialog.
    pub async fn upload(&self, field: &str, file: &std::path::Path) {
        let selector = format!("input[type=file][name='{field}']");
        let found = self.client.find(Locator::Css(&selector)).await;
        let input = self
            .must(found, &format!("find the file field {field}"))
            .await;
        let chosen = input.send_keys(&file.display().to_string()).await;
        self.must(chosen, &format!("choose {} in {field}", file.display()))
            .await;
    }

    /// Ticks the checkbox with this name (a click, as a person does), unless it is ticked.
    pub async fn tick(&self, field: &str) {
        let selector = format!("input[type=checkbox][name='{field}']");
        let found = self.client.find(Locator::Css(&selector)).await;
        let checkbox = self
            .must(found, &format!("find the checkbox {field}"))
            .await;
        if checkbox.is_selected().await.unwrap_or(false) {
            return;
        }
        let clicked = checkbox.click().await;
        self.must(clicked, &format!("tick {field}")).await;
    }

    /// Chooses the option with these words in the list with this id.
    pub async fn choose(&self, field: &str, label: &str) {
        let xpath = format!(
            "//select[@id={}]/option[normalize-space(.)={}]",
            literal(field),
            literal(label)
        );
        let found = self.client.find(Locator::XPath(&xpath)).await;
        let option = self
            .must(found, &format!("find {label:?} in the list {field}"))
            .await;
        let chosen = option.click().await;
        self.must(chosen, &format!("choose {label:?} in {field}"))
            .await;
    }

    /// Presses the button or link that says `label` (the first visible one).
    pub async fn press(&self, label: &str) {
        let l = literal(label);
        let xpath = format!(
            "//button[normalize-space(.)={l}] | //a[normalize-space(.)={l}] \
             | //input[(@type='submit' or @type='button') and @value={l}]"
        );
        let started = Instant::now();
        loop {
            let found = self.client.find_all(Locator::XPath(&xpath)).await;
            for element in found.unwrap_or_default() {
                if element.is_displayed().await.unwrap_or(false) {
                    return self.click(element, label).await;
                }
            }
            if started.elapsed() > PATIENCE {
                self.fail(&format!("no button or link {label:?} to press"))
                    .await;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Presses the button or link that says `label` in the part of the page headed
    /// `heading` (账号管理 has a "立即绑定" under each of 手机绑定 and 邮箱绑定).
    pub async fn press_in(&self, heading: &str, label: &str) {
        let xpath = format!(
            "//*[h2[normalize-space(.)={}]]//*[self::a or self::button][normalize-space(.)={}]",
            literal(heading),
            literal(label)
        );
        let found = self.client.find(Locator::XPath(&xpath)).await;
        let element = self
            .must(found, &format!("find {label:?} under {heading:?}"))
            .await;
        self.click(element, label).await;
    }

    /// Clicks `element` and waits for the page it leads to: every button and link of ours
    /// leads to one (a form's answer, or the link's page), and the next step must not act
    /// on the page being left.
    async fn click(&self, element: fantoccini::elements::Element, label: &str) {
        if self.person.device != Device::Desktop && self.overflows().await {
            self.fail("the page is wider than the phone's screen").await;
        }
        let leaving = self.client.find(Locator::Css("html")).await;
        let leaving = self.must(leaving, "find the page").await;
        let clicked = element.click().await;
        self.must(clicked, &format!("press {label:?}")).await;
        let started = Instant::now();
        while leaving
            .tag_name()
            .await
            .is_ok_and(|_| started.elapsed() < PATIENCE)
        {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        if started.elapsed() >= PATIENCE {
            self.fail(&format!("pressing {label:?} led nowhere")).await;
        }
    }

    /// The words of the first element matching `selector`.
    pub async fn read(&self, selector: &str) -> String {
        let found = self.client.find(Locator::Css(selector)).await;
        let element = self.must(found, &format!("find {selector}")).await;
        let text = element.text().await;
        self.must(text, &format!("read {selector}")).await
    }

    /// The value the field with this id (or name) holds, hidden or not.
    pub async fn read_value(&self, field: &str) -> String {
        let selector = format!("[id='{field}'],[name='{field}']");
        let found = self.client.find(Locator::Css(&selector)).await;
        let input = self.must(found, &format!("find the field {field}")).await;
        let value = input.prop("value").await;
        self.must(value, &format!("read {field}"))
            .await
            .unwrap_or_default()
    }

    /// The value of this browser's cookie `name` for the page it shows.
    pub async fn cookie(&self, name: &str) -> String {
        let cookie = self.client.get_named_cookie(name).await;
        self.must(cookie, &format!("read the cookie {name}"))
            .await
            .value()
            .to_string()
    }

    /// Presses the link that says `label`, which downloads a file, and returns what the file
    /// holds once the download is finished.
    pub async fn download(&self, label: &str) -> String {
        let found = self.client.find(Locator::LinkText(label)).await;
        let link = self.must(found, &format!("find the link {label:?}")).await;
        let clicked = link.click().await;
        self.must(clicked, &format!("press {label:?}")).await;
        let dir = self.profile.path().join("downloads");
        let started = Instant::now();
        loop {
            let done = std::fs::read_dir(&dir)
                .into_iter()
                .flatten()
                .flatten()
                .map(|e| e.path())
                .find(|p| {
                    p.extension()
                        .is_some_and(|x| x != "crdownload" && x != "tmp")
                });
            if let Some(file) = done {
                return std::fs::read_to_string(file).unwrap_or_default();
            }
            if started.elapsed() > PATIENCE {
                self.fail(&format!("{label:?} downloaded nothing")).await;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The image as the browser shows it: the element's screenshot (PNG).
    pub async fn image(&self, selector: &str) -> Vec<u8> {
        let found = self.client.find(Locator::Css(selector)).await;
        let image = self
            .must(found, &format!("find the image {selector}"))
            .await;
        let shot = image.screenshot().await;
        self.must(shot, "capture the image").await
    }

    /// Whether the page is wider than the window (a phone would have to scroll sideways).
    /// Every page a person on a phone presses something on is checked. Unknown (no script
    /// may run) counts as fitting.
    pub async fn overflows(&self) -> bool {
        let js = "return document.documentElement.scrollWidth > window.innerWidth + 1;";
        match self.client.execute(js, vec![]).await {
            Ok(v) => v.as_bool().unwrap_or(false),
            Err(_) => false,
        }
    }

    /// Keeps the page as it is now (`<test>/<browser>-<step>.png` and `.html`), for a person
    /// to look at: the screenshots of the suite.
    pub async fn keep(&self, step: &str) -> PathBuf {
        let base = self.artifacts.join(format!("{}-{step}", self.name));
        if let Ok(png) = self.client.screenshot().await {
            let _ = std::fs::write(base.with_extension("png"), png);
        }
        if let Ok(html) = self.client.source().await {
            let _ = std::fs::write(base.with_extension("html"), html);
        }
        base
    }

    /// Fails the test: keeps the screenshot and HTML and says what the person saw.
    pub async fn fail(&self, what: &str) -> ! {
        let url = self
            .client
            .current_url()
            .await
            .map(|u| u.to_string())
            .unwrap_or_default();
        let seen = match self.client.find(Locator::Css("body")).await {
            Ok(body) => body.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        let html = self.client.source().await.unwrap_or_default();
        let kept = self.keep("failure").await;
        panic!(
            "{}: {what}\n  at {url}\n  kept {}.png and .html\n--- the page said ---\n{seen}\n--- its HTML ---\n{}",
            self.name,
            kept.display(),
            html.chars().take(20_000).collect::<String>()
        );
    }

    async fn must<T>(&self, r: Result<T, fantoccini::error::CmdError>, what: &str) -> T {
        match r {
            Ok(v) => v,
            Err(e) => self.fail(&format!("could not {what}: {e}")).await,
        }
    }

    /// Ends the session (and its Chromium).
    pub async fn close(self) {
        let _ = self.client.close().await;
    }
}

/// Chromium's capabilities: headless, host names mapped to the campus, the person's window,
/// user agent and languages, downloads into the profile, JavaScript off if so.
fn chromium(launch: &Launch, person: Person, profile: &std::path::Path) -> serde_json::Value {
    let (width, height) = person.device.size();
    let rules = launch
        .hosts
        .iter()
        .map(|(host, addr)| format!("MAP {host} {addr}"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut args = vec![
        "--headless=new".to_string(),
        "--no-sandbox".into(),
        "--disable-gpu".into(),
        "--disable-dev-shm-usage".into(),
        "--disable-quic".into(),
        "--no-first-run".into(),
        "--disable-background-networking".into(),
        "--disable-component-update".into(),
        "--disable-sync".into(),
        "--disable-features=HttpsUpgrades,HttpsFirstBalancedModeAutoEnable".into(),
        format!("--user-data-dir={}", profile.display()),
        format!("--window-size={width},{height}"),
        format!("--host-resolver-rules={rules}"),
        format!("--lang={}", person.t("zh-CN", "en-US")),
    ];
    if let Some(ua) = person.device.user_agent() {
        args.push(format!("--user-agent={ua}"));
    }
    let mut prefs = json!({
        "intl.accept_languages": person.t("zh-CN,zh", "en-US,en"),
        "download.default_directory": profile.join("downloads"),
        "download.prompt_for_download": false,
    });
    if !person.javascript {
        prefs["profile.managed_default_content_settings.javascript"] = json!(2);
    }
    let mut options = json!({ "args": args, "prefs": prefs });
    if let Ok(binary) = std::env::var("CHROMIUM") {
        options["binary"] = json!(binary);
    }
    json!({
        "browserName": "chrome",
        // The test CA is nobody's: the certificate of cas.test is accepted as it is.
        "acceptInsecureCerts": true,
        "goog:chromeOptions": options,
    })
}

/// Firefox ESR's capabilities: headless, https through the campus proxy (loopback stays
/// direct), the person's languages and user agent, downloads into the profile's folder.
fn firefox(launch: &Launch, person: Person, profile: &std::path::Path) -> serde_json::Value {
    let mut prefs = json!({
        "network.proxy.type": 1,
        "network.proxy.ssl": launch.proxy.ip().to_string(),
        "network.proxy.ssl_port": launch.proxy.port(),
        "intl.accept_languages": person.t("zh-CN,zh", "en-US,en"),
        "browser.download.folderList": 2,
        "browser.download.dir": profile.join("downloads"),
        "browser.helperApps.neverAsk.saveToDisk": "text/csv",
        "javascript.enabled": person.javascript,
    });
    if let Some(ua) = person.device.user_agent() {
        prefs["general.useragent.override"] = json!(ua);
    }
    let binary = std::env::var("FIREFOX").unwrap_or_else(|_| "/usr/bin/firefox-esr".into());
    json!({
        "browserName": "firefox",
        "acceptInsecureCerts": true,
        "moz:firefoxOptions": { "binary": binary, "args": ["-headless"], "prefs": prefs },
    })
}

/// `s` as an XPath string literal (XPath 1.0 has no escapes: words with both quotes are
/// joined with `concat`).
fn literal(s: &str) -> String {
    match (s.contains('\''), s.contains('"')) {
        (false, _) => format!("'{s}'"),
        (true, false) => format!("\"{s}\""),
        (true, true) => format!("concat('{}')", s.replace('\'', "', \"'\", '")),
    }
}
