// The Z-report page: its Print button prints the 80 mm page (a file of its own: the CSP allows no inline script).
(() => {
  const button = document.getElementById("zreport-print");
  if (button) {
    button.addEventListener("click", () => window.print());
  }
})();
