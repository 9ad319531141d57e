/* The receipt's print button (no inline script under the CSP); Enter on the focused button prints too. */
(function () {
  "use strict";
  const button = document.getElementById("receipt-print");
  if (!button) return;
  button.addEventListener("click", () => window.print());
  button.focus();
})();
