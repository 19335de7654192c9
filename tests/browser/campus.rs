//! A campus for one test: the real server with TLS as `https://cas.test/cas` (Chromium
//! resolves `cas.test` to its loopback port; Firefox reaches it through a small proxy), two
//! applications on other sites, the SMS `log` provider's outbox, and optionally the
//! WeCom/WeChat stand-in.

use crate::application::{Application, CasLink};
use crate::browser::{Browser, Launch, Person};
use crate::support::receiver::TestCa;
use crate::support::wx::{self, WxMock};
use crate::support::{unicas, TestServer, PASSWORD};
use unicas::config::Config;
use unicas::model::{AuditEvent, AuditRecord, Kind, NewAccount, NewService, Release};

pub const ORIGIN: &str = "https://cas.test";

pub struct Campus {
    pub server: TestServer,
    /// 教务系统 and 图书馆: two applications, each its own site.
    pub apps: [Application; 2],
    pub wx: Option<WxMock>,
    /// Reaches `cas.test` for Firefox.
    proxy: HostProxy,
    test: &'static str,
    _certs: tempfile::TempDir,
}

impl Campus {
    pub async fn start(test: &'static str) -> Campus {
        Campus::start_with(test, false, |_| {}).await
    }

    /// A campus whose server `edit` configures; with `wecom`, WeCom and WeChat are the local
    /// stand-in.
    pub async fn start_with(
        test: &'static str,
        wecom: bool,
        edit: impl FnOnce(&mut Config),
    ) -> Campus {
        let ca = TestCa::new("unicas browser suite CA");
        let certs = tempfile::tempdir().unwrap();
        let (cert, key) = ca.server_pem_for(&["cas.test"]);
        let (cert_file, key_file) = (certs.path().join("cas.pem"), certs.path().join("cas.key"));
        std::fs::write(&cert_file, cert).unwrap();
        std::fs::write(&key_file, key).unwrap();
        let wx = match wecom {
            true => Some(WxMock::start().await),
            false => None,
        };
        let base = wx.as_ref().map(|w| w.base());
        let server = TestServer::start_with(|c| {
            c.tls.cert_file = Some(cert_file);
            c.tls.key_file = Some(key_file);
            c.school_name = "示例大学".into();
            c.school_name_en = "Example University".into();
            if let Some(base) = base {
                c.wecom.corp_id = wx::CORP.into();
                c.wecom.agent_id = wx::AGENT.into();
                c.wecom.secret = wx::CORP_SECRET.into();
                c.wecom.api_base = base.clone();
                c.wecom.login_base = base.clone();
                c.wecom.oauth_base = base.clone();
                c.wechat.app_id = wx::WECHAT_APP.into();
                c.wechat.secret = wx::WECHAT_SECRET.into();
                c.wechat.website_app_id = wx::WEBSITE_APP.into();
                c.wechat.website_secret = wx::WEBSITE_SECRET.into();
                c.wechat.api_base = base.clone();
                c.wechat.oauth_base = base;
            }
            edit(c);
        })
        .await;
        let link = CasLink {
            addr: server.server.addr,
            ca_pem: ca.pem.clone(),
        };
        let apps = [
            Application::start("教务系统", link.clone()).await,
            Application::start("图书馆", link).await,
        ];
        for app in &apps {
            server.register(NewService {
                name: app.title.into(),
                pattern: app.pattern(),
                release: Release::All,
                ..NewService::default()
            });
        }
        let proxy = HostProxy::start("cas.test:443", server.server.addr).await;
        Campus {
            server,
            apps,
            proxy,
            wx,
            test,
            _certs: certs,
        }
    }

    /// Registers `pattern`'s application as requiring a second factor (`--mfa required`).
    pub fn require_second_factor(&self, pattern: &str) {
        let store = &self.server.server.store;
        let mut entry = store
            .services()
            .unwrap()
            .into_iter()
            .find(|s| s.settings.pattern == pattern)
            .unwrap();
        entry.settings.mfa = unicas::model::Mfa::Required;
        store.update_service(entry.id, &entry.settings).unwrap();
        self.server.server.reload_registry().unwrap();
    }

    /// A new browser (a fresh profile: no cookies) of `person`, named in failures by `name`.
    pub async fn browser(&self, name: &str, person: Person) -> Browser {
        let hosts = [("cas.test", self.server.server.addr)];
        let launch = Launch {
            hosts: &hosts,
            proxy: self.proxy.addr,
            origin: ORIGIN,
            test: self.test,
            name,
        };
        Browser::launch(launch, person).await
    }
}

impl Campus {
    /// Imports `rows` (学号/工号, 姓名, 类别, 身份证号) with `unicas user import`, as the IT
    /// office does on day one, into the running server's database.
    pub fn import_roster(&self, rows: &[[&str; 4]]) {
        let mut csv = String::from("学号/工号,姓名,类别,身份证号,院系,手机,邮箱\n");
        for [id, name, kind, id_number] in rows {
            csv.push_str(&format!("{id},{name},{kind},{id_number},新闻传播学院,,\n"));
        }
        let file = self.server.dir.path().join("名单.csv");
        std::fs::write(&file, csv).unwrap();
        let (ok, out, err) = unicas(
            &self.server.config.db,
            &["user", "import", file.to_str().unwrap()],
        );
        assert!(ok, "the import failed: {out}{err}");
    }

    /// Binds a phone (`138…`), an e-mail address or a WeCom/WeChat identity to `account`,
    /// as a verified binding made earlier.
    pub fn bind(&self, account: &str, kind: &'static str, value: &str) {
        let phone = unicas::model::Phone::parse(value).filter(|_| kind == "phone");
        let (event, value) = match phone {
            Some(p) => (AuditEvent::PhoneBound { phone: p.masked() }, p.e164()),
            None => (AuditEvent::IdentityBound { kind }, value.to_string()),
        };
        let record = AuditRecord::system(event, Some(account));
        let now = self.server.clock().now();
        self.server
            .server
            .store
            .bind(account, kind, &value, &record, now)
            .unwrap();
    }

    /// An administrator (`PASSWORD`) with a bound phone for the console's second factor.
    pub fn add_admin(&self, id: &str, phone: &str) {
        let mut account =
            NewAccount::new(id, "信息中心管理员", Kind::Admin, "信息中心", "", "", &[]).unwrap();
        account.password_hash = unicas::accounts::hash_now(PASSWORD, 4).unwrap();
        let now = self.server.clock().now();
        assert!(self
            .server
            .server
            .store
            .insert_account(&account, now)
            .unwrap());
        self.bind(id, "phone", phone);
    }
}

impl Browser {
    /// Types the characters of the captcha image this browser was shown (the server's
    /// test hook tells them, as a person reads them off the picture).
    pub async fn solve_captcha(&self, campus: &Campus) {
        let flow = self.cookie("UNICAS_FLOW").await;
        let Some(answer) = campus.server.server.app.captcha_answer(&flow).await else {
            self.fail("no captcha was drawn for this browser").await;
        };
        self.fill("captcha", &answer).await;
    }
}

/// An HTTP proxy that takes `CONNECT cas.test:443` to the server's loopback port (Firefox has
/// no resolver rules; loopback addresses it reaches directly).
struct HostProxy {
    addr: std::net::SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for HostProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl HostProxy {
    async fn start(host: &'static str, to: std::net::SocketAddr) -> HostProxy {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut head = Vec::new();
                    let mut byte = [0u8; 1];
                    while !head.ends_with(b"\r\n\r\n") && head.len() < 8192 {
                        if inbound.read(&mut byte).await.unwrap_or(0) == 0 {
                            return;
                        }
                        head.push(byte[0]);
                    }
                    let head = String::from_utf8_lossy(&head);
                    if !head.starts_with(&format!("CONNECT {host} ")) {
                        let _ = inbound.write_all(b"HTTP/1.1 502 Bad Gateway\r\n\r\n").await;
                        return;
                    }
                    let Ok(mut outbound) = tokio::net::TcpStream::connect(to).await else {
                        return;
                    };
                    let established = b"HTTP/1.1 200 Connection Established\r\n\r\n";
                    if inbound.write_all(established).await.is_ok() {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
        });
        HostProxy { addr, task }
    }
}
