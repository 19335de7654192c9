//! The console's accounts: the search, one account's page, and what an administrator does to
//! it (lock, unlock, reset, unbind, end its sessions).

use super::*;
use crate::accounts::admin::{AdminError, BindingKind, By};
use crate::pages::AccountList;
use crate::store::AccountFilter;

/// `GET /admin/accounts`: the account list, filtered (`q`: account, name, department or a
/// bound phone; `department`, `kind`, `status`, and `no_phone`, `initial_password`,
/// `never_logged_in` = `1`), 100 a page (`page`); `format=csv` exports every account the
/// filters keep (audited).
pub(in crate::routes) async fn admin_accounts(app: &App, req: &Request) -> Handled {
    let (_, grant) = admin_page_gate(app, req).await?;
    let q = |name: &str| req.query.get(name).unwrap_or("").trim().to_string();
    let on = |name: &str| req.query.get(name) == Some("1");
    let filter = AccountFilter {
        text: q("q"),
        department: q("department"),
        kind: Kind::parse(&q("kind")),
        status: Status::parse(&q("status")),
        no_phone: on("no_phone"),
        initial_password: on("initial_password"),
        never_logged_in: on("never_logged_in"),
        ..AccountFilter::default()
    };
    // The filters as the page's links repeat them.
    let query = {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        for name in ["q", "department", "kind", "status"] {
            if !q(name).is_empty() {
                query.append_pair(name, &q(name));
            }
        }
        for name in ["no_phone", "initial_password", "never_logged_in"] {
            if on(name) {
                query.append_pair(name, "1");
            }
        }
        query.finish()
    };
    if q("format") == "csv" {
        let rows = app.accounts.list_all(filter).await?;
        admin_audit_row(
            app,
            req,
            &grant,
            "accounts export",
            &format!("{} row(s)", rows.len()),
        )
        .await?;
        let csv = crate::accounts::admin::accounts_csv(&rows);
        return Ok(Response::new(
            StatusCode::OK,
            "text/csv; charset=UTF-8",
            format!("\u{feff}{csv}"),
        )
        .header(
            hyper::header::CONTENT_DISPOSITION,
            "attachment; filename=\"unicas-accounts.csv\"",
        )
        .header(hyper::header::CACHE_CONTROL, "no-store"));
    }
    let page = req
        .query
        .get("page")
        .and_then(|p| p.parse::<i64>().ok())
        .unwrap_or(1);
    let found = app.accounts.list(filter.clone(), page).await?;
    let last_logins: Vec<Option<String>> = found
        .accounts
        .iter()
        .map(|r| r.last_login.map(|at| crate::routes::local_time(app, at)))
        .collect();
    let frame = AdminFrame {
        admin: &grant.account,
        csrf: &grant.csrf,
    };
    let view = AccountList {
        filter: &filter,
        query: &query,
        page: &found,
        last_logins: &last_logins,
    };
    let chrome = app.chrome(req);
    Ok(app.page(StatusCode::OK, chrome.admin_accounts(&frame, &view)))
}

/// `GET /admin/account?id=`: one account.
pub(in crate::routes) async fn admin_account(app: &App, req: &Request) -> Handled {
    let (_, grant) = admin_page_gate(app, req).await?;
    let id = req.query.get("id").unwrap_or("").to_string();
    let done = req.query.get("done").map(str::to_string);
    account_page_for(app, req, &grant, &id, done.as_deref()).await
}

pub(super) async fn account_page_for(
    app: &App,
    req: &Request,
    grant: &AdminGrant,
    id: &str,
    done: Option<&str>,
) -> Handled {
    let Some(crate::accounts::console::Details {
        account,
        bindings,
        held,
        id_last4,
        logins,
        sessions,
    }) = app.accounts.details(id).await?
    else {
        return Err(Failure::Refused(StatusCode::NOT_FOUND));
    };
    let masked = |kind: &str, value: &str| match crate::otp::Recipient::parse(kind, value) {
        Some(r) => r.masked(),
        None => "••••".to_string(),
    };
    // A person's second factors are listed (and removable) with the bindings; an
    // administrator's authenticator is the command line's.
    let person = account.kind != crate::model::Kind::Admin;
    let mut listed: Vec<(String, String)> = bindings
        .iter()
        .filter(|(k, _)| person || k != "totp")
        .map(|(k, v)| match k.as_str() {
            "totp" => (k.clone(), "✓".to_string()),
            _ => (k.clone(), masked(k, v)),
        })
        .collect();
    if held.passkeys > 0 {
        let t = app.chrome(req).t();
        let count = t.passkeys_count.replace("{n}", &held.passkeys.to_string());
        listed.push(("webauthn".into(), count));
    }
    if held.recovery_made > 0 {
        let left = format!("{} / {}", held.recovery_left, held.recovery_made);
        listed.push(("recovery".into(), left));
    }
    let view = AccountDetail {
        account: &account,
        bindings: listed,
        id_last4,
        password_changed: crate::routes::local_time(app, account.password_changed_at),
        sign_ins: logins
            .into_iter()
            .map(|r| (crate::routes::local_time(app, r.at), r.client_ip, r.detail))
            .collect(),
        sessions: sessions
            .into_iter()
            .map(|s| {
                (
                    crate::routes::local_time(app, s.auth_time),
                    s.client_ip,
                    crate::pages::browser(&s.user_agent),
                )
            })
            .collect(),
        contact_phone: crate::model::Phone::parse(&account.phone).map(|p| p.masked()),
        done,
    };
    let frame = AdminFrame {
        admin: &grant.account,
        csrf: &grant.csrf,
    };
    let chrome = app.chrome(req);
    Ok(app.page(StatusCode::OK, chrome.admin_account(&frame, &view)))
}

/// The actions that ask first (a second page, 确认…？): those that cut someone off or
/// cannot be undone by a click. Locking and unlocking act at once.
fn asks_first(action: &str) -> bool {
    matches!(action, "disable" | "reset" | "logout") || action.starts_with("unbind-")
}

/// `POST /admin/account`: `id` and `action` (lock, unlock, disable, reset, logout,
/// unbind-phone, unbind-email, unbind-wecom, unbind-wechat, unbind-webauthn). Disable, reset, logout and
/// unbinding first answer a confirmation page whose form posts again with `confirm=yes`
/// (and the console's token): only that post acts. A reset answers the slip to print.
pub(in crate::routes) async fn admin_account_action(app: &App, req: &Request) -> Handled {
    let (_, grant) = admin_form_gate(app, req).await?;
    let id = req.form.get("id").unwrap_or("").to_string();
    let action = req.form.get("action").unwrap_or("").to_string();
    let unbinding = match action.strip_prefix("unbind-") {
        Some(kind) => match BindingKind::parse(kind) {
            // An administrator's authenticator is the command line's to remove.
            Some(BindingKind::Totp) if is_admin(app, &id).await? => {
                return Err(Failure::Refused(StatusCode::BAD_REQUEST))
            }
            Some(kind) => Some(kind),
            None => return Err(Failure::Refused(StatusCode::BAD_REQUEST)),
        },
        None => None,
    };
    if !matches!(
        action.as_str(),
        "lock" | "unlock" | "disable" | "reset" | "logout"
    ) && unbinding.is_none()
    {
        return Err(Failure::Refused(StatusCode::BAD_REQUEST));
    }
    if asks_first(&action) && req.form.get("confirm") != Some("yes") {
        let Some(account) = app.accounts.account(&id).await? else {
            return Err(Failure::Refused(StatusCode::NOT_FOUND));
        };
        let frame = AdminFrame {
            admin: &grant.account,
            csrf: &grant.csrf,
        };
        let chrome = app.chrome(req);
        let page = chrome.admin_confirm(&frame, &account, &action);
        return Ok(app.page(StatusCode::OK, page));
    }
    let by = By::Console {
        admin: grant.account.clone(),
        client: app.client(req),
    };
    let accounts = &app.accounts;
    let mut temporary = None;
    let done = match (action.as_str(), unbinding) {
        // Passkeys live in their own table; their holder is told.
        (_, Some(BindingKind::WebAuthn)) => app.passkeys.remove_all(by, &id).await,
        (_, Some(kind)) => accounts.unbind(by, &id, kind).await,
        ("lock", _) => accounts.set_status(by, &id, Status::Locked).await,
        ("disable", _) => accounts.set_status(by, &id, Status::Disabled).await,
        ("unlock", _) => accounts.set_status(by, &id, Status::Active).await,
        ("reset", _) => accounts
            .reset_password(by, &id)
            .await
            .map(|t| temporary = Some(t)),
        _ => accounts.end_sessions(&id).await.map(|_| ()),
    };
    // Refused for being one's own account: say so, with the way back.
    if let Err(own @ (AdminError::OwnAccount | AdminError::LastSecondFactor)) = &done {
        let chrome = app.chrome(req);
        let t = chrome.t();
        let body = match own {
            AdminError::OwnAccount => t.admin_own_account,
            _ => t.admin_own_last_factor,
        };
        let back = format!(
            "{}/admin/account?id={}",
            req.prefix,
            url::form_urlencoded::byte_serialize(id.as_bytes()).collect::<String>()
        );
        let page = chrome.message(
            t.admin_refused_title,
            body,
            &[(t.admin_back_to_account, back)],
        );
        return Ok(app.page(StatusCode::CONFLICT, page));
    }
    done?;
    admin_audit_row(app, req, &grant, &action, &id).await?;
    if unbinding.is_some_and(BindingKind::is_second_factor) {
        if let Some(account) = app.accounts.account(&id).await? {
            let notice = crate::otp::Notice::FactorRemoved;
            app.codes
                .notify_holder(&account, notice, &app.client(req))
                .await;
        }
    }
    if let Some(temporary) = temporary {
        return slip(app, req, &grant, &id, &temporary).await;
    }
    let back = format!(
        "{}/admin/account?id={}&done={}",
        req.prefix,
        url::form_urlencoded::byte_serialize(id.as_bytes()).collect::<String>(),
        action
    );
    Ok(Response::see_other(&back))
}

/// The slip the operator prints for the person at the counter: the school, the account, the
/// temporary password (shown this once, never stored or logged in clear) and what to do.
async fn slip(app: &App, req: &Request, grant: &AdminGrant, id: &str, temporary: &str) -> Handled {
    let Some(account) = app.accounts.account(id).await? else {
        return Err(Failure::Refused(StatusCode::NOT_FOUND));
    };
    let login = format!("{}/login", app.config.public_url.trim_end_matches('/'));
    let frame = AdminFrame {
        admin: &grant.account,
        csrf: &grant.csrf,
    };
    let chrome = app.chrome(req);
    let page = chrome.admin_slip(&frame, &account, temporary, &login);
    Ok(app.page(StatusCode::OK, page))
}

/// Whether `id` is an administrator's account.
async fn is_admin(app: &App, id: &str) -> Result<bool, Failure> {
    let account = app.accounts.account(id).await?;
    Ok(account.is_some_and(|a| a.kind == crate::model::Kind::Admin))
}
