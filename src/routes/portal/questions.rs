//! Security questions (密保问题): setting one's questions and answers.

use super::*;

/// `GET /account/questions`.
pub(in crate::routes) async fn questions_get(app: &App, req: &Request) -> Handled {
    let Some(h) = holder(app, req).await? else {
        return Ok(to_login(req));
    };
    if !verified(app, &h).await? {
        return verify_page(app, req, &h, "questions", Shown::default(), StatusCode::OK).await;
    }
    questions_page(app, req, &h, None, StatusCode::OK).await
}

pub(super) async fn questions_page(
    app: &App,
    req: &Request,
    h: &Holder,
    error: Option<String>,
    status: StatusCode,
) -> Handled {
    let (tokens, new_flow) = form_tokens(app, req, 1);
    let view = QuestionsView {
        token: tokens[0].clone(),
        current: app.accounts.questions_of(&h.account.id).await?,
        error,
    };
    let chrome = app.chrome(req);
    Ok(portal_page(app, status, chrome.questions(&view), new_flow))
}

/// `POST /account/questions`: `question1`..`question3` (keys; empty: none) with
/// `answer1`..`answer3`.
pub(in crate::routes) async fn questions_post(app: &App, req: &Request) -> Handled {
    let Some(h) = holder(app, req).await? else {
        return Ok(to_login(req));
    };
    if !redeem_form(app, req).await? {
        return Err(Failure::Refused(StatusCode::FORBIDDEN));
    }
    if !verified(app, &h).await? {
        return verify_page(
            app,
            req,
            &h,
            "questions",
            Shown::default(),
            StatusCode::FORBIDDEN,
        )
        .await;
    }
    let f = &req.form;
    let chosen: Vec<(String, String)> = (1..=3)
        .filter_map(|n| {
            let q = f.get(&format!("question{n}")).unwrap_or("");
            let a = f.get(&format!("answer{n}")).unwrap_or("");
            (!q.is_empty()).then(|| (q.to_string(), a.to_string()))
        })
        .collect();
    let client = app.client(req);
    match app
        .accounts
        .set_questions(&h.account.id, &chosen, &client)
        .await?
    {
        Ok(()) => Ok(done(req, "questions")),
        Err(e) => {
            let t = app.chrome(req).t();
            let error = match e {
                QuestionsError::BadChoice => t.questions_bad_choice,
                QuestionsError::BadAnswer => t.questions_bad_answer,
            };
            questions_page(app, req, &h, Some(error.into()), StatusCode::BAD_REQUEST).await
        }
    }
}
