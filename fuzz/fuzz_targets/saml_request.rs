//! The SAML 1.1 request parser: any body is read or refused, never a panic, nesting bounded.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() > 64 * 1024 {
        return;
    }
    if let Ok(request) = unicas::cas::saml::parse_request(data) {
        assert!(!request.ticket.is_empty());
    }
});
