// Numbers in the dashboards' charts (tooltips and axes) written as everywhere else in the admin:
// 6 025 100, a no-break space between thousands and a decimal comma (catalog/formatting.py), in
// every interface language. Chart.js formats them with Intl for its default locale. Russian's is
// exactly that format and ships with every browser; Uzbek's would be too, but Chromium's built-in
// locale data leaves it out and falls back to 6,025,100. Unfold's app.js draws the charts after
// this file has run.
if (window.Chart) {
  window.Chart.defaults.locale = "ru-RU";

  // Unfold's value axis writes the raw number and the dataset's suffixYAxis ("60000000 so'm"):
  // the same label, with the thousands grouped.
  const grouped = new Intl.NumberFormat("ru-RU", { maximumFractionDigits: 2 });
  window.Chart.register({
    id: "dorixonaAxisNumbers",
    beforeInit(chart) {
      const ticks = chart.config.options?.scales?.y?.ticks;
      if (!ticks) {
        return;
      }
      ticks.callback = function (value) {
        const suffix = this.chart.data.datasets.find((dataset) => dataset.suffixYAxis)?.suffixYAxis;
        const text = typeof value === "number" ? grouped.format(value) : value;
        return suffix ? `${text} ${suffix}` : text;
      };
    },
  });
}
