/* The till (orders/admin/till.py): scan, lines, payment, keyboard first.
 *
 * Money is counted in tiyin (integers) so that the totals shown are the server's to the tiyin: a line is
 * whole packs at the pack price and the loose parts at the part price (orders.rules.line_figures), VAT is
 * contained in the shelf price: total * rate / (100 + rate), rounded half up. The server checks both
 * again (PricesChanged) and takes the lots itself; what the till shows is what it expects.
 */
(function () {
  "use strict";

  const root = document.getElementById("till");
  if (!root) return;
  const config = JSON.parse(document.getElementById("till-config").textContent);
  const strings = document.getElementById("till-strings").dataset;
  const csrf = root.querySelector("input[name=csrfmiddlewaretoken]").value;

  const scan = document.getElementById("till-scan");
  const scanForm = document.getElementById("till-scan-form");
  const hitsList = document.getElementById("till-hits");
  const message = document.getElementById("till-message");
  const tbody = document.querySelector("#till-lines tbody");
  const empty = document.getElementById("till-empty");
  const totalEl = document.getElementById("till-total");
  const vatEl = document.getElementById("till-vat");
  const cash = document.getElementById("till-cash");
  const cashPartEl = document.getElementById("till-cash-part");
  const changeEl = document.getElementById("till-change");
  const cards = document.getElementById("till-cards");
  const cardTemplate = document.getElementById("till-card-template");
  const rxBox = document.getElementById("till-rx");
  const controlledBox = document.getElementById("till-controlled");
  const result = document.getElementById("till-result");
  const receiptLink = document.getElementById("till-receipt-link");

  const state = { lines: [], selected: -1, hits: [], hitIndex: -1, hitsQuery: "", busy: false, receiptUrl: "" };

  // --- money -----------------------------------------------------------------------------------
  function tiyin(text) {
    if (text === null || text === undefined) return 0;
    const cleaned = String(text).replace(/[\s\u00a0]/g, "").replace(",", ".");
    if (cleaned === "") return 0;
    const value = Number(cleaned);
    return Number.isFinite(value) ? Math.round(value * 100) : NaN;
  }
  function decimal(t) {
    const sign = t < 0 ? "-" : "";
    const abs = Math.abs(t);
    return sign + Math.floor(abs / 100) + "." + String(abs % 100).padStart(2, "0");
  }
  function som(t) {
    const abs = Math.abs(t);
    const whole = String(Math.floor(abs / 100)).replace(/\B(?=(\d{3})+(?!\d))/g, "\u00a0");
    const fraction = abs % 100 ? "," + String(abs % 100).padStart(2, "0") : "";
    return (t < 0 ? "-" : "") + whole + fraction + "\u00a0so'm";
  }
  function lineAmount(line) {
    const hit = line.hit;
    const pack = tiyin(hit.price);
    if (hit.parts_per_pack > 1) {
      return Math.floor(line.units / hit.parts_per_pack) * pack + (line.units % hit.parts_per_pack) * tiyin(hit.part_price);
    }
    return line.units * pack;
  }
  function lineVat(amount, rate) {
    const r = Number(rate);
    return r ? Math.round((amount * r) / (100 + r)) : 0;
  }
  function format(template, values) {
    return template.replace(/%\((\w+)\)s/g, (_, key) => values[key] ?? "");
  }

  // --- messages ------------------------------------------------------------------------------------
  function say(text, kind) {
    message.hidden = !text;
    message.textContent = text || "";
    message.dataset.kind = kind || "info";
  }

  // --- lines ---------------------------------------------------------------------------------------
  function step(line) {
    return line.mode === "pack" ? line.hit.parts_per_pack : 1;
  }
  function quantityText(line) {
    const hit = line.hit;
    if (hit.parts_per_pack <= 1) return String(line.units);
    const packs = Math.floor(line.units / hit.parts_per_pack);
    const parts = line.units % hit.parts_per_pack;
    const partName = hit.part_name || strings.part;
    if (line.mode === "part") return line.units + " " + partName;
    return packs + " " + strings.pack + (parts ? " + " + parts + " " + partName : "");
  }

  function totals() {
    let total = 0;
    let vat = 0;
    for (const line of state.lines) {
      const amount = lineAmount(line);
      total += amount;
      vat += lineVat(amount, line.hit.vat_rate);
    }
    return { total, vat };
  }

  function cardRows() {
    return Array.from(cards.querySelectorAll(".till-card")).map((row) => ({
      row,
      amount: tiyin(row.querySelector("[data-card=amount]").value),
      network: row.querySelector("[data-card=network]").value,
      reference: row.querySelector("[data-card=reference]").value.trim(),
    }));
  }

  function refreshPayment() {
    const { total } = totals();
    const cardTotal = cardRows().reduce((sum, card) => sum + (card.amount || 0), 0);
    const cashPart = total - cardTotal;
    cashPartEl.textContent = som(Math.max(cashPart, 0));
    const given = cash.value.trim() === "" ? cashPart : tiyin(cash.value);
    changeEl.textContent = Number.isFinite(given) && given >= cashPart ? som(given - cashPart) : "—";
    return { total, cardTotal, cashPart, given };
  }

  function render() {
    tbody.textContent = "";
    state.lines.forEach((line, index) => {
      const hit = line.hit;
      const tr = document.createElement("tr");
      tr.className = "till-line" + (index === state.selected ? " till-selected" : "");
      tr.dataset.medicineId = hit.medicine_id;
      const short = line.units > hit.stock;
      if (short) tr.classList.add("till-short");

      const name = document.createElement("td");
      const strong = document.createElement("strong");
      strong.textContent = hit.name;
      name.append(strong);
      const detail = document.createElement("div");
      detail.className = "till-muted";
      detail.textContent = [hit.form, hit.strength, hit.manufacturer].filter(Boolean).join(" · ");
      name.append(detail);
      for (const [flag, text, kind] of [
        [hit.is_prescription, strings.rx, "rx"],
        [hit.is_controlled, strings.controlled, "controlled"],
      ]) {
        if (!flag) continue;
        const badge = document.createElement("span");
        badge.className = "till-badge till-badge-" + kind;
        badge.textContent = text;
        name.append(" ", badge);
      }
      if (line.warning) {
        const warn = document.createElement("div");
        warn.className = "till-warning";
        warn.textContent = line.warning;
        name.append(warn);
      }

      const quantity = document.createElement("td");
      quantity.className = "till-num";
      const input = document.createElement("input");
      input.type = "number";
      input.min = "1";
      input.className = "till-input till-qty";
      input.value = String(line.units / step(line));
      input.dataset.index = index;
      input.setAttribute("aria-label", hit.name);
      quantity.append(input);
      if (hit.parts_per_pack > 1) {
        const unit = document.createElement("div");
        unit.className = "till-muted till-qty-text";
        unit.textContent = quantityText(line);
        quantity.append(unit);
      }

      const price = document.createElement("td");
      price.className = "till-num";
      price.textContent = line.mode === "part" ? som(tiyin(hit.part_price)) : som(tiyin(hit.price));

      const amount = document.createElement("td");
      amount.className = "till-num till-amount";
      amount.textContent = som(lineAmount(line));

      const lot = document.createElement("td");
      lot.textContent = hit.fefo_lot ? hit.fefo_lot.number + " · " + hit.fefo_lot.expiry_date.split("-").reverse().join(".") : strings.noLot;

      const stock = document.createElement("td");
      stock.className = "till-num";
      stock.textContent = hit.stock_text;

      const actions = document.createElement("td");
      const remove = document.createElement("button");
      remove.type = "button";
      remove.className = "till-link";
      remove.dataset.remove = index;
      remove.textContent = strings.remove;
      actions.append(remove);

      tr.append(name, quantity, price, amount, lot, stock, actions);
      tbody.append(tr);

      if (short && hit.alternatives && hit.alternatives.length) {
        const alt = document.createElement("tr");
        alt.className = "till-alternatives";
        const cell = document.createElement("td");
        cell.colSpan = 7;
        cell.append(strings.alternatives + ": ");
        hit.alternatives.forEach((option, i) => {
          const button = document.createElement("button");
          button.type = "button";
          button.className = "till-link";
          button.dataset.alternativeOf = index;
          button.dataset.alternative = i;
          button.textContent = option.name + " (" + som(tiyin(option.price)) + ", " + option.stock_text + ")";
          cell.append(button, " ");
        });
        alt.append(cell);
        tbody.append(alt);
      }
    });
    empty.hidden = state.lines.length > 0;
    const { total, vat } = totals();
    totalEl.textContent = som(total);
    totalEl.dataset.tiyin = String(total);
    vatEl.textContent = som(vat);
    rxBox.hidden = !state.lines.some((line) => line.hit.is_prescription || line.hit.is_controlled);
    controlledBox.hidden = !state.lines.some((line) => line.hit.is_controlled);
    refreshPayment();
  }

  function warningFor(hit) {
    const scanned = hit.scanned_lot;
    if (!scanned) return "";
    if (!scanned.sellable_here) return format(strings.lotBlocked, { scanned: scanned.number });
    if (!scanned.is_fefo && hit.fefo_lot) return format(strings.notFefo, { scanned: scanned.number, fefo: hit.fefo_lot.number });
    return "";
  }

  function add(hit) {
    if (!hit.is_active) {
      say(hit.name + ": " + strings.inactive, "danger");
      return;
    }
    let index = state.lines.findIndex((line) => line.hit.medicine_id === hit.medicine_id);
    if (index >= 0) {
      const line = state.lines[index];
      line.units += step(line);
      line.warning = warningFor(hit) || line.warning;
    } else {
      state.lines.push({ hit, units: hit.parts_per_pack > 1 ? hit.parts_per_pack : 1, mode: "pack", warning: warningFor(hit) });
      index = state.lines.length - 1;
    }
    state.selected = index;
    const line = state.lines[index];
    if (line.units > hit.stock) say(hit.name + ": " + strings.short, "warning");
    else if (line.warning) say(line.warning, "warning");
    else say("");
    result.hidden = true;
    render();
  }

  function changeQuantity(delta) {
    const line = state.lines[state.selected];
    if (!line) return;
    line.units = Math.max(step(line), line.units + delta * step(line));
    render();
  }

  function toggleMode() {
    const line = state.lines[state.selected];
    if (!line || line.hit.parts_per_pack <= 1) return;
    line.mode = line.mode === "pack" ? "part" : "pack";
    if (line.mode === "pack" && line.units % line.hit.parts_per_pack) {
      line.units = Math.ceil(line.units / line.hit.parts_per_pack) * line.hit.parts_per_pack;
    }
    render();
  }

  function removeSelected(index) {
    const at = index ?? state.selected;
    if (at < 0 || at >= state.lines.length) return;
    state.lines.splice(at, 1);
    state.selected = Math.min(at, state.lines.length - 1);
    render();
  }

  // --- search hits (a name typed: choose with the arrows) --------------------------------------------
  function showHits(hits, query) {
    state.hits = hits;
    state.hitIndex = hits.length ? 0 : -1;
    state.hitsQuery = query;
    hitsList.textContent = "";
    hits.forEach((hit, i) => {
      const li = document.createElement("li");
      li.className = "till-hit" + (i === state.hitIndex ? " till-selected" : "");
      li.dataset.index = i;
      li.textContent = hit.name + " — " + [hit.form, hit.strength].filter(Boolean).join(" · ") + " — " + som(tiyin(hit.price)) + " — " + hit.stock_text;
      hitsList.append(li);
    });
    hitsList.hidden = !hits.length;
  }
  function hideHits() {
    showHits([], "");
  }
  function moveHit(delta) {
    if (!state.hits.length) return false;
    state.hitIndex = (state.hitIndex + delta + state.hits.length) % state.hits.length;
    Array.from(hitsList.children).forEach((li, i) => li.classList.toggle("till-selected", i === state.hitIndex));
    return true;
  }

  async function lookup(query) {
    const response = await fetch(config.scanUrl + "?q=" + encodeURIComponent(query), {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    });
    const data = await response.json();
    if (!response.ok) throw data;
    return data;
  }

  async function onScan(event) {
    event.preventDefault();
    const query = scan.value.trim();
    if (!query) return;
    if (state.hits.length && query === state.hitsQuery && state.hitIndex >= 0) {
      add(state.hits[state.hitIndex]);
      hideHits();
      scan.value = "";
      return;
    }
    try {
      const data = await lookup(query);
      if (data.hits.length === 1) {
        add(data.hits[0]);
        hideHits();
        scan.value = "";
      } else if (!data.hits.length) {
        hideHits();
        say(strings.notFound + " «" + query + "»", "danger");
        scan.select();
      } else {
        showHits(data.hits, query);
      }
    } catch (error) {
      say(error && error.message ? error.message : strings.networkError, "danger");
    }
  }

  // --- completing the sale -------------------------------------------------------------------------
  function salePayload() {
    const payment = refreshPayment();
    if (!state.lines.length) throw new Error(strings.empty);
    if (payment.cashPart < 0) throw new Error(strings.cardOver);
    const payments = [];
    for (const card of cardRows()) {
      if (!card.amount) continue;
      payments.push({ method: "card", amount: decimal(card.amount), card_network: card.network, reference: card.reference });
    }
    if (payment.cashPart > 0) {
      if (!Number.isFinite(payment.given) || payment.given < payment.cashPart) throw new Error(strings.cashShort);
      payments.push({ method: "cash", amount: decimal(payment.cashPart), tendered: decimal(payment.given) });
    }
    const body = {
      lines: state.lines.map((line) => ({
        medicine_id: line.hit.medicine_id,
        quantity: line.units,
        expected_amount: decimal(lineAmount(line)),
      })),
      payments,
    };
    if (!rxBox.hidden) {
      body.prescription = {
        prescriber: document.getElementById("rx-prescriber").value,
        number: document.getElementById("rx-number").value,
        issued_on: document.getElementById("rx-issued").value,
        patient_name: document.getElementById("rx-patient").value,
        e_prescription_id: document.getElementById("rx-eid").value,
      };
    }
    if (!controlledBox.hidden) {
      const chosen = document.getElementById("controlled-by").value;
      body.confirmed_by = chosen ? Number(chosen) : null;
      body.confirm_password = document.getElementById("controlled-password").value;
    }
    return body;
  }

  function resetSale() {
    state.lines = [];
    state.selected = -1;
    cash.value = "";
    cards.textContent = "";
    for (const input of root.querySelectorAll("#till-rx input, #controlled-password")) input.value = "";
    render();
  }

  async function refreshPrices(changes) {
    for (const change of changes) {
      const line = state.lines.find((l) => l.hit.medicine_id === change.medicine_id);
      if (!line) continue;
      try {
        const data = await lookup(line.hit.barcode || line.hit.sku);
        const fresh = data.hits.find((hit) => hit.medicine_id === change.medicine_id);
        if (fresh) line.hit = fresh;
      } catch (error) {
        /* the message below already asks to check and retry */
      }
    }
    render();
  }

  async function complete() {
    if (state.busy) return;
    let body;
    try {
      body = salePayload();
    } catch (error) {
      say(error.message, "danger");
      (state.lines.length ? cash : scan).focus();
      return;
    }
    state.busy = true;
    root.dataset.state = "busy";
    try {
      const response = await fetch(config.completeUrl, {
        method: "POST",
        credentials: "same-origin",
        // X-Requested-With: django-axes answers a lockout (wrong confirming passwords) as JSON.
        headers: {
          "Content-Type": "application/json",
          Accept: "application/json",
          "X-CSRFToken": csrf,
          "X-Requested-With": "XMLHttpRequest",
        },
        body: JSON.stringify(body),
      });
      const data = await response.json();
      if (!response.ok) {
        root.dataset.state = "refused";
        root.dataset.code = data.code || (response.status === 429 ? "locked_out" : "");
        if (!data.code && response.status === 429) data.message = strings.lockedOut;
        if (data.code === "prices_changed" && data.changes) {
          await refreshPrices(data.changes);
          say(data.message + " " + strings.pricesUpdated, "danger");
        } else {
          if (data.code === "insufficient_stock" && data.lines) {
            for (const short of data.lines) {
              const line = state.lines.find((l) => l.hit.medicine_id === short.medicine_id);
              if (line) line.hit = Object.assign({}, line.hit, { stock: short.available });
            }
            render();
          }
          say(data.message, "danger");
        }
        (data.code && data.code.startsWith("payment") ? cash : scan).focus();
        return;
      }
      state.receiptUrl = data.receipt_url;
      receiptLink.href = data.receipt_url;
      document.getElementById("till-result-number").textContent = data.number;
      document.getElementById("till-result-total").textContent = som(tiyin(data.total));
      document.getElementById("till-result-change").textContent = som(tiyin(data.change));
      result.hidden = false;
      root.dataset.state = "completed";
      root.dataset.order = data.number;
      say("");
      resetSale();
      scan.focus();
    } catch (error) {
      root.dataset.state = "refused";
      say(strings.networkError, "danger");
    } finally {
      state.busy = false;
    }
  }

  function openReceipt() {
    if (state.receiptUrl) window.open(state.receiptUrl, "_blank", "noopener");
  }

  // --- keys ------------------------------------------------------------------------------------------
  scanForm.addEventListener("submit", onScan);

  scan.addEventListener("keydown", (event) => {
    const emptyBox = scan.value === "";
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      const delta = event.key === "ArrowDown" ? 1 : -1;
      if (!moveHit(delta) && state.lines.length) {
        state.selected = Math.max(0, Math.min(state.lines.length - 1, state.selected + delta));
        render();
      }
      event.preventDefault();
    } else if (emptyBox && (event.key === "+" || event.key === "-")) {
      changeQuantity(event.key === "+" ? 1 : -1);
      event.preventDefault();
    } else if (emptyBox && event.key === "*") {
      toggleMode();
      event.preventDefault();
    } else if (emptyBox && event.key === "Delete") {
      removeSelected();
      event.preventDefault();
    }
  });

  cash.addEventListener("input", refreshPayment);
  cash.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      event.preventDefault();
      complete();
    }
  });
  cards.addEventListener("input", refreshPayment);
  cards.addEventListener("click", (event) => {
    const button = event.target.closest("[data-card=remove]");
    if (button) {
      button.closest(".till-card").remove();
      refreshPayment();
    }
  });
  document.getElementById("till-add-card").addEventListener("click", () => {
    const row = cardTemplate.content.firstElementChild.cloneNode(true);
    cards.append(row);
    const { cashPart } = refreshPayment();
    row.querySelector("[data-card=amount]").value = cashPart > 0 ? decimal(cashPart) : "";
    refreshPayment();
    row.querySelector("[data-card=amount]").focus();
  });
  document.getElementById("till-pay").addEventListener("click", complete);

  tbody.addEventListener("change", (event) => {
    const input = event.target.closest(".till-qty");
    if (!input) return;
    const line = state.lines[Number(input.dataset.index)];
    const value = Math.max(1, Math.floor(Number(input.value) || 1));
    line.units = value * step(line);
    render();
  });
  tbody.addEventListener("keydown", (event) => {
    if (event.target.closest(".till-qty") && event.key === "Enter") {
      event.preventDefault();
      event.target.dispatchEvent(new Event("change", { bubbles: true }));
      scan.focus();
    }
  });
  tbody.addEventListener("click", (event) => {
    const remove = event.target.closest("[data-remove]");
    if (remove) {
      removeSelected(Number(remove.dataset.remove));
      scan.focus();
      return;
    }
    const alternative = event.target.closest("[data-alternative]");
    if (alternative) {
      const line = state.lines[Number(alternative.dataset.alternativeOf)];
      const option = line.hit.alternatives[Number(alternative.dataset.alternative)];
      lookup(option.barcode || option.sku)
        .then((data) => {
          const fresh = data.hits.find((hit) => hit.medicine_id === option.medicine_id);
          if (fresh) add(fresh);
        })
        .catch(() => say(strings.networkError, "danger"));
      scan.focus();
      return;
    }
    const row = event.target.closest(".till-line");
    if (row) {
      state.selected = Array.from(tbody.querySelectorAll(".till-line")).indexOf(row);
      render();
    }
  });
  hitsList.addEventListener("click", (event) => {
    const li = event.target.closest(".till-hit");
    if (!li) return;
    add(state.hits[Number(li.dataset.index)]);
    hideHits();
    scan.value = "";
    scan.focus();
  });

  document.addEventListener("keydown", (event) => {
    if (event.key === "F8") {
      event.preventDefault();
      cash.focus();
      cash.select();
    } else if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      complete();
    } else if (event.key === "F2") {
      event.preventDefault();
      const input = tbody.querySelector(".till-selected .till-qty");
      if (input) {
        input.focus();
        input.select();
      }
    } else if (event.key === "F9") {
      event.preventDefault();
      openReceipt();
    } else if (event.key === "Escape") {
      hideHits();
      scan.focus();
    }
  });

  render();
  scan.focus();
})();
