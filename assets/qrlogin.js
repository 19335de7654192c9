// The QR-code tab of the login page: asks every two seconds whether a phone scanned or
// confirmed the code, says so, and on confirmation posts the form that logs this browser in.
// An expired code is replaced by reloading the page. ES5, for IE10; without it the person
// presses the button once they confirmed on the phone.
(function () {
  var status = document.getElementById("qrStatus");
  var form = document.getElementById("qrLoginForm");
  if (!status || !form || !window.XMLHttpRequest) { return; }
  var url = status.getAttribute("data-status");
  var timer = setInterval(function () {
    var xhr = new XMLHttpRequest();
    xhr.open("GET", url + "&ts=" + new Date().getTime(), true);
    xhr.onreadystatechange = function () {
      if (xhr.readyState !== 4 || xhr.status !== 200) { return; }
      var state = xhr.responseText.replace(/\s/g, "");
      if (state === "2") {
        status.textContent = status.getAttribute("data-scanned");
      } else if (state === "1") {
        clearInterval(timer);
        form.submit();
      } else if (state === "3") {
        clearInterval(timer);
        status.textContent = status.getAttribute("data-expired");
        window.location.reload();
      }
    };
    xhr.send(null);
  }, 2000);
})();
