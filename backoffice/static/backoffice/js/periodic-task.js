// The periodic task page: under the crontab choice, how the chosen schedule reads in words
// (django-celery-beat's helper, served as a file so the content security policy allows it).
(function () {
  "use strict";
  const data = document.getElementById("readable-crontabs");
  const select = document.getElementById("id_crontab");
  const helper = document.getElementById("periodic-task-helper");
  if (!data || !select || !helper) {
    return;
  }
  const readings = JSON.parse(data.textContent);
  const reading = document.createElement("p");
  reading.id = "crontab-reading";
  reading.className = "mt-2 text-xs text-font-subtle-light dark:text-font-subtle-dark";
  select.closest(".field-crontab, .form-row, div").appendChild(reading);

  function show() {
    const text = readings[select.value];
    reading.textContent = text ? `${helper.dataset.readsAs} ${text}` : "";
  }

  // The saved schedule's reading, which this line now shows live.
  for (const row of document.querySelectorAll(".field-crontab_translation")) {
    row.hidden = true;
  }
  select.addEventListener("change", show);
  show();
})();
