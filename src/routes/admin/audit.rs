//! The console's audit log: the search, its lines, and the CSV export.

use super::*;

/// `GET /admin/audit`: filters `account`, `event`, `address`, `from`, `to` (dates,
/// `YYYY-MM-DD`); `format=csv` for the same rows as CSV.
pub(in crate::routes) async fn admin_audit(app: &App, req: &Request) -> Handled {
    let (_, grant) = admin_page_gate(app, req).await?;
    let q = |name: &str| req.query.get(name).unwrap_or("").trim().to_string();
    // A local date's first (or last) second.
    let day = |name: &str, end: bool| {
        let text = q(name);
        let mut parts = text.split('-').map(|p| p.parse::<i32>().ok());
        let (Some(Some(y)), Some(Some(m)), Some(Some(d))) =
            (parts.next(), parts.next(), parts.next())
        else {
            return 0;
        };
        let Ok(month) = time::Month::try_from(m as u8) else {
            return 0;
        };
        let Ok(date) = time::Date::from_calendar_date(y, month, d as u8) else {
            return 0;
        };
        let offset = i64::from(app.config.utc_offset_minutes) * 60;
        date.midnight().assume_utc().unix_timestamp() - offset + if end { 86_399 } else { 0 }
    };
    let filter = AuditFilter {
        account: q("account"),
        event: q("event"),
        address: q("address"),
        from: day("from", false),
        to: day("to", true),
    };
    let csv = q("format") == "csv";
    let limit = if csv { 100_000 } else { 500 };
    let rows = app.accounts.audit_search(filter.clone(), limit).await?;
    if csv {
        admin_audit_row(
            app,
            req,
            &grant,
            "audit export",
            &format!("{} row(s)", rows.len()),
        )
        .await?;
        // The machine names stay where scripts read them; the words come last.
        let chrome = app.chrome(req);
        let mut out = String::from(
            "time,event,account,address,detail,user_agent,repeats,last,event_words\r\n",
        );
        for r in &rows {
            let cells = [
                crate::clock::iso8601(r.at),
                r.event.clone(),
                r.account_id.clone().unwrap_or_default(),
                r.client_ip.clone(),
                r.detail.clone(),
                r.user_agent.clone(),
                r.repeats.to_string(),
                crate::clock::iso8601(r.last_at),
                chrome.event_words(&r.event).to_string(),
            ];
            let line: Vec<String> = cells.iter().map(|c| csv_cell(c)).collect();
            out.push_str(&line.join(","));
            out.push_str("\r\n");
        }
        return Ok(Response::new(
            StatusCode::OK,
            "text/csv; charset=UTF-8",
            format!("\u{feff}{out}"),
        )
        .header(
            hyper::header::CONTENT_DISPOSITION,
            "attachment; filename=\"unicas-audit.csv\"",
        )
        .header(hyper::header::CACHE_CONTROL, "no-store"));
    }
    let values = [q("account"), q("event"), q("address"), q("from"), q("to")];
    let filters: Vec<(&str, &str)> = ["account", "event", "address", "from", "to"]
        .into_iter()
        .zip(values.iter().map(String::as_str))
        .collect();
    let mut export = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in &filters {
        export.append_pair(k, v);
    }
    export.append_pair("format", "csv");
    let csv_link = format!("{}/admin/audit?{}", req.prefix, export.finish());
    let frame = AdminFrame {
        admin: &grant.account,
        csrf: &grant.csrf,
    };
    let chrome = app.chrome(req);
    let lines = audit_lines(app, rows);
    Ok(app.page(
        StatusCode::OK,
        chrome.admin_audit(&frame, &filters, &lines, &csv_link),
    ))
}

pub(super) fn audit_lines(app: &App, rows: Vec<crate::store::AuditRow>) -> Vec<AuditLine> {
    rows.into_iter()
        .map(|r| AuditLine {
            at: crate::routes::local_time(app, r.at),
            detail: r.described(),
            browser: crate::pages::browser(&r.user_agent),
            event: r.event,
            account: r.account_id.unwrap_or_default(),
            address: r.client_ip,
        })
        .collect()
}

/// A CSV cell (RFC 4180), with formulas defused for spreadsheets.
pub(super) fn csv_cell(value: &str) -> String {
    let value = match value.starts_with(['=', '+', '-', '@']) {
        true => format!("'{value}"),
        false => value.to_string(),
    };
    match value.contains([',', '"', '\n', '\r']) {
        true => format!("\"{}\"", value.replace('"', "\"\"")),
        false => value,
    }
}
