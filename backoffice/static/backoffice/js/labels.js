// Unfold's narrow tables show each cell's column name from its data-label attribute; model field names are
// lower case ("yaroqlilik muddati"), and phone.css turns off the CSS that capitalised every word. Capitalise
// the first letter only, as Uzbek and Russian write a label, on the page and in what htmx swaps in.
(function () {
    function capitaliseLabels(root) {
        root.querySelectorAll("[data-label]").forEach(function (element) {
            var label = element.getAttribute("data-label");
            if (!label) return;
            var capitalised = label.charAt(0).toLocaleUpperCase() + label.slice(1);
            if (capitalised !== label) element.setAttribute("data-label", capitalised);
        });
    }
    document.addEventListener("DOMContentLoaded", function () { capitaliseLabels(document); });
    document.addEventListener("htmx:afterSwap", function (event) { capitaliseLabels(event.target); });
})();
