/* Reports page: retention insight and queue health for supervisors and admins.
 *
 * Sign-in: OAuth2 password flow (POST /api/auth/token), the bearer token kept in this tab's
 * sessionStorage. Data: GET /api/reports/retention and /api/reports/queue (JSON); each
 * table's CSV is fetched with the token and saved through a blob link. Charts are inline
 * SVG built here (no libraries, nothing from other hosts); text is only ever set as text.
 */
"use strict";

(() => {
  const {h, money} = UI;
  const $ = (id) => document.getElementById(id);
  const SVG_NS = "http://www.w3.org/2000/svg";
  const TOKEN_KEY = "reports.token";
  const USER_KEY = "reports.user";
  const C = {
    offer: "#1f5fbf", offerSoft: "#c3d6f3", compare: "#1d2433", good: "#1d7a46",
    weak: "#9aa3b2", bad: "#b3261e", target: "#8a5a00", grid: "#dfe3ea", ink: "#1d2433",
    soft: "#566074",
  };
  const DIMENSION_TITLES = {
    kind: ["By concession type", "What was offered"],
    band: ["By amount", "Total value of the concession"],
    reason: ["By complaint type", "Why the customer was unhappy"],
    channel: ["By channel", "Where the conversation took place"],
    offerer: ["Bot or agent", "Who made the offer"],
    response: ["Accepted or declined", "The customer's answer"],
  };

  const state = {
    token: sessionStorage.getItem(TOKEN_KEY),
    user: JSON.parse(sessionStorage.getItem(USER_KEY) || "null"),
    retention: null, queue: null, scope: "all",
  };

  // ---------------------------------------------------------------- formatting
  const pct = (v, digits = 1) => (v === null || v === undefined) ? "–" : `${(100 * v).toFixed(digits)}%`;
  const pts = (v) => (v === null || v === undefined) ? "–"
    : `${v > 0 ? "+" : v < 0 ? "−" : ""}${Math.abs(100 * v).toFixed(1)} pts`;
  const eur = (minor) => (minor === null || minor === undefined) ? "–" : money(minor, "EUR", "en");
  const eurRound = (minor) => (minor === null || minor === undefined) ? "–"
    : new Intl.NumberFormat("en-IE", {style: "currency", currency: "EUR", maximumFractionDigits: 0}).format(minor / 100);
  const count = (n) => (n === null || n === undefined) ? "–" : new Intl.NumberFormat("en-GB").format(n);
  function secs(v) {
    if (v === null || v === undefined) return "–";
    if (v < 90) return `${Math.round(v)} s`;
    return `${(v / 60).toFixed(1)} min`;
  }
  const ci = (low, high, f = pct) => (low === null || low === undefined) ? "" : `${f(low)} to ${f(high)}`;

  // ---------------------------------------------------------------- API
  class ApiError extends Error {
    constructor(status, body) {
      super(typeof body.detail === "string" ? body.detail : `request failed (${status})`);
      this.status = status;
    }
  }

  async function api(path, {method = "GET", form, raw = false} = {}) {
    const headers = {};
    if (state.token) headers.Authorization = `Bearer ${state.token}`;
    const body = form ? new URLSearchParams(form) : undefined;
    const response = await fetch(path, {method, headers, body});
    if (response.status === 401 && state.token) signOut("Your session has ended. Please sign in again.");
    if (!response.ok) throw new ApiError(response.status, await response.json().catch(() => ({})));
    return raw ? response : response.json();
  }

  function toast(text, kind = "info") {
    const el = h("div", {class: `toast ${kind}`}, text);
    $("toasts").append(el);
    setTimeout(() => el.remove(), 6000);
  }

  // ---------------------------------------------------------------- sign in / out
  $("login-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const username = $("username").value.trim(), password = $("password").value;
    $("login-error").textContent = "";
    if (!username || !password) {
      $("login-error").textContent = "Enter your username and password.";
      return;
    }
    $("login-button").disabled = true;
    try {
      const data = await api("/api/auth/token", {method: "POST", form: {username, password}});
      state.token = data.access_token;
      state.user = {username: data.username, role: data.role};
      sessionStorage.setItem(TOKEN_KEY, state.token);
      sessionStorage.setItem(USER_KEY, JSON.stringify(state.user));
      $("password").value = "";
      start();
    } catch (error) {
      $("login-error").textContent = error.status === 401 ? "Wrong username or password." : error.message;
      $("password").focus();
    } finally {
      $("login-button").disabled = false;
    }
  });

  $("logout").addEventListener("click", () => signOut(""));

  function signOut(message) {
    state.token = null;
    state.user = null;
    sessionStorage.removeItem(TOKEN_KEY);
    sessionStorage.removeItem(USER_KEY);
    $("app").hidden = true;
    $("login-view").hidden = false;
    $("login-error").textContent = message || "";
    $("username").focus();
  }

  function start() {
    $("login-view").hidden = true;
    $("app").hidden = false;
    $("me").textContent = `${state.user.username} (${state.user.role})`;
    document.body.dataset.role = state.user.role;
    const allowed = state.user.role === "supervisor" || state.user.role === "admin";
    $("forbidden").hidden = allowed;
    $("retention").hidden = !allowed;
    $("queue").hidden = !allowed;
    document.querySelector(".tabs").hidden = !allowed;
    if (allowed) {
      loadRetention();
      loadQueue();
    }
  }

  function forbidden() {
    $("forbidden").hidden = false;
    $("retention").hidden = true;
    $("queue").hidden = true;
  }

  // ---------------------------------------------------------------- CSV downloads
  async function download(path, filename, button) {
    button.disabled = true;
    try {
      const response = await api(path, {raw: true});
      const blob = await response.blob();
      const url = URL.createObjectURL(blob);
      const link = h("a", {href: url, download: filename, hidden: true});
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    } catch (error) {
      toast(error.message, "bad");
    } finally {
      button.disabled = false;
    }
  }

  function csvButton(path, filename, label) {
    const button = h("button", {type: "button", class: "btn secondary small", "data-csv": path,
                                "aria-label": `Download ${label} as CSV`}, "CSV");
    button.addEventListener("click", () => download(path, filename, button));
    return button;
  }

  // ---------------------------------------------------------------- SVG helpers
  function s(tag, attrs, ...children) {
    const el = document.createElementNS(SVG_NS, tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      el.setAttribute(key, String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      el.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return el;
  }

  const tip = (text) => s("title", {}, text);

  function chart(width, height, label, name) {
    return s("svg", {class: "chart", viewBox: `0 0 ${width} ${height}`, role: "img",
                     "aria-label": label, "data-chart": name, preserveAspectRatio: "xMinYMin meet"});
  }

  function legend(items) {
    return h("div", {class: "legend"}, items.map(([cls, text]) =>
      h("span", {}, h("i", {class: `swatch ${cls}`, "aria-hidden": "true"}), text)));
  }

  function niceStep(range, ticks = 5) {
    const raw = range / ticks;
    const power = Math.pow(10, Math.floor(Math.log10(raw)));
    const steps = [1, 2, 2.5, 5, 10].map((m) => m * power);
    return steps.find((step) => step >= raw) || raw;
  }

  function truncate(text, max) {
    return text.length > max ? `${text.slice(0, max - 1)}…` : text;
  }

  // Retention of each group (bar + 95% CI) with the comparison mark, and the difference.
  function retentionChart(rows, name, {difference = true, comparison = true} = {}) {
    const labelW = 130, barW = difference ? 230 : 400, gap = 36, diffW = 150;
    const rowH = 34, top = 34, bottom = 26;
    const width = labelW + barW + (difference ? gap + diffW : 0) + 44;
    const height = top + rows.length * rowH + bottom;
    const svg = chart(width, height, name, name);
    const x = (v) => labelW + v * barW;
    // grid and axis of the left panel
    for (const t of [0, 0.25, 0.5, 0.75, 1]) {
      svg.append(s("line", {class: "gridline", x1: x(t), x2: x(t), y1: top - 6, y2: height - bottom + 4}));
      svg.append(s("text", {class: "tick-label", x: x(t), y: height - 8, "text-anchor": "middle"}, `${t * 100}%`));
    }
    svg.append(s("text", {class: "axis-label", x: labelW, y: 14}, "Still a customer (95% interval)"));

    let dx = null;
    if (difference) {
      const lows = rows.map((r) => r.difference_low).filter((v) => v !== null);
      const highs = rows.map((r) => r.difference_high).filter((v) => v !== null);
      let lo = Math.min(-0.05, ...lows), hi = Math.max(0.2, ...highs);
      const step = niceStep(hi - lo, 4);
      lo = Math.floor(lo / step) * step;
      hi = Math.ceil(hi / step) * step;
      const left = labelW + barW + gap;
      dx = (v) => left + ((v - lo) / (hi - lo)) * diffW;
      for (let t = lo; t <= hi + 1e-9; t += step) {
        svg.append(s("line", {class: Math.abs(t) < 1e-9 ? "zero" : "gridline", x1: dx(t), x2: dx(t),
                              y1: top - 6, y2: height - bottom + 4}));
        svg.append(s("text", {class: "tick-label", x: dx(t), y: height - 8, "text-anchor": "middle"},
                     `${t > 1e-9 ? "+" : ""}${Math.round(t * 100)}`));
      }
      svg.append(s("text", {class: "axis-label", x: left, y: 14}, "Difference vs comparison (pts)"));
    }

    rows.forEach((row, i) => {
      const y = top + i * rowH;
      const mid = y + rowH / 2 - 4;
      const g = s("g", {class: "row", "data-key": row.key});
      g.append(s("text", {class: "group-label", x: labelW - 10, y: mid + 1, "text-anchor": "end"},
                 truncate(row.label, 19)));
      g.append(s("text", {class: "tick-label", x: labelW - 10, y: mid + 13, "text-anchor": "end"},
                 `n = ${count(row.offers ?? row.customers)}`));
      if (row.retention !== null && row.retention !== undefined) {
        const bar = s("rect", {class: "bar", x: labelW, y: mid - 8, width: Math.max(1, row.retention * barW),
                               height: 16, rx: 3, fill: C.offer, "data-value": row.retention.toFixed(4)},
                      tip(`${row.label}: ${pct(row.retention)} still a customer (95% interval ${ci(row.retention_low, row.retention_high)}), ${count(row.offers ?? row.customers)} customers`));
        g.append(bar);
        g.append(s("line", {x1: x(row.retention_low), x2: x(row.retention_high), y1: mid, y2: mid,
                            stroke: C.ink, "stroke-width": 1.5, class: "whisker"}));
        for (const end of [row.retention_low, row.retention_high]) {
          g.append(s("line", {x1: x(end), x2: x(end), y1: mid - 4, y2: mid + 4, stroke: C.ink, "stroke-width": 1.5}));
        }
        if (comparison && row.comparison !== null && row.comparison !== undefined) {
          g.append(s("rect", {class: "compare-mark", x: x(row.comparison) - 2, y: mid - 12, width: 4,
                              height: 24, fill: C.compare},
                     tip(`Comparison (offered nothing, same complaint types): ${pct(row.comparison)}`)));
        }
        g.append(s("text", {class: "value-label", x: x(Math.max(row.retention_high, row.comparison || 0)) + 6,
                            y: mid + 4}, pct(row.retention, 0)));
      }
      if (difference && row.difference !== null && row.difference !== undefined) {
        const color = row.difference_low > 0 ? C.good : row.difference_high < 0 ? C.bad : C.weak;
        g.append(s("line", {x1: dx(row.difference_low), x2: dx(row.difference_high), y1: mid, y2: mid,
                            stroke: color, "stroke-width": 3, "stroke-linecap": "round", class: "diff-ci"}));
        g.append(s("circle", {class: "diff-point", cx: dx(row.difference), cy: mid, r: 5, fill: color},
                   tip(`${row.label}: ${pts(row.difference)} vs comparison (95% interval ${ci(row.difference_low, row.difference_high, pts)})`)));
        g.append(s("text", {class: "value-label", x: dx(row.difference_high) + 6, y: mid + 4, fill: color},
                   pts(row.difference).replace(" pts", "")));
      }
      svg.append(g);
    });
    return svg;
  }

  // Cost per extra customer kept, with the range from the difference's interval.
  function costChart(rows, name) {
    const labelW = 130, barW = 340, rowH = 30, top = 26, bottom = 24;
    const usable = rows.filter((r) => r.cost_per_retained_minor !== null);
    const max = Math.max(1, ...usable.map((r) => r.cost_per_retained_high_minor ?? r.cost_per_retained_minor * 2));
    const step = niceStep(max / 100, 4) * 100;
    const top_ = Math.ceil(max / step) * step;
    const width = labelW + barW + 110, height = top + rows.length * rowH + bottom;
    const svg = chart(width, height, name, name);
    const x = (minor) => labelW + Math.min(1, minor / top_) * barW;
    for (let t = 0; t <= top_ + 1e-9; t += step) {
      svg.append(s("line", {class: "gridline", x1: x(t), x2: x(t), y1: top - 6, y2: height - bottom + 4}));
      svg.append(s("text", {class: "tick-label", x: x(t), y: height - 8, "text-anchor": "middle"}, eurRound(t)));
    }
    svg.append(s("text", {class: "axis-label", x: labelW, y: 14}, "Concession cost per extra customer kept"));
    rows.forEach((row, i) => {
      const mid = top + i * rowH + rowH / 2 - 4;
      const g = s("g", {class: "row", "data-key": row.key});
      g.append(s("text", {class: "group-label", x: labelW - 10, y: mid + 4, "text-anchor": "end"}, truncate(row.label, 22)));
      if (row.cost_per_retained_minor === null) {
        g.append(s("text", {class: "tick-label", x: labelW + 4, y: mid + 4}, "no measurable extra retention"));
      } else {
        g.append(s("rect", {class: "bar", x: labelW, y: mid - 8, width: Math.max(1, x(row.cost_per_retained_minor) - labelW),
                            height: 16, rx: 3, fill: C.good},
                   tip(`${row.label}: ${eur(row.cost_per_retained_minor)} per extra customer kept (${eur(row.cost_minor)} for ${row.extra_retained.toFixed(1)} extra customers)`)));
        const low = row.cost_per_retained_low_minor, high = row.cost_per_retained_high_minor;
        if (low !== null) {
          const end = high === null ? labelW + barW : x(high);
          g.append(s("line", {x1: x(low), x2: end, y1: mid, y2: mid, stroke: C.ink, "stroke-width": 1.5,
                              "stroke-dasharray": high === null ? "4 3" : null}));
          g.append(s("line", {x1: x(low), x2: x(low), y1: mid - 4, y2: mid + 4, stroke: C.ink, "stroke-width": 1.5}));
          if (high !== null) g.append(s("line", {x1: end, x2: end, y1: mid - 4, y2: mid + 4, stroke: C.ink, "stroke-width": 1.5}));
        }
        g.append(s("text", {class: "value-label", x: (high === null && low !== null ? labelW + barW : x(high ?? row.cost_per_retained_minor)) + 6,
                            y: mid + 4}, eurRound(row.cost_per_retained_minor)));
      }
      svg.append(g);
    });
    return svg;
  }

  // Monthly retention of offers (line with 95% band) against the comparison group.
  function trendChart(rows, name) {
    const left = 46, right = 20, top = 20, bottom = 40, plotW = 1120, plotH = 230;
    const width = left + plotW + right, height = top + plotH + bottom;
    const svg = chart(width, height, name, name);
    const known = rows.filter((r) => r.retention !== null);
    const values = known.flatMap((r) => [r.retention_low, r.retention_high, r.comparison_retention])
      .filter((v) => v !== null && v !== undefined);
    let lo = Math.max(0, Math.floor((Math.min(...values, 0.5) - 0.05) * 10) / 10);
    let hi = Math.min(1, Math.ceil((Math.max(...values, 0.8) + 0.02) * 10) / 10);
    const x = (i) => left + (rows.length <= 1 ? plotW / 2 : (i / (rows.length - 1)) * plotW);
    const y = (v) => top + (1 - (v - lo) / (hi - lo)) * plotH;
    for (let t = lo; t <= hi + 1e-9; t += 0.1) {
      svg.append(s("line", {class: "gridline", x1: left, x2: left + plotW, y1: y(t), y2: y(t)}));
      svg.append(s("text", {class: "tick-label", x: left - 6, y: y(t) + 4, "text-anchor": "end"}, `${Math.round(t * 100)}%`));
    }
    rows.forEach((row, i) => {
      if (rows.length > 12 && i % 2) return;
      const [year, month] = row.key.split("-");
      const label = new Date(Number(year), Number(month) - 1, 15).toLocaleDateString("en-GB", {month: "short", year: "2-digit"});
      svg.append(s("text", {class: "tick-label", x: x(i), y: top + plotH + 18, "text-anchor": "middle"}, label));
    });
    const firstPending = rows.findIndex((r, i) => r.retention === null && rows.slice(i).every((q) => q.retention === null));
    if (firstPending >= 0) {
      const x0 = x(Math.max(0, firstPending - 0.5));
      svg.append(s("rect", {x: x0, y: top, width: left + plotW - x0 + 8, height: plotH, fill: "#f3f5f8"}));
      svg.append(s("text", {class: "tick-label", x: (x0 + left + plotW) / 2, y: top + 16, "text-anchor": "middle"}, "outcome not known yet"));
    }
    // segments of consecutive known months
    const segments = [];
    let current = [];
    rows.forEach((row, i) => {
      if (row.retention === null) { if (current.length) segments.push(current); current = []; return; }
      current.push([i, row]);
    });
    if (current.length) segments.push(current);
    for (const seg of segments) {
      const upper = seg.map(([i, r]) => `${x(i)},${y(r.retention_high)}`);
      const lower = seg.slice().reverse().map(([i, r]) => `${x(i)},${y(r.retention_low)}`);
      svg.append(s("polygon", {points: upper.concat(lower).join(" "), fill: C.offerSoft, opacity: 0.7, class: "ci-band"}));
      svg.append(s("polyline", {points: seg.map(([i, r]) => `${x(i)},${y(r.retention)}`).join(" "),
                                fill: "none", stroke: C.offer, "stroke-width": 2.5, class: "line-offer"}));
      const comp = seg.filter(([, r]) => r.comparison_retention !== null);
      svg.append(s("polyline", {points: comp.map(([i, r]) => `${x(i)},${y(r.comparison_retention)}`).join(" "),
                                fill: "none", stroke: C.compare, "stroke-width": 2, "stroke-dasharray": "5 4",
                                class: "line-compare"}));
      for (const [i, r] of seg) {
        svg.append(s("circle", {cx: x(i), cy: y(r.retention), r: 3.5, fill: C.offer, class: "point"},
                     tip(`${r.key}: offered ${pct(r.retention)} (95% interval ${ci(r.retention_low, r.retention_high)}, n = ${r.offers}); offered nothing ${pct(r.comparison_retention)} (n = ${r.comparison_all})`)));
      }
    }
    return svg;
  }

  // ---------------------------------------------------------------- tables
  function table(id, headers, rows) {
    return h("div", {class: "table-wrap"}, h("table", {id},
      h("thead", {}, h("tr", {}, headers.map((text) => h("th", {scope: "col"}, text)))),
      h("tbody", {}, rows.map((cells) => h("tr", {}, cells.map((cell) =>
        cell instanceof Node ? cell : h("td", {}, cell)))))));
  }

  const withCi = (value, low, high, f = pct) => h("td", {}, f(value), " ",
    low === null || low === undefined ? "" : h("span", {class: "ci"}, `(${ci(low, high, f)})`));

  function diffCell(row) {
    const cls = row.difference_low > 0 ? "pos" : row.difference_high < 0 ? "neg" : "";
    return h("td", {class: cls}, pts(row.difference), " ",
      row.difference_low === null ? "" : h("span", {class: "ci"}, `(${ci(row.difference_low, row.difference_high, pts)})`));
  }

  function costText(row) {
    if (row.cost_per_retained_minor === null) return "–";
    const low = row.cost_per_retained_low_minor, high = row.cost_per_retained_high_minor;
    const range = low === null ? "" : high === null ? ` (${eurRound(low)} or more)` : ` (${eurRound(low)}–${eurRound(high)})`;
    return `${eurRound(row.cost_per_retained_minor)}${range}`;
  }

  function groupTable(id, rows, first) {
    return table(id, [first, "Offers", "Accepted", "Still a customer", "Offered nothing", "Difference", "Cost / extra kept"],
      rows.map((r) => [h("td", {}, r.label), count(r.offers), pct(r.acceptance, 0),
                       withCi(r.retention, r.retention_low, r.retention_high),
                       pct(r.comparison), diffCell(r), costText(r)]));
  }

  function card(title, lead, tools, ...body) {
    return h("article", {class: "card"},
      h("div", {class: "card-head"}, h("h3", {}, title), h("div", {class: "card-tools"}, tools)),
      lead ? h("p", {class: "lead"}, lead) : null, body.flat());
  }

  function kpi(label, value, note, cls = "") {
    return h("div", {class: `kpi ${cls}`}, h("div", {class: "kpi-label"}, label),
             h("div", {class: "kpi-value"}, value), note ? h("div", {class: "kpi-note"}, note) : null);
  }

  // ---------------------------------------------------------------- retention
  async function loadRetention() {
    const horizon = $("horizon").value, months = $("months").value;
    $("retention").dataset.state = "loading";
    try {
      state.retention = await api(`/api/reports/retention?horizon=${horizon}&months=${months}`);
      renderRetention();
      $("retention").dataset.state = "ready";
    } catch (error) {
      if (error.status === 403) return forbidden();
      if (error.status !== 401) toast(error.message, "bad");
      $("retention").dataset.state = "error";
    }
  }

  // The clearest gain: the highest lower end of the 95% interval (not a lucky small group).
  function bestBy(rows) {
    const usable = rows.filter((r) => r.difference_low !== null);
    return usable.length ? usable.reduce((a, b) => (b.difference_low > a.difference_low ? b : a)) : null;
  }

  function leadFor(dimension, rows) {
    const best = bestBy(rows);
    if (!best) return "Not enough outcomes yet.";
    const weak = rows.filter((r) => r.difference !== null && r.difference_low <= 0).map((r) => r.label);
    let text = best.difference_low > 0
      ? `Clearest gain: ${best.label}, ${pts(best.difference)} compared with customers offered nothing.`
      : "No group keeps clearly more customers than offering nothing.";
    if (weak.length) text += ` Not clearly better than nothing: ${weak.join(", ")}.`;
    if (dimension === "response") text += " Customers chose their answer, so this compares customers, not concessions.";
    return text;
  }

  function renderRetention() {
    const report = state.retention, overall = report.overall, totals = report.totals;
    const q = `horizon=${report.horizon_days}&months=${$("months").value}`;
    const days = report.horizon_days;
    $("retention-headline").textContent = overall.offers
      ? `Of ${count(overall.offers)} customers offered a concession, ${pct(overall.retention)} were still customers after ${days} days, `
        + `against ${pct(overall.comparison)} of similar customers offered nothing: ${pts(overall.difference)} `
        + `(95% interval ${ci(overall.difference_low, overall.difference_high, pts)}). `
        + (overall.cost_per_retained_minor !== null
          ? `Each extra customer kept cost about ${eurRound(overall.cost_per_retained_minor)} in concessions.`
          : "The concessions kept no measurable extra customers.")
      : `No offers with a known ${days}-day outcome in this period yet.`;
    const paid = totals.paid_on_time || {};
    $("retention-kpis").replaceChildren(
      kpi("Offers with an outcome", count(overall.offers), `${count(totals.pending)} still pending`),
      kpi("Still a customer, offered", pct(overall.retention), ci(overall.retention_low, overall.retention_high)),
      kpi("Still a customer, offered nothing", pct(overall.comparison), `${count(overall.comparison_customers)} customers, same complaints`),
      kpi("Extra retention", pts(overall.difference), ci(overall.difference_low, overall.difference_high, pts),
          overall.difference_low > 0 ? "good" : ""),
      kpi("Cost per extra customer kept", eurRound(overall.cost_per_retained_minor),
          overall.cost_minor ? `${eurRound(overall.cost_minor)} in accepted concessions` : ""),
      kpi("Paid on time afterwards", pct(paid.offered && paid.offered.share, 0),
          paid.not_offered ? `offered nothing: ${pct(paid.not_offered.share, 0)}` : ""));

    const cards = [];
    for (const dimension of ["kind", "offerer", "reason", "band", "channel", "response"]) {
      const rows = report.tables[dimension];
      const [title, first] = DIMENSION_TITLES[dimension];
      cards.push(card(title, leadFor(dimension, rows),
        csvButton(`/api/reports/retention/${dimension}.csv?${q}`, `retention-${dimension}-${days}d.csv`, title),
        rows.length ? [legend([["offer", "offered a concession"], ["compare", "offered nothing (comparison)"],
                               ["good", "clearly better"], ["weak", "not clearly different"]]),
                       retentionChart(rows, `retention-${dimension}`)] : h("p", {class: "empty"}, "No outcomes yet."),
        h("details", {class: "table-details"}, h("summary", {}, "Table"), groupTable(`table-${dimension}`, rows, first))));
    }
    const kinds = report.tables.kind;
    cards.push(card("What an extra customer kept costs",
      "Accepted concessions divided by the extra customers kept compared with offering nothing; the line shows the range from the 95% interval.",
      csvButton(`/api/reports/retention/kind.csv?${q}`, `retention-kind-${days}d.csv`, "cost per extra customer kept"),
      kinds.length ? costChart(kinds, "cost-per-retained") : h("p", {class: "empty"}, "No outcomes yet.")));
    const comparison = report.tables.comparison;
    cards.push(card("Customers offered nothing", "The comparison group: how many stayed without a concession, per complaint type.",
      csvButton(`/api/reports/retention/comparison.csv?${q}`, `retention-comparison-${days}d.csv`, "comparison group"),
      comparison.length ? retentionChart(comparison, "retention-comparison", {difference: false, comparison: false})
        : h("p", {class: "empty"}, "Nobody in the comparison group yet."),
      h("details", {class: "table-details"}, h("summary", {}, "Table"),
        table("table-comparison", ["Complaint type", "Customers", "Still a customer"],
              comparison.map((r) => [h("td", {}, r.label), count(r.customers), withCi(r.retention, r.retention_low, r.retention_high)])))));
    const monthly = report.tables.monthly;
    const trend = card("Trend by month of the offer",
      "Blue: offered a concession (band: 95% interval). Dashed: offered nothing. Recent months wait for their outcome.",
      csvButton(`/api/reports/retention/monthly.csv?${q}`, `retention-monthly-${days}d.csv`, "monthly trend"),
      monthly.length ? [legend([["offer", "offered a concession"], ["band", "95% interval"], ["compare", "offered nothing"]]),
                        trendChart(monthly, "retention-monthly")] : h("p", {class: "empty"}, "No offers yet."),
      h("details", {class: "table-details"}, h("summary", {}, "Table"),
        table("table-monthly", ["Month", "Offers", "Still a customer", "Offered nothing", "Difference", "Pending"],
              monthly.map((r) => [h("td", {}, r.key), count(r.offers), withCi(r.retention, r.retention_low, r.retention_high),
                                  pct(r.comparison_retention), diffCell(r), count(r.pending)]))));
    trend.classList.add("wide");
    cards.push(trend);
    $("retention-cards").replaceChildren(...cards);
  }

  $("horizon").addEventListener("change", loadRetention);
  $("months").addEventListener("change", loadRetention);
  $("followups").addEventListener("click", async () => {
    $("followups").disabled = true;
    try {
      const result = await api("/api/reports/retention/followups", {method: "POST"});
      toast(`Outcomes updated: ${result.activity} activity, ${result.payment} payment`, "ok");
      await loadRetention();
    } catch (error) {
      toast(error.message, "bad");
    } finally {
      $("followups").disabled = false;
    }
  });

  // ---------------------------------------------------------------- queue health
  function queueQuery() {
    const params = new URLSearchParams({days: $("days").value, target_seconds: $("target").value || "60",
                                        goal: String((Number($("goal").value) || 80) / 100)});
    if ($("handle").value) params.set("handle_seconds", $("handle").value);
    if ($("arrivals").value) params.set("arrivals_per_hour", $("arrivals").value);
    return params.toString();
  }

  async function loadQueue() {
    $("queue").dataset.state = "loading";
    try {
      state.queue = await api(`/api/reports/queue?${queueQuery()}`);
      renderQueue();
      $("queue").dataset.state = "ready";
    } catch (error) {
      if (error.status === 403) return forbidden();
      if (error.status !== 401) toast(error.message, "bad");
      $("queue").dataset.state = "error";
    }
  }

  function scopeBlock() {
    const report = state.queue;
    if (state.scope === "all") return report.overall;
    return report.languages.find((b) => b.language === state.scope) || report.overall;
  }

  function scopeSelect() {
    const select = h("select", {"aria-label": "Language", class: "scope-select"},
      h("option", {value: "all"}, "All languages"),
      state.queue.languages.map((b) => h("option", {value: b.language}, b.language.toUpperCase())));
    select.value = state.scope;
    select.addEventListener("change", () => { state.scope = select.value; renderQueue(); });
    return select;
  }

  function binLabel(b) {
    const short = (v) => v < 60 ? `${v}s` : `${v / 60}m`;
    if (b.from_seconds === 0) return `<${short(b.to_seconds)}`;
    if (b.to_seconds === null) return `${short(b.from_seconds)}+`;
    return b.from_seconds < 60 || b.to_seconds <= 60 ? `${b.from_seconds}–${b.to_seconds}s`
      : `${b.from_seconds / 60}–${b.to_seconds / 60}m`;
  }

  // Stacked bars per wait bin; a bar far above the others is cut (marked) so the rest stays readable.
  function histogramChart(block, target, name) {
    const bins = block.histogram;
    const left = 46, top = 18, plotW = 560, plotH = 190, bottom = 44;
    const width = left + plotW + 16, height = top + plotH + bottom;
    const svg = chart(width, height, name, name);
    const totals = bins.map((b) => b.answered + b.abandoned);
    const sorted = totals.slice().sort((a, b) => b - a);
    const cut = sorted[0] > 2.5 * Math.max(1, sorted[1]) ? sorted[1] * 1.35 : null;
    const max = Math.max(1, cut || sorted[0]);
    const step = niceStep(max, 4);
    const topValue = Math.ceil(max / step) * step;
    const y = (v) => top + plotH - (Math.min(v, topValue) / topValue) * plotH;
    const slot = plotW / bins.length, barW = slot * 0.72;
    for (let t = 0; t <= topValue + 1e-9; t += step) {
      svg.append(s("line", {class: "gridline", x1: left, x2: left + plotW, y1: y(t), y2: y(t)}));
      svg.append(s("text", {class: "tick-label", x: left - 6, y: y(t) + 4, "text-anchor": "end"}, count(t)));
    }
    const all = Math.max(1, totals.reduce((a, b) => a + b, 0));
    bins.forEach((b, i) => {
      const x0 = left + i * slot + (slot - barW) / 2;
      const total = b.answered + b.abandoned;
      const g = s("g", {class: "bin", "data-from": b.from_seconds, "data-count": total});
      const clipped = cut !== null && total > topValue;
      const answeredTop = clipped ? y(topValue * b.answered / total) : y(b.answered);
      g.append(s("rect", {class: "bar answered", x: x0, y: answeredTop, width: barW, height: y(0) - answeredTop, fill: C.offer},
                 tip(`${binLabel(b)}: ${count(b.answered)} answered`)));
      const totalTop = clipped ? top : y(total);
      g.append(s("rect", {class: "bar abandoned", x: x0, y: totalTop, width: barW, height: answeredTop - totalTop, fill: C.bad},
                 tip(`${binLabel(b)}: ${count(b.abandoned)} gave up`)));
      if (clipped) {  // the break: a white zigzag across the bar
        const by = top + 22;
        g.append(s("polyline", {points: `${x0 - 2},${by + 4} ${x0 + barW / 3},${by - 2} ${x0 + 2 * barW / 3},${by + 4} ${x0 + barW + 2},${by - 2}`,
                                fill: "none", stroke: "#fff", "stroke-width": 4, class: "axis-break"}));
      }
      g.append(s("text", {class: "tick-label", x: x0 + barW / 2, y: top + plotH + 16, "text-anchor": "middle"}, binLabel(b)));
      if (total) {
        g.append(s("text", {class: "value-label", x: x0 + barW / 2, y: (clipped ? top : y(total)) - 5, "text-anchor": "middle"},
                   `${count(total)}${clipped ? ` (${pct(total / all, 0)})` : ""}`));
      }
      svg.append(g);
    });
    // the target inside its bin, proportionally
    const index = bins.findIndex((b) => target >= b.from_seconds && (b.to_seconds === null || target < b.to_seconds));
    if (index >= 0) {
      const b = bins[index];
      const within = b.to_seconds === null ? 0 : (target - b.from_seconds) / (b.to_seconds - b.from_seconds);
      const tx = left + index * slot + (slot - barW) / 2 + within * barW;
      svg.append(s("line", {class: "target-line", x1: tx, x2: tx, y1: top - 4, y2: top + plotH, stroke: C.target,
                            "stroke-width": 2, "stroke-dasharray": "6 3"}));
      svg.append(s("text", {class: "value-label", x: tx + 4, y: top + 30, fill: C.target}, `target ${secs(target)}`));
    }
    svg.append(s("text", {class: "axis-label", x: left + plotW / 2, y: height - 4, "text-anchor": "middle"}, "Time in the queue"));
    return svg;
  }

  function languageChart(report, name) {
    const rows = [{label: "All", ...report.overall}].concat(report.languages.map((b) => ({label: b.language.toUpperCase(), ...b})));
    const labelW = 60, barW = 460, rowH = 46, top = 24, bottom = 24;
    const width = labelW + barW + 90, height = top + rows.length * rowH + bottom;
    const svg = chart(width, height, name, name);
    const x = (v) => labelW + v * barW;
    for (const t of [0, 0.25, 0.5, 0.75, 1]) {
      svg.append(s("line", {class: "gridline", x1: x(t), x2: x(t), y1: top - 6, y2: height - bottom + 4}));
      svg.append(s("text", {class: "tick-label", x: x(t), y: height - 8, "text-anchor": "middle"}, `${t * 100}%`));
    }
    rows.forEach((r, i) => {
      const y0 = top + i * rowH;
      const g = s("g", {class: "row", "data-key": r.language || "all"});
      g.append(s("text", {class: "group-label", x: labelW - 10, y: y0 + 18, "text-anchor": "end"}, r.label));
      const good = r.service_level !== null && r.service_level >= report.goal;
      g.append(s("rect", {class: "bar service-level", x: labelW, y: y0 + 4, width: Math.max(1, (r.service_level || 0) * barW), height: 16,
                          rx: 3, fill: good ? C.good : C.offer},
                 tip(`${r.label}: ${pct(r.service_level)} answered within ${secs(report.target_seconds)}`)));
      g.append(s("text", {class: "value-label", x: x(r.service_level || 0) + 6, y: y0 + 17}, `${pct(r.service_level, 0)} answered in time`));
      g.append(s("rect", {class: "bar abandon-rate", x: labelW, y: y0 + 23, width: Math.max(1, (r.abandon_rate || 0) * barW), height: 10,
                          rx: 2, fill: C.bad}, tip(`${r.label}: ${pct(r.abandon_rate)} gave up waiting`)));
      g.append(s("text", {class: "tick-label", x: x(r.abandon_rate || 0) + 6, y: y0 + 32}, `${pct(r.abandon_rate, 1)} gave up`));
      svg.append(g);
    });
    const gx = x(report.goal);
    svg.append(s("line", {class: "target-line", x1: gx, x2: gx, y1: top - 10, y2: height - bottom + 4, stroke: C.target,
                          "stroke-width": 2, "stroke-dasharray": "6 3"}));
    svg.append(s("text", {class: "value-label", x: gx + 4, y: 12, fill: C.target}, `goal ${pct(report.goal, 0)}`));
    return svg;
  }

  function hoursChart(block, name) {
    const hours = block.staffing.by_hour.filter((p) => p.arrivals_per_hour > 0);
    const left = 40, right = 50, top = 24, plotW = 1110, plotH = 190, bottom = 40;
    const width = left + plotW + right, height = top + plotH + bottom;
    const svg = chart(width, height, name, name);
    if (!hours.length) return svg;
    const maxAgents = Math.max(1, ...hours.map((p) => p.agents));
    const maxArrivals = Math.max(1, ...hours.map((p) => p.arrivals_per_hour));
    const ya = (v) => top + plotH - (v / maxAgents) * plotH;
    const yr = (v) => top + plotH - (v / (maxArrivals * 1.1)) * plotH;
    const slot = plotW / hours.length, barW = slot * 0.62;
    for (let t = 0; t <= maxAgents; t += Math.max(1, Math.round(maxAgents / 4))) {
      svg.append(s("line", {class: "gridline", x1: left, x2: left + plotW, y1: ya(t), y2: ya(t)}));
      svg.append(s("text", {class: "tick-label", x: left - 6, y: ya(t) + 4, "text-anchor": "end"}, t));
    }
    svg.append(s("text", {class: "axis-label", x: left - 30, y: 12}, "agents"));
    svg.append(s("text", {class: "axis-label", x: left + plotW + right, y: 12, "text-anchor": "end"}, "contacts/hour"));
    const points = [];
    hours.forEach((p, i) => {
      const cx = left + i * slot + slot / 2;
      const g = s("g", {class: "hour", "data-hour": p.hour});
      g.append(s("rect", {class: "bar agents", x: cx - barW / 2, y: ya(p.agents), width: barW, height: ya(0) - ya(p.agents),
                          rx: 2, fill: C.offer},
                 tip(`${String(p.hour).padStart(2, "0")}:00 UTC: ${p.arrivals_per_hour.toFixed(1)} contacts an hour, ${p.agents} agents needed`)));
      g.append(s("text", {class: "value-label", x: cx, y: ya(p.agents) - 4, "text-anchor": "middle"}, p.agents));
      g.append(s("text", {class: "tick-label", x: cx, y: top + plotH + 16, "text-anchor": "middle"}, `${String(p.hour).padStart(2, "0")}`));
      points.push(`${cx},${yr(p.arrivals_per_hour)}`);
      svg.append(g);
    });
    svg.append(s("polyline", {points: points.join(" "), fill: "none", stroke: C.target, "stroke-width": 2, class: "line-arrivals"}));
    hours.forEach((p, i) => {
      svg.append(s("circle", {cx: left + i * slot + slot / 2, cy: yr(p.arrivals_per_hour), r: 3, fill: C.target}));
    });
    const rStep = niceStep(maxArrivals * 1.1, 4);
    for (let t = 0; t <= maxArrivals * 1.1 + 1e-9; t += rStep) {
      svg.append(s("text", {class: "tick-label", x: left + plotW + 8, y: yr(t) + 4}, Number(t.toFixed(1))));
    }
    svg.append(s("text", {class: "axis-label", x: left + plotW / 2, y: height - 4, "text-anchor": "middle"}, "Hour of the day (UTC)"));
    return svg;
  }

  // Average handle time (bar) and the time 90% of conversations stay under (light bar), per language.
  function handleChart(report, name) {
    const rows = [{label: "All", ...report.overall}].concat(report.languages.map((b) => ({label: b.language.toUpperCase(), ...b})));
    const labelW = 60, barW = 420, rowH = 44, top = 24, bottom = 24;
    const width = labelW + barW + 120, height = top + rows.length * rowH + bottom;
    const svg = chart(width, height, name, name);
    const max = Math.max(60, ...rows.map((r) => r.p90_handle_seconds || 0));
    const step = niceStep(max / 60, 4) * 60;
    const topValue = Math.ceil(max / step) * step;
    const x = (v) => labelW + (v / topValue) * barW;
    for (let t = 0; t <= topValue + 1e-9; t += step) {
      svg.append(s("line", {class: "gridline", x1: x(t), x2: x(t), y1: top - 6, y2: height - bottom + 4}));
      svg.append(s("text", {class: "tick-label", x: x(t), y: height - 8, "text-anchor": "middle"}, `${Math.round(t / 60)} min`));
    }
    rows.forEach((r, i) => {
      const y0 = top + i * rowH;
      const g = s("g", {class: "row", "data-key": r.language || "all"});
      g.append(s("text", {class: "group-label", x: labelW - 10, y: y0 + 18, "text-anchor": "end"}, r.label));
      g.append(s("rect", {class: "bar p90", x: labelW, y: y0 + 4, width: Math.max(1, x(r.p90_handle_seconds || 0) - labelW), height: 20,
                          rx: 3, fill: C.offerSoft}, tip(`${r.label}: 90% of conversations took at most ${secs(r.p90_handle_seconds)}`)));
      g.append(s("rect", {class: "bar average", x: labelW, y: y0 + 8, width: Math.max(1, x(r.average_handle_seconds || 0) - labelW), height: 12,
                          rx: 2, fill: C.offer}, tip(`${r.label}: ${secs(r.average_handle_seconds)} on average`)));
      g.append(s("text", {class: "value-label", x: x(r.p90_handle_seconds || 0) + 6, y: y0 + 18},
                 `${secs(r.average_handle_seconds)} avg · 90% < ${secs(r.p90_handle_seconds)}`));
      svg.append(g);
    });
    return svg;
  }

  function curveChart(staffing, name) {
    const curve = staffing.curve;
    const left = 46, top = 20, plotW = 420, plotH = 160, bottom = 40;
    const width = left + plotW + 30, height = top + plotH + bottom;
    const svg = chart(width, height, name, name);
    if (!curve.length) return svg;
    const y = (v) => top + plotH - v * plotH;
    for (const t of [0, 0.25, 0.5, 0.75, 1]) {
      svg.append(s("line", {class: "gridline", x1: left, x2: left + plotW, y1: y(t), y2: y(t)}));
      svg.append(s("text", {class: "tick-label", x: left - 6, y: y(t) + 4, "text-anchor": "end"}, `${t * 100}%`));
    }
    const slot = plotW / curve.length, barW = slot * 0.6;
    curve.forEach((c, i) => {
      const cx = left + i * slot + slot / 2;
      const chosen = c.agents === staffing.agents;
      svg.append(s("rect", {class: `bar${chosen ? " chosen" : ""}`, x: cx - barW / 2, y: y(c.service_level), width: barW,
                            height: y(0) - y(c.service_level), rx: 2,
                            fill: chosen ? C.good : c.service_level >= staffing.goal ? C.offerSoft : C.weak, "data-agents": c.agents},
                 tip(`${c.agents} agents: ${pct(c.service_level)} answered within ${secs(staffing.target_seconds)}, agents busy ${pct(c.occupancy, 0)} of the time`)));
      svg.append(s("text", {class: "value-label", x: cx, y: y(c.service_level) - 4, "text-anchor": "middle"}, pct(c.service_level, 0)));
      svg.append(s("text", {class: "tick-label", x: cx, y: top + plotH + 16, "text-anchor": "middle"}, c.agents));
    });
    const gy = y(staffing.goal);
    svg.append(s("line", {class: "target-line", x1: left, x2: left + plotW, y1: gy, y2: gy, stroke: C.target,
                          "stroke-width": 2, "stroke-dasharray": "6 3"}));
    svg.append(s("text", {class: "value-label", x: left + plotW + 4, y: gy + 4, fill: C.target}, "goal"));
    svg.append(s("text", {class: "axis-label", x: left + plotW / 2, y: height - 4, "text-anchor": "middle"}, "Agents at the same time"));
    return svg;
  }

  function staffingSentence(staffing, label, target) {
    if (!staffing.agents) return `${label}: no contacts, no agents needed.`;
    return `${label}: ${staffing.arrivals_per_hour.toFixed(1)} contacts an hour × ${secs(staffing.handle_seconds)} each `
      + `= ${staffing.traffic_erlangs.toFixed(2)} agents busy on average. ${staffing.agents} agents answer `
      + `${pct(staffing.service_level, 0)} within ${secs(target)} (average wait ${secs(staffing.average_speed_of_answer_seconds)}, `
      + `agents busy ${pct(staffing.occupancy, 0)} of the time).`;
  }

  function renderQueue() {
    const report = state.queue, o = report.overall, target = report.target_seconds;
    const peakNeeds = report.languages.map((b) => `${b.language.toUpperCase()} ${b.staffing.peak.agents}`).join(", ");
    $("queue-headline").textContent = o.contacts
      ? `In the last ${report.days} days ${pct(o.service_level, 0)} of ${count(o.contacts)} customers were answered within `
        + `${secs(target)} (goal ${pct(report.goal, 0)}); ${pct(o.abandon_rate)} gave up waiting. `
        + (peakNeeds ? `Agents needed at the busiest hour to reach the goal: ${peakNeeds}.` : "")
      : `Nobody was handed to an agent in the last ${report.days} days.`;
    const good = o.service_level !== null && o.service_level >= report.goal;
    $("queue-kpis").replaceChildren(
      kpi("Contacts", count(o.contacts), `${count(report.waiting_now)} waiting now`),
      kpi(`Answered within ${secs(target)}`, pct(o.service_level, 0), `goal ${pct(report.goal, 0)}`, good ? "good" : "bad"),
      kpi("Gave up waiting", pct(o.abandon_rate), `${count(o.abandoned)} customers`, o.abandon_rate > 0.1 ? "bad" : ""),
      kpi("Average wait", secs(o.average_wait_seconds), `90% within ${secs(o.p90_wait_seconds)}`),
      kpi("Handle time", secs(o.average_handle_seconds), `median ${secs(o.median_handle_seconds)}`),
      kpi("Agents needed, busiest hour", report.languages.length ? String(report.languages.reduce((n, b) => n + b.staffing.peak.agents, 0)) : "–",
          peakNeeds ? `per language: ${peakNeeds}` : ""));

    const block = scopeBlock();
    const q = queueQuery();
    const scopeName = state.scope === "all" ? "all languages" : state.scope.toUpperCase();
    const cards = [];
    cards.push(card("Waiting time", `How long customers waited before an agent answered (blue) or they gave up (red), ${scopeName}.`,
      [scopeSelect(), csvButton(`/api/reports/queue/histogram.csv?${q}`, `queue-histogram-${report.days}d.csv`, "waiting time")],
      legend([["answered", "answered"], ["abandoned", "gave up"], ["target", "target"]]),
      histogramChart(block, target, "queue-histogram")));
    cards.push(card("Service level and abandon rate by language",
      `Share answered within ${secs(target)} (green when the goal is met) and share who gave up.`,
      csvButton(`/api/reports/queue/languages.csv?${q}`, `queue-languages-${report.days}d.csv`, "languages"),
      languageChart(report, "queue-languages"),
      h("details", {class: "table-details"}, h("summary", {}, "Table"),
        table("table-languages", ["Language", "Contacts", "Answered in time", "Gave up", "Avg wait", "90% wait", "Avg handle", "Agents (peak)"],
          [["All", o]].concat(report.languages.map((b) => [b.language.toUpperCase(), b])).map(([label, b]) =>
            [h("td", {}, label), count(b.contacts), pct(b.service_level), pct(b.abandon_rate), secs(b.average_wait_seconds),
             secs(b.p90_wait_seconds), secs(b.average_handle_seconds), String(b.staffing.peak.agents)])))));
    cards.push(card("Handle time", "From the agent claiming the conversation to closing it or handing it back to the bot.",
      null, legend([["answered", "average"], ["band", "90% of conversations take less"]]), handleChart(report, "queue-handle")));
    const staffing = block.staffing;
    const hours = card(`Agents needed by hour of the day (${scopeName})`,
      `Bars: agents to answer ${pct(report.goal, 0)} within ${secs(target)} (Erlang C). Line: contacts per hour on an average day.`
      + (state.scope === "all" && report.languages.length > 1 ? " All languages pooled, as if every agent spoke every language; per language needs a few more." : ""),
      [scopeSelect(), csvButton(`/api/reports/queue/hours.csv?${q}`, `queue-hours-${report.days}d.csv`, "agents by hour")],
      hoursChart(block, "queue-hours"));
    hours.classList.add("wide");
    const shown = staffing.chosen || staffing.peak;
    const which = staffing.chosen ? "Your inputs" : `Busiest hour (${String(staffing.peak_hour).padStart(2, "0")}:00 UTC)`;
    cards.push(card(`Staffing for ${scopeName}: ${staffing.chosen ? "your inputs" : "the busiest hour"}`,
      staffingSentence(shown, which, target), scopeSelect(),
      curveChart(shown, "queue-staffing"),
      h("p", {class: "lead", id: "staffing-average"}, staffingSentence(staffing.average, "An average open hour", target))));
    cards.push(hours);
    $("queue-cards").replaceChildren(...cards);
  }

  $("queue-form").addEventListener("submit", (event) => {
    event.preventDefault();
    loadQueue();
  });
  $("days").addEventListener("change", loadQueue);

  if (state.token && state.user) start();
})();
