//! The built-in demo application of `serve --demo`: a CAS client living at `/demo/` on the
//! same listener. Without a ticket it redirects to the login page; with one it validates it
//! over HTTP at `/p3/serviceValidate`, exactly as an external application would, and shows
//! the user and the released attributes.

use super::App;
use crate::config::Config;
use crate::http::{Request, Response};
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper::StatusCode;
use maud::html;
use std::net::SocketAddr;

pub struct Demo {
    /// The service URL registered for the demo (`<origin>/demo/`).
    service: String,
    /// Where to reach our own validation endpoint.
    server: SocketAddr,
}

impl Demo {
    pub fn new(config: &Config, server: SocketAddr) -> Demo {
        Demo {
            service: crate::demo::service_url(config),
            server,
        }
    }

    pub fn path(&self) -> &'static str {
        "/demo/"
    }

    pub async fn handle(&self, app: &App, req: &Request) -> Response {
        let Some(ticket) = req.query.get("ticket") else {
            let login = format!(
                "{}/login?service={}",
                app.config.base_url(),
                encode(&self.service)
            );
            return Response::redirect(&login);
        };
        let path = format!(
            "{}/p3/serviceValidate?service={}&ticket={}",
            app.prefix,
            encode(&self.service),
            encode(ticket)
        );
        let body = match self.get(&path).await {
            Ok(body) => body,
            Err(e) => {
                return Response::plain(
                    StatusCode::BAD_GATEWAY,
                    &format!("demo: validation request failed: {e}"),
                )
            }
        };
        let (user, attributes) = parse(&body);
        let markup = html! {
            (maud::DOCTYPE)
            html {
                head { meta charset="utf-8"; meta name="viewport" content="width=device-width, initial-scale=1";
                       title { "unicas demo application" }
                       link rel="stylesheet" href=(format!("{}/assets/unicas.css", app.prefix)); }
                body { div.main { div.card {
                    @match &user {
                        Some(user) => {
                            h1 { "Demo application: logged in as " (user) }
                            dl.attrs { @for (k, v) in &attributes { dt { (k) } dd { (v) } } }
                        }
                        None => { h1 { "Demo application: ticket refused" } pre { (body) } }
                    }
                    p { a.button href=(format!("{}/logout", app.prefix)) { "Log out" } }
                } } }
            }
        };
        Response::html(StatusCode::OK, markup)
    }

    async fn get(&self, path: &str) -> Result<String, String> {
        let stream = tokio::net::TcpStream::connect(self.server)
            .await
            .map_err(|e| e.to_string())?;
        let (mut sender, conn) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                .await
                .map_err(|e| e.to_string())?;
        tokio::spawn(conn);
        let req = hyper::Request::get(path)
            .header("host", "localhost")
            .body(Empty::<Bytes>::new())
            .map_err(|e| e.to_string())?;
        let res = sender.send_request(req).await.map_err(|e| e.to_string())?;
        let bytes = res
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes();
        String::from_utf8(bytes.to_vec()).map_err(|e| e.to_string())
    }
}

fn encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Reads `cas:user` and the children of `cas:attributes`, as a CAS client library would.
fn parse(xml: &str) -> (Option<String>, Vec<(String, String)>) {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(xml);
    let (mut user, mut attributes, mut path, mut text) =
        (None, Vec::new(), Vec::<String>::new(), String::new());
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => {
                path.push(String::from_utf8_lossy(e.local_name().as_ref()).into_owned());
                text.clear();
            }
            Ok(Event::Text(t)) => text.push_str(&t.decode().unwrap_or_default()),
            Ok(Event::GeneralRef(r)) => {
                let name = r.decode().unwrap_or_default();
                match r.resolve_char_ref() {
                    Ok(Some(c)) => text.push(c),
                    _ => text.push_str(
                        quick_xml::escape::resolve_predefined_entity(&name).unwrap_or(""),
                    ),
                }
            }
            Ok(Event::End(_)) => {
                match path.as_slice() {
                    [.., last] if last == "user" => user = Some(std::mem::take(&mut text)),
                    [.., parent, name] if parent == "attributes" => {
                        attributes.push((name.clone(), std::mem::take(&mut text)))
                    }
                    _ => {}
                }
                path.pop();
            }
            Ok(Event::Eof) | Err(_) => break,
            _ => {}
        }
    }
    (user, attributes)
}
