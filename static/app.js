// natpilot: the only script of our own. No inline scripts anywhere (CSP: script-src 'self').
// Confirmation prompts for dangerous buttons: <button data-confirm="text">.
document.addEventListener("click", function (event) {
  var el = event.target.closest("[data-confirm]");
  if (el && !window.confirm(el.getAttribute("data-confirm"))) {
    event.preventDefault();
  }
});

// After single sign-on: the "Continue" link follows itself. A navigation started by our own
// page is same-site, so the browser sends the SameSite=Strict session cookie with it (it
// would not on a redirect chain that came from the identity provider's site).
document.addEventListener("DOMContentLoaded", function () {
  var link = document.querySelector("a[data-auto-follow]");
  if (link) {
    window.location.replace(link.getAttribute("href"));
  }
});
