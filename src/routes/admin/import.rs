//! The roster import started from the console: the upload, the job running in the
//! background, and its report.

use super::*;

/// A roster import started from the console.
#[derive(Default)]
pub(in crate::routes) struct ImportJob {
    total: usize,
    done: Arc<AtomicUsize>,
    report: Mutex<Option<String>>,
}

impl ImportJob {
    /// A job that is only a report (a preview, or a file that could not be read).
    fn finished(report: String) -> ImportJob {
        ImportJob {
            report: Mutex::new(Some(report)),
            ..ImportJob::default()
        }
    }

    fn running(&self) -> bool {
        self.report
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_none()
    }
}

/// `GET /admin/import`: the upload form, and the running import's progress.
pub(in crate::routes) async fn admin_import_page(app: &App, req: &Request) -> Handled {
    let (_, grant) = admin_page_gate(app, req).await?;
    let job = app
        .admin
        .import_job
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    let (report, running) = match &job {
        Some(job) => {
            let report = job.report.lock().unwrap_or_else(|p| p.into_inner()).clone();
            let running = report
                .is_none()
                .then(|| (job.done.load(Ordering::Relaxed), job.total));
            (report, running)
        }
        None => (None, None),
    };
    let frame = AdminFrame {
        admin: &grant.account,
        csrf: &grant.csrf,
    };
    let chrome = app.chrome(req);
    let res = app.page(
        StatusCode::OK,
        chrome.admin_import(&frame, report.as_deref(), running),
    );
    // While it runs, the page looks again every two seconds (no script needed).
    Ok(match running {
        Some(_) => res.header(hyper::header::REFRESH, "2"),
        None => res,
    })
}

/// `POST /admin/import` (multipart: `csrf`, `roster`, `disable_missing`, `action` =
/// `preview` or `run`).
pub(in crate::routes) async fn admin_import(app: &App, req: &Request) -> Handled {
    let content_type = req.header("content-type").unwrap_or("").to_string();
    let Some(parts) = crate::http::multipart::parse(&content_type, &req.body) else {
        return Err(Failure::Refused(StatusCode::BAD_REQUEST));
    };
    let field = |name: &str| parts.iter().find(|p| p.name == name).map(|p| p.data);
    let text = |name: &str| {
        field(name)
            .and_then(|d| std::str::from_utf8(d).ok())
            .unwrap_or("")
    };
    let grant = match admin_gate(app, req).await? {
        Gate::Refused(res) => return Ok(res),
        Gate::SecondFactor(_) => return Err(Failure::Refused(StatusCode::FORBIDDEN)),
        Gate::Granted(_, grant) => grant,
    };
    if !crate::secrets::constant_time_eq(text("csrf").as_bytes(), grant.csrf.as_bytes()) {
        return Err(Failure::Refused(StatusCode::FORBIDDEN));
    }
    let Some(file) = field("roster") else {
        return Err(Failure::Refused(StatusCode::BAD_REQUEST));
    };
    // The report in the console's language (Chinese unless English was chosen).
    let t = app.chrome(req).t();
    let zh = t.lang_attr.starts_with("zh");
    let crate::roster::Parsed {
        rows,
        errors,
        warnings,
    } = match crate::roster::parse(file) {
        Ok(parsed) => parsed,
        Err(e) => {
            let said = if zh { e.zh } else { e.en };
            replace_import(app, ImportJob::finished(said))?;
            return Ok(Response::see_other(&format!("{}/admin/import", req.prefix)));
        }
    };
    let ids: Vec<String> = rows.iter().map(|r| r.account.id.clone()).collect();
    let existing = app.accounts.existing(ids.clone()).await?;
    let new = rows
        .iter()
        .filter(|r| !existing.contains(&r.account.id))
        .count();
    let mut report = t
        .admin_import_readable
        .replace("{rows}", &rows.len().to_string())
        .replace("{new}", &new.to_string())
        .replace("{old}", &(rows.len() - new).to_string())
        .replace("{refused}", &errors.len().to_string());
    report.push('\n');
    for e in &errors {
        match zh {
            true => report.push_str(&e.in_chinese()),
            false => report.push_str(&e.to_string()),
        }
        report.push('\n');
    }
    for w in &warnings {
        report.push_str(t.admin_import_warning);
        match zh {
            true => report.push_str(&w.in_chinese()),
            false => report.push_str(&w.to_string()),
        }
        report.push('\n');
    }
    if text("action") != "run" {
        replace_import(app, ImportJob::finished(report))?;
        return Ok(Response::see_other(&format!("{}/admin/import", req.prefix)));
    }
    let job = replace_import(
        app,
        ImportJob {
            total: new,
            ..ImportJob::default()
        },
    )?;
    admin_audit_row(
        app,
        req,
        &grant,
        "import",
        &format!("{} row(s), {} refused", rows.len(), errors.len()),
    )
    .await?;
    let (store, cost, disable) = (
        app.store.clone(),
        app.config.passwords.bcrypt_cost,
        text("disable_missing") == "true",
    );
    let now = app.clock.now();
    // One core: the server keeps answering logins while the roster hashes.
    tokio::task::spawn_blocking(move || {
        let done = Arc::clone(&job.done);
        let result = crate::roster::hash_new(rows, &existing, cost, 1, &|| {
            done.fetch_add(1, Ordering::Relaxed);
        })
        .and_then(|accounts| {
            let listed = disable.then(|| ids.into_iter().collect());
            crate::roster::import(&store, &accounts, errors.len(), listed, now)
                .map_err(|e| e.to_string())
        });
        let text = match result {
            Ok(tally) => format!("{}\n{report}", imported(t, &tally)),
            Err(e) => format!("{}{e}\n{report}", t.admin_import_stopped),
        };
        *job.report.lock().unwrap_or_else(|p| p.into_inner()) = Some(text);
    });
    Ok(Response::see_other(&format!("{}/admin/import", req.prefix)))
}

/// What the import did, in the console's words.
fn imported(t: &crate::pages::Text, tally: &crate::roster::Tally) -> String {
    let mut line = t
        .admin_imported
        .replace("{added}", &tally.added.to_string())
        .replace("{updated}", &tally.updated.to_string())
        .replace("{unchanged}", &tally.unchanged.to_string())
        .replace("{refused}", &tally.refused.to_string());
    if tally.kept > 0 {
        line.push_str(
            &t.admin_imported_kept
                .replace("{n}", &tally.kept.to_string()),
        );
    }
    if let Some(n) = tally.disabled {
        line.push_str(&t.admin_imported_disabled.replace("{n}", &n.to_string()));
    }
    line
}

/// Makes `job` the console's import, unless one is still running (409: a second run, or
/// a preview, would hide its progress).
pub(super) fn replace_import(app: &App, job: ImportJob) -> Result<Arc<ImportJob>, Failure> {
    let mut current = app
        .admin
        .import_job
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    if current.as_ref().is_some_and(|j| j.running()) {
        return Err(Failure::Refused(StatusCode::CONFLICT));
    }
    let job = Arc::new(job);
    *current = Some(Arc::clone(&job));
    Ok(job)
}
