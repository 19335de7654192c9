// Submits the ticket form of a method=POST login; a separate file so the CSP can forbid
// inline script.
(function () {
  var form = document.getElementById("autosubmit");
  if (form) { form.submit(); }
})();
