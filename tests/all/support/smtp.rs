//! A local mail server for the e-mail tests: SMTP (RFC 5321) with STARTTLS (RFC 3207) or
//! implicit TLS on a certificate of the test CA, and AUTH PLAIN / LOGIN (RFC 4954) that must
//! come after TLS. It keeps every message it accepted, and can refuse recipients with a
//! permanent (550) or transient (451) reply.

use super::receiver::TestCa;
use base64::Engine;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Security {
    StartTls,
    Implicit,
}

/// How the server answers recipients.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Recipients {
    Accept,
    /// 550: no such mailbox.
    Refuse,
    /// 451: try again later.
    Defer,
}

/// One accepted message.
#[derive(Clone, Debug)]
pub struct Mail {
    pub from: String,
    pub to: Vec<String>,
    /// The user who authenticated.
    pub user: String,
    pub tls: bool,
    /// Headers and body as received (dot-stuffing undone).
    pub data: String,
}

impl Mail {
    fn header(&self, name: &str) -> Option<String> {
        let (head, _) = self.data.split_once("\r\n\r\n")?;
        // Unfold continuation lines first.
        let unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ");
        unfolded.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
        })
    }

    /// The subject, RFC 2047 encoded words decoded.
    pub fn subject(&self) -> String {
        let raw = self.header("Subject").unwrap_or_default();
        raw.split_whitespace()
            .map(|word| {
                let inner = word.strip_prefix("=?").and_then(|w| w.strip_suffix("?="));
                match inner.map(|w| w.splitn(3, '?').collect::<Vec<_>>()) {
                    Some(p) if p.len() == 3 && p[1].eq_ignore_ascii_case("b") => {
                        String::from_utf8_lossy(&B64.decode(p[2]).unwrap_or_default()).into_owned()
                    }
                    Some(p) if p.len() == 3 && p[1].eq_ignore_ascii_case("q") => {
                        String::from_utf8_lossy(&quoted_printable(&p[2].replace('_', " ")))
                            .into_owned()
                    }
                    _ => format!("{word} "),
                }
            })
            .collect::<String>()
            .trim()
            .to_string()
    }

    /// The body, its transfer encoding undone.
    pub fn body(&self) -> String {
        let body = self
            .data
            .split_once("\r\n\r\n")
            .map(|(_, b)| b)
            .unwrap_or("");
        let encoding = self
            .header("Content-Transfer-Encoding")
            .unwrap_or_default()
            .to_ascii_lowercase();
        let bytes = match encoding.as_str() {
            "base64" => B64.decode(body.replace("\r\n", "")).unwrap_or_default(),
            "quoted-printable" => quoted_printable(body),
            _ => body.as_bytes().to_vec(),
        };
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// The six-digit code in the body.
    pub fn code(&self) -> Option<String> {
        let body = self.body();
        let start = body.find("验证码为")? + "验证码为".len();
        Some(
            body[start..]
                .chars()
                .skip_while(|c| !c.is_ascii_digit())
                .take(6)
                .collect(),
        )
    }
}

fn quoted_printable(s: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'=' if bytes.get(i + 1) == Some(&b'\r') => i += 3,
            b'=' if bytes.get(i + 1) == Some(&b'\n') => i += 2,
            b'=' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("00");
                out.push(u8::from_str_radix(hex, 16).unwrap_or(b'?'));
                i += 3;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}

pub struct SmtpServer {
    pub addr: SocketAddr,
    received: Arc<Mutex<Vec<Mail>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

struct Settings {
    tls: Arc<tokio_rustls::rustls::ServerConfig>,
    security: Security,
    user: String,
    password: String,
    recipients: Recipients,
}

impl SmtpServer {
    pub async fn start(
        ca: &TestCa,
        security: Security,
        (user, password): (&str, &str),
        recipients: Recipients,
    ) -> SmtpServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let received = Arc::new(Mutex::new(Vec::new()));
        let settings = Arc::new(Settings {
            tls: ca.server_config(),
            security,
            user: user.into(),
            password: password.into(),
            recipients,
        });
        let kept = Arc::clone(&received);
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (settings, kept) = (Arc::clone(&settings), Arc::clone(&kept));
                tokio::spawn(async move {
                    let _ = serve(stream, settings, kept).await;
                });
            }
        });
        SmtpServer {
            addr,
            received,
            task,
        }
    }

    pub fn received(&self) -> Vec<Mail> {
        self.received.lock().unwrap().clone()
    }
}

async fn serve(
    stream: tokio::net::TcpStream,
    settings: Arc<Settings>,
    kept: Arc<Mutex<Vec<Mail>>>,
) -> std::io::Result<()> {
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::clone(&settings.tls));
    if settings.security == Security::Implicit {
        let tls = acceptor.accept(stream).await?;
        let mut conn = BufReader::new(tls);
        reply(&mut conn, "220 smtp.test ESMTP").await?;
        converse(&mut conn, true, &settings, &kept).await?;
        return Ok(());
    }
    let mut plain = BufReader::new(stream);
    reply(&mut plain, "220 smtp.test ESMTP").await?;
    if converse(&mut plain, false, &settings, &kept).await? {
        let tls = acceptor.accept(plain.into_inner()).await?;
        converse(&mut BufReader::new(tls), true, &settings, &kept).await?;
    }
    Ok(())
}

async fn reply<S: AsyncWrite + Unpin>(s: &mut S, line: &str) -> std::io::Result<()> {
    s.write_all(format!("{line}\r\n").as_bytes()).await?;
    s.flush().await
}

async fn read_line<S: AsyncBufReadExt + Unpin>(s: &mut S) -> std::io::Result<Option<String>> {
    let mut line = String::new();
    if s.read_line(&mut line).await? == 0 {
        return Ok(None);
    }
    Ok(Some(line.trim_end_matches(['\r', '\n']).to_string()))
}

/// One SMTP conversation; `true` when the client asked for STARTTLS (the caller upgrades
/// the connection and converses again).
async fn converse<S>(
    s: &mut S,
    tls: bool,
    settings: &Settings,
    kept: &Mutex<Vec<Mail>>,
) -> std::io::Result<bool>
where
    S: AsyncBufReadExt + AsyncReadExt + AsyncWrite + Unpin,
{
    let mut user = String::new();
    let (mut from, mut to) = (String::new(), Vec::new());
    while let Some(line) = read_line(s).await? {
        let upper = line.to_ascii_uppercase();
        let arg = |prefix: &str| {
            line[prefix.len()..]
                .trim()
                .trim_matches(['<', '>'])
                .to_string()
        };
        if upper.starts_with("EHLO") || upper.starts_with("HELO") {
            let mut lines = vec!["250-smtp.test".to_string(), "250-8BITMIME".into()];
            if !tls && settings.security == Security::StartTls {
                lines.push("250-STARTTLS".into());
            }
            if tls {
                lines.push("250-AUTH PLAIN LOGIN".into());
            }
            lines.push("250 SIZE 1000000".into());
            let last = lines.len() - 1;
            lines[last] = lines[last].replacen("250-", "250 ", 1);
            reply(s, &lines.join("\r\n")).await?;
        } else if upper == "STARTTLS" && !tls {
            reply(s, "220 ready to start TLS").await?;
            return Ok(true);
        } else if upper.starts_with("AUTH PLAIN") && tls {
            let given = match line.split_whitespace().nth(2) {
                Some(b) => b.to_string(),
                None => {
                    reply(s, "334 ").await?;
                    read_line(s).await?.unwrap_or_default()
                }
            };
            let decoded = B64.decode(given).unwrap_or_default();
            let parts: Vec<&[u8]> = decoded.split(|b| *b == 0).collect();
            let ok = parts.len() == 3
                && parts[1] == settings.user.as_bytes()
                && parts[2] == settings.password.as_bytes();
            if ok {
                user = settings.user.clone();
                reply(s, "235 2.7.0 authenticated").await?;
            } else {
                reply(s, "535 5.7.8 bad credentials").await?;
            }
        } else if upper.starts_with("AUTH LOGIN") && tls {
            reply(s, "334 VXNlcm5hbWU6").await?;
            let name = B64
                .decode(read_line(s).await?.unwrap_or_default())
                .unwrap_or_default();
            reply(s, "334 UGFzc3dvcmQ6").await?;
            let pass = B64
                .decode(read_line(s).await?.unwrap_or_default())
                .unwrap_or_default();
            if name == settings.user.as_bytes() && pass == settings.password.as_bytes() {
                user = settings.user.clone();
                reply(s, "235 2.7.0 authenticated").await?;
            } else {
                reply(s, "535 5.7.8 bad credentials").await?;
            }
        } else if upper.starts_with("MAIL FROM:") {
            if user.is_empty() {
                reply(s, "530 5.7.0 authentication required").await?;
                continue;
            }
            from = arg("MAIL FROM:");
            from = from
                .split_whitespace()
                .next()
                .unwrap_or("")
                .trim_matches(['<', '>'])
                .to_string();
            to.clear();
            reply(s, "250 2.1.0 ok").await?;
        } else if upper.starts_with("RCPT TO:") {
            match settings.recipients {
                Recipients::Accept => {
                    to.push(arg("RCPT TO:"));
                    reply(s, "250 2.1.5 ok").await?;
                }
                Recipients::Refuse => reply(s, "550 5.1.1 no such mailbox").await?,
                Recipients::Defer => reply(s, "451 4.3.0 try again later").await?,
            }
        } else if upper == "DATA" {
            if to.is_empty() {
                reply(s, "554 5.5.1 no valid recipients").await?;
                continue;
            }
            reply(s, "354 end with <CRLF>.<CRLF>").await?;
            let mut data = String::new();
            loop {
                let mut raw = String::new();
                if s.read_line(&mut raw).await? == 0 {
                    return Ok(false);
                }
                if raw == ".\r\n" || raw == ".\n" {
                    break;
                }
                data.push_str(raw.strip_prefix('.').unwrap_or(&raw));
            }
            kept.lock().unwrap().push(Mail {
                from: from.clone(),
                to: std::mem::take(&mut to),
                user: user.clone(),
                tls,
                data,
            });
            reply(s, "250 2.0.0 queued").await?;
        } else if upper == "RSET" || upper == "NOOP" {
            reply(s, "250 2.0.0 ok").await?;
        } else if upper == "QUIT" {
            reply(s, "221 2.0.0 bye").await?;
            return Ok(false);
        } else {
            reply(s, "502 5.5.2 not implemented").await?;
        }
    }
    Ok(false)
}
