// The countdowns: the SMS-code forms' resend wait ("58秒后重新获取"), counting down in
// place and re-enabling the send button at zero; and a link's ("返回(1)"), which stays. The
// wait is for the number the code went to: once the person types another number (a mistyped
// one corrected), the button is theirs again. ES5, for IE10; without it the page still works (the server answers an early resend
// with the seconds left).
(function () {
  var items = document.querySelectorAll ? document.querySelectorAll("[data-countdown]") : [];
  for (var i = 0; i < items.length; i++) {
    (function (el) {
      var n = parseInt(el.getAttribute("data-countdown"), 10);
      var template = el.getAttribute("data-template");
      var form = el.parentNode;
      while (form && form.tagName !== "FORM") { form = form.parentNode; }
      var button = form ? form.querySelector("[data-resend]") : null;
      var target = form ? form.querySelector("input[type=tel], input[type=email]") : null;
      var sentTo = target ? target.value : null;
      var timer = null;
      var release = function () {
        clearInterval(timer);
        el.style.display = "none";
        if (button) { button.disabled = false; }
      };
      if (button) { button.disabled = true; }
      if (target && target.addEventListener) {
        target.addEventListener("input", function () {
          if (target.value !== sentTo) { release(); }
        }, false);
      }
      timer = setInterval(function () {
        n -= 1;
        if (n <= 0) {
          // A link ("返回(1)") stays, for a browser that does not follow the page's refresh.
          if (el.tagName === "A") { clearInterval(timer); el.textContent = template.replace(/\s*\(\{n\}\)/, ""); return; }
          release();
          return;
        }
        el.textContent = template.replace("{n}", n);
      }, 1000);
    })(items[i]);
  }
})();
