// natpilot: the only script of our own. No inline scripts anywhere (CSP: script-src 'self').
// Confirmation prompts for dangerous buttons: <button data-confirm="text">.
document.addEventListener("click", function (event) {
  var el = event.target.closest("[data-confirm]");
  if (el && !window.confirm(el.getAttribute("data-confirm"))) {
    event.preventDefault();
  }
});
