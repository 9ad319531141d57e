// The backup codes page: copy the codes (one a line) or print the page, to keep them somewhere safe.
(function () {
  "use strict";
  const list = document.getElementById("backup-codes");
  const copy = document.getElementById("backup-codes-copy");
  const print = document.getElementById("backup-codes-print");
  const script = document.getElementById("backup-codes-script");
  if (!list || !copy || !print) {
    return;
  }
  const codes = () => [...list.querySelectorAll("li")].map((item) => item.textContent.trim()).join("\n");

  copy.addEventListener("click", () => {
    const done = () => {
      copy.textContent = script.dataset.copied;
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(codes()).then(done);
      return;
    }
    // Plain HTTP (a local run): the clipboard API is not offered; select the codes instead.
    const range = document.createRange();
    range.selectNodeContents(list);
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    document.execCommand("copy");
    done();
  });
  print.addEventListener("click", () => window.print());
})();
