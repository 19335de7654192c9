//! The console's service registry: the list, one service's page, and saving it.

use super::*;

/// `GET /admin/services` (and `?test=URL`: which entry matches, and how the URL was
/// normalised).
pub(in crate::routes) async fn admin_services(app: &App, req: &Request) -> Handled {
    let (_, grant) = admin_page_gate(app, req).await?;
    let services = app.cas.registry().stored().await?;
    let test = req
        .query
        .get("test")
        .filter(|u| !u.is_empty())
        .map(|url| PatternTest {
            url: url.to_string(),
            normalized: crate::model::pattern::normalize(url),
            matched: app
                .cas
                .registered(url)
                .map(|s| (s.id, s.name().to_string(), s.settings.pattern.clone())),
        });
    let frame = AdminFrame {
        admin: &grant.account,
        csrf: &grant.csrf,
    };
    let chrome = app.chrome(req);
    Ok(app.page(
        StatusCode::OK,
        chrome.admin_services(&frame, &services, test.as_ref()),
    ))
}

/// `GET /admin/service?id=` (or `id=new`).
pub(in crate::routes) async fn admin_service(app: &App, req: &Request) -> Handled {
    let (_, grant) = admin_page_gate(app, req).await?;
    let id = req.query.get("id").unwrap_or("new");
    service_page(app, req, &grant, id.parse().ok(), None, StatusCode::OK).await
}

pub(super) async fn service_page(
    app: &App,
    req: &Request,
    grant: &AdminGrant,
    id: Option<i64>,
    error: Option<String>,
    status: StatusCode,
) -> Handled {
    let found = match id {
        Some(id) => match app.cas.registry().entry_history(id, 20).await? {
            Some(found) => Some(found),
            None => return Err(Failure::Refused(StatusCode::NOT_FOUND)),
        },
        None => None,
    };
    let (service, deliveries, mismatches) = match found {
        Some((s, d, m)) => (Some(s), d, m),
        None => (None, Vec::new(), Vec::new()),
    };
    let view = ServiceDetail {
        service: service.as_ref(),
        error,
        deliveries: deliveries
            .into_iter()
            .map(|r| {
                (
                    crate::routes::local_time(app, r.at),
                    format!("{}: {}", r.event, r.detail),
                )
            })
            .collect(),
        mismatches: mismatches
            .into_iter()
            .map(|(at, issued, presented)| (crate::routes::local_time(app, at), issued, presented))
            .collect(),
    };
    let frame = AdminFrame {
        admin: &grant.account,
        csrf: &grant.csrf,
    };
    let chrome = app.chrome(req);
    Ok(app.page(status, chrome.admin_service(&frame, &view)))
}

/// `POST /admin/service`: a new service (`id=new`) or a changed one.
pub(in crate::routes) async fn admin_service_save(app: &App, req: &Request) -> Handled {
    let (_, grant) = admin_form_gate(app, req).await?;
    let f = &req.form;
    let id: Option<i64> = f.get("id").and_then(|i| i.parse().ok());
    let text = |name: &str| f.get(name).unwrap_or("").trim().to_string();
    let optional = |name: &str| Some(text(name)).filter(|v| !v.is_empty());
    let mut rules = Vec::new();
    for line in text("rules")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
    {
        let parsed = match line.split_once(' ') {
            Some(("allow", rule)) => Rule::parse(crate::model::Effect::Allow, rule.trim()),
            Some(("deny", rule)) => Rule::parse(crate::model::Effect::Deny, rule.trim()),
            _ => Err(crate::model::InputError(format!(
                "{line:?}: start with allow or deny"
            ))),
        };
        match parsed {
            Ok(rule) => rules.push(rule),
            Err(e) => {
                return service_page(
                    app,
                    req,
                    &grant,
                    id,
                    Some(e.to_string()),
                    StatusCode::BAD_REQUEST,
                )
                .await
            }
        }
    }
    let attributes = text("attributes");
    let settings = NewService {
        name: text("name"),
        pattern: text("pattern"),
        release: Release::parse(&attributes),
        allow_proxy: f.flag("proxy"),
        proxy_callback: optional("proxy_callback"),
        logout_type: crate::model::LogoutType::parse(&text("logout_type")).unwrap_or_default(),
        logout_url: optional("logout_url"),
        portal_url: optional("portal_url"),
        portal_title: optional("title"),
        portal_description: optional("description"),
        rules,
        mfa: match text("mfa").as_str() {
            "required" => crate::model::Mfa::Required,
            _ => crate::model::Mfa::None,
        },
        ..NewService::default()
    };
    let settings = match id {
        // Settings the form does not show (aliases, any-host) stay as they were.
        Some(id) => match app.cas.registry().entry(id).await? {
            Some(current) => NewService {
                attribute_aliases: current.settings.attribute_aliases,
                allow_any_host: current.settings.allow_any_host,
                demo: current.settings.demo,
                ..settings
            },
            None => return Err(Failure::Refused(StatusCode::NOT_FOUND)),
        },
        None => settings,
    };
    if let Err(e) = settings.check() {
        return service_page(
            app,
            req,
            &grant,
            id,
            Some(e.to_string()),
            StatusCode::BAD_REQUEST,
        )
        .await;
    }
    let (enabled, now) = (f.flag("enabled"), app.clock.now());
    let saved = app.cas.registry().save(id, settings, enabled, now).await?;
    let Some(saved) = saved else {
        let t = app.chrome(req).t();
        return service_page(
            app,
            req,
            &grant,
            id,
            Some(t.admin_pattern_taken.into()),
            StatusCode::CONFLICT,
        )
        .await;
    };
    admin_audit_row(app, req, &grant, "service", &saved.to_string()).await?;
    Ok(Response::see_other(&format!(
        "{}/admin/service?id={saved}",
        req.prefix
    )))
}
