//! The console's accounts: the search, one account's page, and what an administrator does to
//! it (lock, unlock, reset, unbind, end its sessions).

use super::*;

/// `GET /admin/accounts?q=`: search by account, name, department, or a bound phone.
pub(in crate::routes) async fn admin_accounts(app: &App, req: &Request) -> Handled {
    let (_, grant) = match admin_page_gate(app, req).await? {
        Ok(g) => g,
        Err(res) => return Ok(res),
    };
    let q = req.query.get("q").unwrap_or("").trim().to_string();
    let found = match q.is_empty() {
        true => Vec::new(),
        false => {
            let query = q.clone();
            app.store
                .call(move |s| {
                    let mut found = Vec::new();
                    if let Some(phone) = crate::model::Phone::parse(&query) {
                        if let Some(id) = s.account_by_binding("phone", &phone.e164())? {
                            found.extend(s.account(&id)?);
                        }
                    }
                    for a in s.search_accounts(&query, 100)? {
                        if !found.iter().any(|f: &crate::model::Account| f.id == a.id) {
                            found.push(s.account(&a.id)?.unwrap_or(a));
                        }
                    }
                    Ok(found)
                })
                .await?
        }
    };
    let frame = AdminFrame {
        admin: &grant.account,
        csrf: &grant.csrf,
    };
    let chrome = app.chrome(req);
    Ok(app.page(
        req,
        StatusCode::OK,
        chrome.admin_accounts(&frame, &q, &found),
    ))
}

/// `GET /admin/account?id=`: one account.
pub(in crate::routes) async fn admin_account(app: &App, req: &Request) -> Handled {
    let (_, grant) = match admin_page_gate(app, req).await? {
        Ok(g) => g,
        Err(res) => return Ok(res),
    };
    let id = req.query.get("id").unwrap_or("").to_string();
    let done = req.query.get("done").map(str::to_string);
    account_page_for(app, req, &grant, &id, done.as_deref(), None).await
}

pub(super) async fn account_page_for(
    app: &App,
    req: &Request,
    grant: &AdminGrant,
    id: &str,
    done: Option<&str>,
    temporary: Option<String>,
) -> Handled {
    let id = id.to_string();
    let found = app
        .store
        .call(move |s| {
            let Some(account) = s.account(&id)? else {
                return Ok(None);
            };
            Ok(Some((
                account,
                s.bindings_of(&id)?,
                s.id_last4(&id)?,
                s.recent_logins(&id, 10)?,
                s.sessions_of(&id)?,
            )))
        })
        .await?;
    let Some((account, bindings, id_last4, logins, sessions)) = found else {
        return Err(Failure::Refused(StatusCode::NOT_FOUND));
    };
    let masked = |kind: &str, value: &str| match crate::otp::Recipient::parse(kind, value) {
        Some(r) => r.masked(),
        None => "••••".to_string(),
    };
    let view = AccountDetail {
        account: &account,
        bindings: bindings
            .iter()
            .filter(|(k, _)| k != "totp")
            .map(|(k, v)| (k.clone(), masked(k, v)))
            .collect(),
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
        done,
        temporary,
    };
    let frame = AdminFrame {
        admin: &grant.account,
        csrf: &grant.csrf,
    };
    let chrome = app.chrome(req);
    Ok(app.page(req, StatusCode::OK, chrome.admin_account(&frame, &view)))
}

/// `POST /admin/account`: `id` and `action` (lock, unlock, disable, reset, logout,
/// unbind-phone, unbind-email, unbind-wecom, unbind-wechat).
pub(in crate::routes) async fn admin_account_action(app: &App, req: &Request) -> Handled {
    let (_, grant) = match admin_form_gate(app, req).await? {
        Ok(g) => g,
        Err(res) => return Ok(res),
    };
    let id = req.form.get("id").unwrap_or("").to_string();
    let action = req.form.get("action").unwrap_or("").to_string();
    let now = app.clock.now();
    let target = id.clone();
    let mut temporary = None;
    // Nobody locks themselves out of the console by a slip: another administrator (or
    // the command line) can.
    if id == grant.account && matches!(action.as_str(), "lock" | "disable") {
        return Err(Failure::Refused(StatusCode::CONFLICT));
    }
    // Nor removes its own last second factor (docs/security.md M08).
    if id == grant.account && action == "unbind-phone" {
        let admin = id.clone();
        let totp = app.store.call(move |s| s.binding(&admin, "totp")).await?;
        if totp.is_none() {
            return Err(Failure::Refused(StatusCode::CONFLICT));
        }
    }
    let known = match action.as_str() {
        "lock" | "unlock" | "disable" => {
            let status = match action.as_str() {
                "lock" => Status::Locked,
                "disable" => Status::Disabled,
                _ => Status::Active,
            };
            app.store
                .call(move |s| s.set_status(&target, status, now))
                .await?
        }
        "reset" => {
            temporary = app
                .accounts
                .reset_password(&target, &app.client(req))
                .await?;
            temporary.is_some()
        }
        "logout" => app
            .store
            .call(move |s| s.delete_sessions_of(&target, None, None, now))
            .await?
            .is_some(),
        a if a.starts_with("unbind-") => {
            let kind: &'static str = match &a["unbind-".len()..] {
                "phone" => "phone",
                "email" => "email",
                "wecom" => "wecom",
                "wechat" => "wechat",
                _ => return Err(Failure::Refused(StatusCode::BAD_REQUEST)),
            };
            app.store
                .call(move |s| {
                    let record = crate::model::AuditRecord::system(
                        crate::model::AuditEvent::Unbound { kind },
                        Some(&target),
                    );
                    s.unbind(&target, kind, &record, now)
                })
                .await?
        }
        _ => return Err(Failure::Refused(StatusCode::BAD_REQUEST)),
    };
    if !known {
        return Err(Failure::Refused(StatusCode::NOT_FOUND));
    }
    app.sessions.forget_account(&id);
    admin_audit_row(app, req, &grant, &action, &id).await?;
    if temporary.is_some() {
        return account_page_for(app, req, &grant, &id, Some(&action), temporary).await;
    }
    let back = format!(
        "{}/admin/account?id={}&done={}",
        req.prefix,
        url::form_urlencoded::byte_serialize(id.as_bytes()).collect::<String>(),
        action
    );
    Ok(Response::see_other(&back))
}
