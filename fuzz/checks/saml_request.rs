//! The SAML 1.1 request parser (`unicas::cas::saml::parse_request`): any body is read or
//! refused, never a panic, nesting bounded; what it reads names a ticket. Input: the POST
//! body (bodies over 64 KiB are refused before parsing by the server, and skipped here).

pub fn check(data: &[u8]) {
    if data.len() > 64 * 1024 {
        return;
    }
    if let Ok(request) = unicas::cas::saml::parse_request(data) {
        assert!(!request.ticket.is_empty());
    }
}
