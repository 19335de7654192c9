// Passkeys (WebAuthn) for every form marked data-passkey="create" (register) or "get"
// (assert). The form carries the server's options as JSON in data-options (the
// {"publicKey": ...} that webauthn-rs gives, binaries in base64url) and a hidden field
// named "credential". Its submit (a button marked data-passkey-start) runs the ceremony,
// puts the authenticator's answer there as JSON (binaries in base64url) and posts the form.
// Elements marked data-passkey-unsupported are hidden and those marked data-passkey-start
// shown only where the browser has WebAuthn; a failure or a cancel shows data-failed's text
// in the element marked data-passkey-error. ES5 and no reserved words as property names,
// so an old browser loads it without a syntax error and simply keeps the "needs a current
// browser" notice.
(function () {
  if (!document.querySelectorAll) { return; }
  var supported = !!(window.PublicKeyCredential && navigator.credentials &&
    navigator.credentials.create && navigator.credentials.get &&
    window.Uint8Array && window.atob && window.btoa);

  function fromB64url(text) {
    var b64 = text.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) { b64 += "="; }
    var raw = window.atob(b64);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) { bytes[i] = raw.charCodeAt(i); }
    return bytes.buffer;
  }

  function toB64url(buffer) {
    if (!buffer) { return null; }
    var bytes = new Uint8Array(buffer);
    var raw = "";
    for (var i = 0; i < bytes.length; i++) { raw += String.fromCharCode(bytes[i]); }
    return window.btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function decodeList(list) {
    if (!list) { return; }
    for (var i = 0; i < list.length; i++) { list[i].id = fromB64url(list[i].id); }
  }

  // The options as navigator.credentials wants them: binaries as ArrayBuffers.
  function options(form, create) {
    var parsed = JSON.parse(form.getAttribute("data-options"));
    var key = parsed.publicKey;
    key.challenge = fromB64url(key.challenge);
    if (create) {
      key.user.id = fromB64url(key.user.id);
      decodeList(key.excludeCredentials);
    } else {
      decodeList(key.allowCredentials);
    }
    return { publicKey: key };
  }

  // The answer as the server reads it: binaries in base64url.
  function answer(credential, create) {
    var r = credential.response;
    var response = { clientDataJSON: toB64url(r.clientDataJSON) };
    if (create) {
      response.attestationObject = toB64url(r.attestationObject);
      if (r.getTransports) { response.transports = r.getTransports(); }
    } else {
      response.authenticatorData = toB64url(r.authenticatorData);
      response.signature = toB64url(r.signature);
      response.userHandle = toB64url(r.userHandle);
    }
    var extensions = {};
    if (credential.getClientExtensionResults) {
      try { extensions = credential.getClientExtensionResults(); } catch (e) { extensions = {}; }
    }
    return JSON.stringify({
      id: credential.id,
      rawId: toB64url(credential.rawId),
      type: credential.type,
      response: response,
      extensions: extensions
    });
  }

  function each(root, selector, act) {
    var found = root.querySelectorAll(selector);
    for (var i = 0; i < found.length; i++) { act(found[i]); }
  }

  function wire(form) {
    var create = form.getAttribute("data-passkey") === "create";
    var field = form.querySelector("input[name=credential]");
    var error = form.querySelector("[data-passkey-error]");
    var busy = false;
    if (!supported || !field) { return; }
    each(form, "[data-passkey-unsupported]", function (e) { e.setAttribute("hidden", ""); });
    each(form, "[data-passkey-start]", function (e) { e.removeAttribute("hidden"); });
    form.addEventListener("submit", function (event) {
      if (field.value) { return; }
      event.preventDefault();
      if (busy) { return; }
      busy = true;
      if (error) { error.setAttribute("hidden", ""); }
      var ask = create ? navigator.credentials.create(options(form, true))
        : navigator.credentials.get(options(form, false));
      ask.then(function (credential) {
        field.value = answer(credential, create);
        form.submit();
      }, function () {
        busy = false;
        if (error) {
          error.textContent = form.getAttribute("data-failed") || "";
          error.removeAttribute("hidden");
        }
      });
    });
  }

  each(document, "form[data-passkey]", wire);
})();
