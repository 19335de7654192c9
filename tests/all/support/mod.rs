//! Test harness: boots the real server on 127.0.0.1:0 with a temporary database and talks
//! HTTP to it like a browser or CAS client, with a cookie jar and a choice of source address.

pub mod receiver;
pub mod sms_gateway;
pub mod smtp;
pub mod wx;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use unicas::accounts::hash_now;
use unicas::clock::Clock;
use unicas::config::Config;
use unicas::model::{Kind, NewAccount, NewService, Release};

/// Runs the real `unicas` binary on `db`: (success, stdout, stderr).
pub fn unicas(db: &std::path::Path, args: &[&str]) -> (bool, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_unicas"))
        .args(db_args(db))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The account `gina` (`Tea-Kettle-2026`) and the service `SERVICE`, added to `db` with the
/// real binary, for tests that run it.
pub fn seed_with_cli(db: &std::path::Path) {
    let add = [
        "user",
        "add",
        "gina",
        "--name",
        "G",
        "--password",
        "Tea-Kettle-2026",
    ];
    assert!(unicas(db, &add).0);
    let service = ["service", "add", "--name", "a", "--pattern", SERVICE];
    assert!(unicas(db, &service).0);
}

/// The real binary serving `db` on a free port of 127.0.0.1.
pub struct Binary {
    pub child: std::process::Child,
    pub addr: SocketAddr,
}

impl Drop for Binary {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `unicas serve` with `args` (after the test's listen address and public URL) and
/// returns once it has printed the address it listens on. Its log goes to `log` if given.
pub fn serve_binary(db: &std::path::Path, args: &[&str], log: Option<&std::path::Path>) -> Binary {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let stderr = match log {
        Some(path) => Stdio::from(std::fs::File::create(path).unwrap()),
        None => Stdio::null(),
    };
    let mut child = Command::new(env!("CARGO_BIN_EXE_unicas"))
        .args(db_args(db))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--public-url",
            "https://cas.test/cas",
        ])
        .args(args)
        .env("RUST_LOG", if log.is_some() { "info" } else { "warn" })
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    // Whatever it prints later is read too, so it never writes into a closed pipe.
    std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
    let addr = line
        .split_whitespace()
        .nth(3)
        .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
        .parse()
        .unwrap();
    Binary { child, addr }
}

/// Sends raw bytes on a fresh connection and reads everything the server answers before it
/// closes (or 5 s pass).
pub async fn raw(addr: SocketAddr, request: &[u8]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(request).await.unwrap();
    let mut out = Vec::new();
    let _ = tokio::time::timeout(std::time::Duration::from_secs(5), s.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).into_owned()
}

pub const PASSWORD: &str = "Correct-Horse-9";
pub const SERVICE: &str = "https://app.test/home";

pub struct TestServer {
    pub server: unicas::Server,
    pub config: Config,
    pub dir: tempfile::TempDir,
}

/// The environment variable naming a PostgreSQL cluster (`postgres://user@host:port/db`):
/// when set, every test gets a fresh database there instead of a SQLite file.
pub const POSTGRES: &str = "UNICAS_TEST_POSTGRES";

/// Whether the suite runs on PostgreSQL (see `POSTGRES`).
pub fn on_postgres() -> bool {
    std::env::var_os(POSTGRES).is_some()
}

/// A new, empty PostgreSQL database on the cluster named by `POSTGRES`; its URL.
pub fn fresh_postgres() -> String {
    let base = std::env::var(POSTGRES).expect("UNICAS_TEST_POSTGRES");
    let name = format!("unicas_t{}", rand::random::<u64>());
    let create = format!("CREATE DATABASE {name}");
    admin_exec(&base, &create).unwrap();
    let (url, query) = base.split_once('?').unwrap_or((&base, ""));
    let cut = url.rfind('/').expect("a database in the URL");
    match query {
        "" => format!("{}/{name}", &url[..cut]),
        query => format!("{}/{name}?{query}", &url[..cut]),
    }
}

/// Runs `f` on a plain connection to the PostgreSQL database `url`, on a thread and a
/// runtime of its own (the caller may be inside a runtime, or a test's blocking code).
fn with_client<T, F, Fut>(url: &str, f: F) -> Result<T, String>
where
    T: Send + 'static,
    F: FnOnce(tokio_postgres::Client) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<T, tokio_postgres::Error>>,
{
    let url = url.to_string();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                .await
                .map_err(|e| e.to_string())?;
            tokio::spawn(connection);
            f(client).await.map_err(|e| e.to_string())
        })
    })
    .join()
    .unwrap()
}

/// The first column of every row `sql` answers on the PostgreSQL database `url`, as text.
pub fn admin_query(url: &str, sql: &str) -> Vec<String> {
    let sql = sql.to_string();
    with_client(url, move |client| async move {
        let rows = client.query(&sql, &[]).await?;
        Ok(rows.iter().map(|r| r.get::<_, String>(0)).collect())
    })
    .unwrap()
}

/// Runs `sql` (statements without results) on the PostgreSQL database `url`.
pub fn admin_exec(url: &str, sql: &str) -> Result<(), String> {
    let sql = sql.to_string();
    with_client(url, move |client| async move {
        client.batch_execute(&sql).await
    })
}

/// Every row of every table of the database at `db`, as text: `(table, rows)`, each row's
/// values joined by `|` (SQLite) or in PostgreSQL's row syntax. For looking through
/// everything stored, as someone holding a copy of the database could.
pub fn dump_database(db: &std::path::Path) -> Vec<(String, Vec<String>)> {
    let Some(url) = db
        .to_str()
        .filter(|d| unicas::config::is_postgres_url(d))
        .map(str::to_owned)
    else {
        let conn = rusqlite::Connection::open(db).unwrap();
        let tables: Vec<String> = conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        return tables
            .into_iter()
            .map(|table| {
                let mut stmt = conn
                    .prepare(&format!("SELECT * FROM {table} ORDER BY 1"))
                    .unwrap();
                let n = stmt.column_count();
                let rows = stmt
                    .query_map([], |r| {
                        Ok((0..n)
                            .map(|i| match r.get_ref(i).unwrap() {
                                rusqlite::types::ValueRef::Text(t)
                                | rusqlite::types::ValueRef::Blob(t) => {
                                    String::from_utf8_lossy(t).into_owned()
                                }
                                other => format!("{other:?}"),
                            })
                            .collect::<Vec<_>>()
                            .join("|"))
                    })
                    .unwrap()
                    .map(Result::unwrap)
                    .collect();
                (table, rows)
            })
            .collect();
    };
    with_client(&url, |client| async move {
        let tables: Vec<String> = client
            .query(
                "SELECT table_name::text FROM information_schema.tables
                 WHERE table_schema = 'public' ORDER BY 1",
                &[],
            )
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect();
        let mut out = Vec::new();
        for table in tables {
            let rows = client
                .query(&format!("SELECT t::text FROM {table} t ORDER BY 1"), &[])
                .await?
                .iter()
                .map(|r| r.get::<_, String>(0))
                .collect();
            out.push((table, rows));
        }
        Ok(out)
    })
    .unwrap()
}

/// Where a test's data lives: a SQLite file in `dir`, or a fresh PostgreSQL database with
/// the key file in `dir`.
pub fn test_database(dir: &tempfile::TempDir) -> (std::path::PathBuf, Option<std::path::PathBuf>) {
    match on_postgres() {
        true => {
            let url = fresh_postgres();
            let key = key_file_of(std::path::Path::new(&url));
            (url.into(), key)
        }
        false => (dir.path().join("unicas.db"), None),
    }
}

/// The key file a test database on PostgreSQL goes with (a SQLite file keeps its beside it).
pub fn key_file_of(db: &std::path::Path) -> Option<std::path::PathBuf> {
    let db = db.to_str()?;
    unicas::config::is_postgres_url(db).then(|| {
        let url = db.split('?').next().unwrap_or(db);
        let name = url.rsplit('/').next().unwrap_or("unicas");
        std::env::temp_dir().join(format!("{name}.key"))
    })
}

/// `--db DB` and, with PostgreSQL, its `--key-file`.
fn db_args(db: &std::path::Path) -> Vec<std::ffi::OsString> {
    let mut args = vec!["--db".into(), db.as_os_str().to_owned()];
    if let Some(key) = key_file_of(db) {
        args.extend(["--key-file".into(), key.into_os_string()]);
    }
    args
}

pub fn test_config(dir: &tempfile::TempDir) -> Config {
    let (db, key_file) = test_database(dir);
    let mut config = Config {
        db,
        key_file,
        listen: "127.0.0.1:0".parse().unwrap(),
        public_url: "https://cas.test/cas".into(),
        ..Config::default()
    };
    config.passwords.bcrypt_cost = 4;
    config.passwords.hash_threads = 2;
    config
}

impl TestServer {
    /// Binds `value` (a phone, an address, a WeCom or WeChat identity) to `id` directly in
    /// the store, as if verified: the state a test starts from.
    pub fn bind(&self, id: &str, kind: &str, value: &str) {
        let record =
            unicas::model::AuditRecord::system(unicas::model::AuditEvent::AccountUnlocked, None);
        self.server
            .store
            .bind(id, kind, value, &record, self.clock().now())
            .unwrap();
    }

    /// A server with `alice` and the service `https://app.test/home` (releasing every
    /// attribute).
    pub async fn start() -> TestServer {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(edit: impl FnOnce(&mut Config)) -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        let mut config = test_config(&dir);
        edit(&mut config);
        let server = unicas::start(config.clone(), Clock::system(), false)
            .await
            .unwrap();
        let t = TestServer {
            server,
            config,
            dir,
        };
        t.add_user(
            "alice",
            PASSWORD,
            false,
            &[("memberOf", "students"), ("memberOf", "library")],
        );
        t.add_service(SERVICE, None);
        t
    }

    /// Another node on this server's database (PostgreSQL): the same configuration and
    /// key file, its own address, memory and clock.
    pub async fn another_node(&self) -> TestServer {
        assert!(on_postgres(), "nodes share a PostgreSQL database");
        let server = unicas::start(self.config.clone(), Clock::system(), false)
            .await
            .unwrap();
        TestServer {
            server,
            config: self.config.clone(),
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// Stops this server and starts another on the same database.
    pub async fn restart(self) -> TestServer {
        let TestServer {
            server,
            config,
            dir,
        } = self;
        server.stop().await;
        let server = unicas::start(config.clone(), Clock::system(), false)
            .await
            .unwrap();
        TestServer {
            server,
            config,
            dir,
        }
    }

    pub fn clock(&self) -> &Clock {
        &self.server.clock
    }

    pub fn add_user(&self, id: &str, password: &str, must_change: bool, attrs: &[(&str, &str)]) {
        let mut account = NewAccount::new(
            id,
            &format!("User {id}"),
            Kind::Student,
            "Physics",
            &format!("{id}@example.edu"),
            "13800000000",
            &[],
        )
        .unwrap();
        // As they might stand in an old database: escaping must hold whatever the values.
        account.attributes = attrs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        account.password_hash = hash_now(password, 4).unwrap();
        account.must_change = must_change;
        assert!(self
            .server
            .store
            .insert_account(&account, self.clock().now())
            .unwrap());
    }

    /// An account as the roster import makes it: the initial password, to be changed, and a
    /// phone to bind.
    pub fn add_imported(&self, id: &str, initial: &str) {
        let mut account = NewAccount::new(
            id,
            &format!("学生{id}"),
            Kind::Student,
            "物理学院",
            "",
            "",
            &[],
        )
        .unwrap();
        account.password_hash = hash_now(initial, 4).unwrap();
        account.must_change = true;
        account.initial_password = true;
        account.source = unicas::model::Source::Import;
        assert!(self
            .server
            .store
            .insert_account(&account, self.clock().now())
            .unwrap());
    }

    /// The code in the last text the `log` provider kept for `phone`.
    pub async fn sms_code(&self, phone: &str) -> Option<String> {
        let phone = unicas::model::Phone::parse(phone).unwrap();
        self.delivered("sms", &unicas::otp::Recipient::Phone(phone))
            .await
    }

    /// Waits until every message handed to a gateway has its outcome recorded.
    pub async fn settle_messages(&self) {
        for _ in 0..500 {
            let store = &self.server.store;
            let pending = ["sms", "email"].iter().any(|c| {
                store
                    .outbox(c, None, 100)
                    .unwrap()
                    .iter()
                    .any(|r| r.result == "pending")
            });
            if !pending {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        panic!("messages still pending after 10 s");
    }

    /// The code in the newest message the `log` provider delivered to `to` on `channel`.
    /// Some flows deliver after answering, so this waits a little for the delivery.
    pub async fn delivered(&self, channel: &str, to: &unicas::otp::Recipient) -> Option<String> {
        let store = &self.server.store;
        let hash = store.keys().lookup(to.kind(), &to.value());
        for _ in 0..500 {
            let row = store
                .outbox(channel, Some(&hash), 1)
                .unwrap()
                .into_iter()
                .next()?;
            if row.result != "pending" {
                let text = store.keys().open(&row.text)?;
                let start = text.find("验证码为")? + "验证码为".len();
                let digits: String = text[start..]
                    .chars()
                    .skip_while(|c| !c.is_ascii_digit())
                    .take(6)
                    .collect();
                return Some(digits);
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        None
    }

    /// The answer of the captcha last drawn for `c`'s browser (read from the server, not the
    /// image).
    pub async fn captcha(&self, c: &Client) -> String {
        self.server
            .app
            .captcha_answer(&c.jar["UNICAS_FLOW"])
            .await
            .expect("a captcha drawn for this browser")
    }

    /// Text messages recorded (sent or not) so far.
    pub fn sms_count(&self) -> usize {
        self.server.store.outbox("sms", None, 10_000).unwrap().len()
    }

    /// Registers `pattern`, releasing the listed attributes, or every one with `None`.
    pub fn add_service(&self, pattern: &str, attributes: Option<&[&str]>) {
        let release = match attributes {
            None => Release::All,
            Some(names) => Release::Only(names.iter().map(|s| s.to_string()).collect()),
        };
        let s = NewService {
            name: pattern.into(),
            pattern: pattern.into(),
            release,
            ..NewService::default()
        };
        self.register(s);
    }

    /// Registers a service with any settings and makes the running server see it now.
    pub fn register(&self, s: NewService) {
        self.server
            .store
            .insert_service(&s, self.clock().now())
            .unwrap()
            .unwrap();
        self.server.reload_registry().unwrap();
    }

    pub fn client(&self) -> Client {
        Client::new(self.server.addr, None)
    }

    pub fn client_from(&self, ip: &str) -> Client {
        Client::new(self.server.addr, Some(ip.parse().unwrap()))
    }
}

pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// The body as sent (images are not text).
    pub raw: Vec<u8>,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    pub fn location(&self) -> &str {
        self.header("location")
            .unwrap_or_else(|| panic!("no Location in {} {}", self.status, self.body))
    }

    /// The `Set-Cookie` line for `name`.
    pub fn set_cookie(&self, name: &str) -> Option<&str> {
        self.all("set-cookie")
            .into_iter()
            .find(|c| c.starts_with(&format!("{name}=")))
    }

    /// The value of a hidden or text input `name` in the page.
    pub fn input(&self, name: &str) -> Option<String> {
        let marker = format!("name=\"{name}\" value=\"");
        let start = self.body.find(&marker)? + marker.len();
        let end = self.body[start..].find('"')? + start;
        Some(
            self.body[start..end]
                .replace("&amp;", "&")
                .replace("&quot;", "\"")
                .replace("&lt;", "<")
                .replace("&gt;", ">"),
        )
    }

    /// Every form token (`execution`) of the page, in order.
    pub fn tokens(&self) -> Vec<String> {
        self.body
            .split("name=\"execution\" value=\"")
            .skip(1)
            .filter_map(|rest| rest.split('"').next().map(str::to_string))
            .collect()
    }

    /// The form token (`execution`) of the form posting to `action` (a path).
    pub fn token_for(&self, action: &str) -> String {
        let marker = format!("action=\"{action}\"");
        let start = self
            .body
            .find(&marker)
            .unwrap_or_else(|| panic!("no form posting to {action} in {}", self.body));
        let rest = Resp {
            status: self.status,
            headers: Vec::new(),
            body: self.body[start..].to_string(),
            raw: Vec::new(),
        };
        rest.input("execution").expect("the form's token")
    }

    /// The login page's per-page password salt.
    pub fn salt(&self) -> String {
        let marker = "id=\"pwdEncryptSalt\" value=\"";
        let start = self.body.find(marker).expect("salt") + marker.len();
        self.body[start..start + 16].to_string()
    }

    /// The `ticket` parameter of the redirect.
    pub fn ticket(&self) -> String {
        let loc = self.location();
        let start = loc
            .find("ticket=")
            .unwrap_or_else(|| panic!("no ticket in {loc}"))
            + 7;
        loc[start..].split(['&', '#']).next().unwrap().to_string()
    }
}

pub struct Client {
    addr: SocketAddr,
    bind: Option<IpAddr>,
    pub jar: BTreeMap<String, String>,
    /// Sent with every request (e.g. the X-Forwarded-For a reverse proxy adds).
    pub headers: Vec<(String, String)>,
}

pub fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

impl Client {
    /// The first-login phone step: 获取验证码 for `phone`.
    pub async fn send_phone_code(&mut self, token: &str, phone: &str) -> Resp {
        self.post(
            "/cas/login/first/phone",
            &[("execution", token), ("action", "send"), ("phone", phone)],
        )
        .await
    }

    /// The first-login phone step: 确定绑定 with the code received.
    pub async fn bind_phone(&mut self, token: &str, code: &str) -> Resp {
        self.post(
            "/cas/login/first/phone",
            &[("execution", token), ("action", "bind"), ("code", code)],
        )
        .await
    }

    pub fn new(addr: SocketAddr, bind: Option<IpAddr>) -> Client {
        Client {
            addr,
            bind,
            jar: BTreeMap::new(),
            headers: Vec::new(),
        }
    }

    pub async fn get(&mut self, path: &str) -> Resp {
        self.send("GET", path, &[], "").await
    }

    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Resp {
        let body = form
            .iter()
            .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
            .collect::<Vec<_>>()
            .join("&");
        self.send(
            "POST",
            path,
            &[("content-type", "application/x-www-form-urlencoded")],
            &body,
        )
        .await
    }

    /// `post` with owned values.
    pub async fn post_owned(&mut self, path: &str, form: &[(&str, String)]) -> Resp {
        let refs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        self.post(path, &refs).await
    }

    pub async fn send(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> Resp {
        self.try_send(method, path, headers, body).await.unwrap()
    }

    /// A GET that may find the server gone (a node killed under load).
    pub async fn try_get(&mut self, path: &str) -> Result<Resp, String> {
        self.try_send("GET", path, &[], "").await
    }

    async fn try_send(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> Result<Resp, String> {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        if let Some(ip) = self.bind {
            socket.bind(SocketAddr::new(ip, 0)).unwrap();
        }
        let stream = socket.connect(self.addr).await.map_err(|e| e.to_string())?;
        let (mut sender, conn) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                .await
                .map_err(|e| e.to_string())?;
        tokio::spawn(conn);
        let mut req = hyper::Request::builder().method(method).uri(path);
        if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
            req = req.header("host", "cas.test");
        }
        if !self.jar.is_empty() {
            let cookies = self
                .jar
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ");
            req = req.header("cookie", cookies);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        for (k, v) in &self.headers {
            req = req.header(k.as_str(), v.as_str());
        }
        let res = sender
            .send_request(req.body(Full::new(Bytes::from(body.to_string()))).unwrap())
            .await
            .map_err(|e| e.to_string())?;
        let status = res.status().as_u16();
        let headers: Vec<(String, String)> = res
            .headers()
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
            .collect();
        let raw = res
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes()
            .to_vec();
        let body = String::from_utf8_lossy(&raw).into_owned();
        for (k, v) in &headers {
            if k == "set-cookie" {
                let pair = v.split(';').next().unwrap();
                let (name, value) = pair.split_once('=').unwrap();
                if v.contains("Max-Age=0") {
                    self.jar.remove(name);
                } else {
                    self.jar.insert(name.to_string(), value.to_string());
                }
            }
        }
        Ok(Resp {
            status,
            headers,
            body,
            raw,
        })
    }

    /// Loads the login form for `service` and submits it.
    pub async fn login(&mut self, username: &str, password: &str, service: Option<&str>) -> Resp {
        self.login_with(username, password, service, &[]).await
    }

    pub async fn login_with(
        &mut self,
        username: &str,
        password: &str,
        service: Option<&str>,
        extra: &[(&str, &str)],
    ) -> Resp {
        let path = match service {
            Some(s) => format!("/cas/login?service={}", enc(s)),
            None => "/cas/login".to_string(),
        };
        let form = self.get(&path).await;
        assert_eq!(form.status, 200, "{}", form.body);
        let token = form.input("execution").expect("execution token");
        let mut fields = vec![
            ("username", username),
            ("password", password),
            ("execution", token.as_str()),
        ];
        if let Some(s) = service {
            fields.push(("service", s));
        }
        fields.extend_from_slice(extra);
        self.post("/cas/login", &fields).await
    }

    /// The first-login password step and "我已完成", from the steps page `step` the login
    /// answered: the answer to "我已完成" (a 302 to the service when nothing else is needed).
    pub async fn change_initial_password(&mut self, step: &Resp, current: &str, new: &str) -> Resp {
        let token = step.input("execution").expect("the steps page's token");
        let fields = [
            ("execution", token.as_str()),
            ("password", current),
            ("newPassword", new),
            ("confirmPassword", new),
        ];
        let changed = self.post("/cas/login/first/password", &fields).await;
        assert_eq!(changed.status, 303, "{}", changed.body);
        self.post("/cas/login/first/done", &[("execution", token.as_str())])
            .await
    }

    /// A fresh service ticket for `service` from a password login in a new browser session.
    pub async fn ticket(&mut self, service: &str) -> String {
        self.jar.clear();
        let res = self.login("alice", PASSWORD, Some(service)).await;
        assert_eq!(res.status, 302, "{}", res.body);
        res.ticket()
    }
}

/// A valid 18-character ID number from its first 17 digits: the GB 11643-1999 check
/// character, computed here from the standard's definition.
pub fn id_number(first17: &str) -> String {
    let sum: u32 = first17
        .bytes()
        .enumerate()
        .map(|(i, d)| u32::from(d - b'0') * ((1u32 << (17 - i)) % 11))
        .sum();
    let check = b"10X98765432"[(sum % 11) as usize] as char;
    format!("{first17}{check}")
}

/// The code an authenticator app shows at `now` for the base32 `secret` (RFC 6238: SHA-1,
/// 30-second steps, six digits), computed here independently of the server's.
pub fn authenticator_code(secret: &str, now: i64) -> String {
    use hmac::Mac;
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let (mut bits, mut n, mut key) = (0u64, 0, Vec::new());
    for c in secret.bytes() {
        bits = (bits << 5) | alphabet.iter().position(|&a| a == c).unwrap() as u64;
        n += 5;
        if n >= 8 {
            key.push((bits >> (n - 8)) as u8);
            n -= 8;
        }
    }
    let mut mac = hmac::Hmac::<sha1::Sha1>::new_from_slice(&key).unwrap();
    mac.update(&((now / 30) as u64).to_be_bytes());
    let h = mac.finalize().into_bytes();
    let o = (h[19] & 15) as usize;
    let v = u32::from_be_bytes([h[o] & 0x7f, h[o + 1], h[o + 2], h[o + 3]]) % 1_000_000;
    format!("{v:06}")
}

/// `path?service=..&ticket=..` for a validation endpoint.
pub fn validate_path(endpoint: &str, service: &str, ticket: &str) -> String {
    format!(
        "/cas/{endpoint}?service={}&ticket={}",
        enc(service),
        enc(ticket)
    )
}

/// (user, attributes) of a success.
pub type Success = (String, Vec<(String, String)>);

/// Parses a CAS XML answer strictly and returns (user, attributes) or (code, message).
pub fn parse_cas(xml: &str) -> Result<Success, (String, String)> {
    const NS: &str = "http://www.yale.edu/tp/cas";
    let doc = roxmltree::Document::parse(xml)
        .unwrap_or_else(|e| panic!("not well-formed XML ({e}): {xml}"));
    assert_eq!(doc.root_element().tag_name().namespace(), Some(NS));
    if let Some(f) = doc
        .descendants()
        .find(|n| n.has_tag_name((NS, "authenticationFailure")))
    {
        return Err((
            f.attribute("code").unwrap().to_string(),
            f.text().unwrap_or("").to_string(),
        ));
    }
    let users: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name((NS, "user")))
        .collect();
    assert_eq!(users.len(), 1, "exactly one cas:user");
    let attrs = doc
        .descendants()
        .find(|n| n.has_tag_name((NS, "attributes")))
        .map(|a| {
            a.children()
                .filter(|n| n.is_element())
                .map(|n| {
                    (
                        n.tag_name().name().to_string(),
                        n.text().unwrap_or("").to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    Ok((users[0].text().unwrap_or("").to_string(), attrs))
}
