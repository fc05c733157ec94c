/* naga report: renders the document embedded in <script id="naga-data"> with Plotly and
 * Tabulator. Every value that comes from a receipt becomes a text node (textContent,
 * createTextNode): nothing from the data is ever parsed as HTML. */
"use strict";

(function () {
  const doc = JSON.parse(document.getElementById("naga-data").textContent, (key, value) =>
    value && typeof value === "object" && !Array.isArray(value) &&
    Object.keys(value).length === 1 && typeof value.nonfinite === "string"
      ? Number(value.nonfinite) : value);
  const columns = doc.columns;
  const col = Object.fromEntries(columns.map((name, i) => [name, i]));
  const runs = doc.runs;
  const FAILED = new Set(doc.summary.failed); // rows that did not complete (naga.lock.status.BAD)
  const tables = {};
  window.nagaReport = { doc, tables, show: (v) => show(v), fmtG: (v) => fmtG(v) };

  // ------------------------------------------------------------------ small helpers
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") node.className = v;
      else if (k === "onclick") node.addEventListener("click", v);
      else node.setAttribute(k, v);
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined) continue;
      node.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }
  function runsWord(n) { return n + (n === 1 ? " run" : " runs"); }
  function escapeHtml(text) {
    return String(text).replace(/[&<>"'`=\/]/g, (c) => "&#" + c.charCodeAt(0) + ";");
  }
  // Python's "%.6g": what naga ls prints, so the page and the terminal read alike.
  function fmtG(v) {
    if (typeof v !== "number") return v === null || v === undefined ? "-" : String(v);
    if (Number.isNaN(v)) return "nan";
    if (!Number.isFinite(v)) return v > 0 ? "inf" : "-inf";
    if (v === 0) return Object.is(v, -0) ? "-0" : "0";
    const exp = Number(v.toExponential(5).split("e")[1]);
    if (exp < -4 || exp >= 6) {
      let [mant, e] = v.toExponential(5).split("e");
      if (mant.includes(".")) mant = mant.replace(/0+$/, "").replace(/\.$/, "");
      const sign = e[0] === "-" ? "-" : "+";
      const digits = e.replace(/^[+-]/, "");
      return mant + "e" + sign + (digits.length < 2 ? "0" + digits : digits);
    }
    let text = v.toFixed(Math.max(0, 5 - exp));
    if (text.includes(".")) text = text.replace(/0+$/, "").replace(/\.$/, "");
    return text;
  }
  // A value as naga ls shows it: floats to six digits, text as is, true/false/null.
  function show(v) {
    if (v === null || v === undefined) return "-";
    if (typeof v === "boolean") return v ? "true" : "false";
    if (typeof v === "number") return Number.isInteger(v) && Math.abs(v) < 1e16 && !String(v).includes("e") ? String(v) : fmtG(v);
    return String(v);
  }
  function shortTime(v) {
    if (!v) return "-";
    const text = String(v);
    return text.length >= 16 && text[10] === "T" ? text.slice(0, 10) + " " + text.slice(11, 16) : text;
  }
  function duration(s) {
    if (typeof s !== "number") return "-";
    if (s < 10) return s.toFixed(2) + "s";
    if (s < 60) return s.toFixed(1) + "s";
    const m = Math.floor(Math.round(s) / 60), sec = Math.round(s) % 60;
    if (m < 60) return m + "m" + String(sec).padStart(2, "0") + "s";
    return Math.floor(m / 60) + "h" + String(m % 60).padStart(2, "0") + "m";
  }
  function shortName(name) {
    const i = columns.indexOf(name);
    return i >= 0 ? doc.short[i] : name.replace(/^(config|metrics)\./, "");
  }
  function runLink(index, text) {
    return el("a", { href: "#run-" + index, class: "run-link" }, text === undefined ? String(runs[index][col.run]) : text);
  }
  function textCell(cell) { return document.createTextNode(show(cell.getValue())); }
  function title(name) {
    return { title: escapeHtml(name), titleFormatter: () => document.createTextNode(name) };
  }

  // ------------------------------------------------------------------ the filter language
  // The expressions of naga ls --where (KEY=VALUE, !=, <, <=, >, >=), ANDed; any other word
  // is looked for in every shown value.
  const EXPRESSION = /^([^\s!<>=]+)(==|!=|<=|>=|=|<|>)(.+)$/;
  function scalar(text) {
    const low = text.toLowerCase();
    if (low === "true" || low === "false") return low === "true";
    if (low === "null" || low === "none" || low === "~") return null;
    if (text.trim() !== "" && !Number.isNaN(Number(text))) return Number(text);
    return text;
  }
  function compileFilter(text, fields) {
    // fields: [{key, names: [full, short...]}]; returns {test(rowValues), error}
    const tests = [];
    for (const word of text.trim().split(/\s+/).filter(Boolean)) {
      const match = EXPRESSION.exec(word);
      if (!match) {
        const needle = word.toLowerCase();
        tests.push((get) => fields.some((f) => show(get(f.key)).toLowerCase().includes(needle)));
        continue;
      }
      const [, name, rawOp, raw] = match;
      const op = rawOp === "==" ? "=" : rawOp;
      const candidates = fields.filter((f) => f.names.includes(name));
      const field = candidates.length === 1 ? candidates[0]
        : fields.find((f) => f.names[0] === name);
      if (!field) return { error: "unknown column '" + name + "'" };
      const value = scalar(raw);
      tests.push((get) => {
        const cell = get(field.key);
        if (value === null && (op === "=" || op === "!=")) return (cell === null || cell === undefined) === (op === "=");
        const equal = () => typeof cell === "number" && typeof value === "number" ? cell === value
          : typeof cell === "boolean" || cell === null ? cell === value : show(cell) === raw || String(cell) === raw;
        if (op === "!=") return cell === null || cell === undefined || !equal();
        if (cell === null || cell === undefined) return false;
        if (op === "=") return equal();
        const comparable = (typeof cell === "number" && typeof value === "number") || (typeof cell === "string" && typeof value === "string");
        if (!comparable) return false;
        return op === "<" ? cell < value : op === "<=" ? cell <= value : op === ">" ? cell > value : cell >= value;
      });
    }
    return { test: (get) => tests.every((t) => t(get)) };
  }
  // A table's filters: the text typed in its box, and (runs table) the ranges brushed on
  // the parallel coordinates; a row is shown when it passes all of them.
  const filters = new Map();
  function applyFilters(table) {
    const tests = Object.values(filters.get(table) || {}).filter(Boolean);
    if (!tests.length) table.clearFilter();
    else table.setFilter((data) => tests.every((test) => test(data)));
  }
  function setFilter(table, name, test) {
    filters.set(table, { ...(filters.get(table) || {}), [name]: test });
    applyFilters(table);
  }
  function filterBox(id, table, fields, getter, countOf) {
    const input = el("input", { type: "search", id: id, class: "filter", placeholder: "filter: lr>=0.1 status!=failed, or any text", "aria-label": "filter" });
    const note = el("span", { class: "filter-note" });
    const update = () => {
      const compiled = compileFilter(input.value, fields);
      if (compiled.error) {
        note.textContent = compiled.error;
        note.classList.add("bad");
        return;
      }
      note.classList.remove("bad");
      setFilter(table, "text", input.value.trim() === "" ? null : (data) => compiled.test((key) => getter(data, key)));
      note.textContent = countOf();
    };
    input.addEventListener("input", update);
    table.on("dataFiltered", () => setTimeout(() => { if (!note.classList.contains("bad")) note.textContent = countOf(); }, 0));
    return el("div", { class: "filter-row" }, input, note);
  }

  // ------------------------------------------------------------------ header and summary
  function header() {
    const meta = doc.meta;
    document.title = meta.title;
    const root = document.getElementById("head");
    root.append(
      el("h1", {}, meta.title),
      el("p", { class: "meta" },
        "Built " + meta.built_at + " by naga " + meta.naga_version + " from " + meta.roots.join(", ")
        + (meta.where.length ? " where " + meta.where.join(" and ") : "")
        + (meta.status.length ? " with status " + meta.status.join("/") : "") + "."),
      el("p", { class: "meta" }, "Rebuild it with: ", el("code", { id: "rebuild" }, meta.command)),
    );
  }
  function summary() {
    const s = doc.summary;
    const root = document.getElementById("summary");
    root.append(el("h2", {}, "Summary"));
    const chips = el("p", { class: "chips" }, el("span", { class: "chip" }, runsWord(s.runs)));
    for (const [status, n] of Object.entries(s.statuses)) {
      chips.append(el("span", { class: "chip status-" + status }, n + " " + status));
    }
    root.append(chips);
    const facts = el("dl", { class: "facts" });
    const fact = (k, v) => facts.append(el("dt", {}, k), el("dd", {}, v));
    fact("time span", s.first_start || s.last_finish ? shortTime(s.first_start) + " → " + shortTime(s.last_finish) + " UTC" : "(not recorded)");
    const more = (list, n) => list.length > n ? ", … and " + (list.length - n) + " more" : "";
    fact("code versions", s.codes.slice(0, 10).map(([code, n]) => shortCode(code) + " (" + runsWord(n) + ")").join(", ") + more(s.codes, 10));
    const studies = s.studies.map((st) => (st.sweep ? "sweep " + String(st.sweep).slice(0, 8) : "single runs")
      + ": " + Object.keys(st.scripts).join(", ") + ", " + runsWord(st.runs) + " ("
      + Object.entries(st.statuses).map(([k, n]) => n + " " + k).join(", ") + ")");
    fact("studies", studies.slice(0, 20).join("; ") + more(studies, 20));
    root.append(facts);
    if (s.warnings.length) {
      root.append(el("div", { class: "warning", id: "warnings" },
        el("strong", {}, "Runs of one group differ in code or data: compare them with care."),
        el("ul", {}, s.warnings.slice(0, 50).map((w) => el("li", {}, w)),
          s.warnings.length > 50 ? el("li", {}, "… and " + (s.warnings.length - 50) + " more (see the warnings column of the groups table)") : null)));
    }
    if (s.failed.length) {
      const list = el("ul", { id: "failed-runs" });
      for (const i of s.failed.slice(0, 10)) {
        const card = doc.cards[i];
        const line = card.error ? card.error.type + ": " + card.error.line : "";
        list.append(el("li", {}, el("span", { class: "badge status-" + runs[i][col.status] }, runs[i][col.status]), " ", runLink(i), line ? " — " + line : ""));
      }
      if (s.failed.length > 10) list.append(el("li", {}, "… and " + (s.failed.length - 10) + " more (type status!=completed into the runs table's filter)"));
      root.append(el("div", { class: "failed" }, el("strong", {}, runsWord(s.failed.length) + " did not complete"), list));
    }
    if (s.problems.length) {
      root.append(el("div", { class: "warning" }, el("strong", {}, s.problems.length + " run.lock files could not be read and are left out"),
        el("ul", {}, s.problems.slice(0, 20).map((p) => el("li", {}, p)))));
    }
  }
  function shortCode(code) {
    return code.startsWith("tree ") ? "tree " + code.slice(5, 13) : code.slice(0, 12);
  }

  // ------------------------------------------------------------------ the grouped table
  const STATS = ["count", "mean", "std", "ci95", "min", "max"];
  function groupTable() {
    const g = doc.groups;
    const root = document.getElementById("groups");
    root.append(el("h2", {}, "Groups"));
    const seeds = g.seed_keys.map(shortName);
    root.append(el("p", { class: "explain" },
      "One row per " + g.by.map(shortName).join(", ") + (seeds.length ? " (across " + seeds.join(", ") + ")" : "")
      + ". For each metric: runs with a value, mean, sample std, 95% confidence interval of the mean (± Student's t), min, max, and the best run (",
      Object.entries(g.directions).map(([m, d]) => shortName(m) + (d === "min" ? " lowest" : " highest")).join(", "),
      "). Expand a group to see its runs. The same numbers: ", el("code", {}, g.ls.join(" ")), "."));
    const defs = g.by.map((name, i) => ({ ...title(shortName(name)), field: "k" + i, formatter: groupKeyCell, headerSort: true, sorter: sortValues }));
    // An expanded group shows its runs' paths in this column: make room for them now
    // (Tabulator sizes columns once, from the rows shown at first).
    const longest = Math.max(4, ...g.rows.flatMap((group) => group.members.map((i) => String(runs[i][col.run]).length)));
    defs.push({ ...title("runs"), field: "runs", minWidth: Math.min(420, 12 + 7 * longest), formatter: (cell) => cell.getRow().getData()._run !== undefined ? runLink(cell.getRow().getData()._run) : document.createTextNode(show(cell.getValue())), sorter: sortValues });
    g.metrics.forEach((metric, m) => {
      const children = STATS.map((stat, s) => ({
        ...title(stat === "ci95" ? "±95% CI" : stat), field: "m" + m + "_" + s, sorter: sortValues,
        // Aggregates are floats (as in naga ls): %.6g even when whole (1.23457e+06).
        formatter: (cell) => {
          const v = cell.getValue();
          if (v === undefined) return document.createTextNode("");
          const text = stat === "count" || cell.getRow().getData()._run !== undefined ? show(v) : fmtG(v);
          return document.createTextNode((stat === "ci95" && typeof v === "number" ? "±" : "") + (v === null ? "-" : text));
        },
        hozAlign: "right",
      }));
      children.push({ ...title("best " + (g.directions[metric] === "min" ? "↓" : "↑")), field: "m" + m + "_best", formatter: (cell) => {
        const best = cell.getValue();
        return best === null || best === undefined ? document.createTextNode("-") : runLink(best, show(runs[best][col[metric]]) + " " + runs[best][col.run]);
      }, sorter: (a, b) => sortValues(a === null || a === undefined ? null : runs[a][col[metric]], b === null || b === undefined ? null : runs[b][col[metric]]) });
      defs.push({ ...title(shortName(metric)), columns: children });
    });
    if (g.rows.some((group) => group.warnings.length)) defs.push({ ...title("warnings"), field: "warnings", formatter: (cell) => document.createTextNode((cell.getValue() || []).join("; ")), headerSort: false });
    const data = g.rows.map((group, gi) => {
      const row = { id: "g" + gi, runs: group.runs, warnings: group.warnings };
      group.values.forEach((v, i) => { row["k" + i] = v; });
      g.metrics.forEach((metric, m) => {
        group.stats[metric].slice(0, 6).forEach((v, s) => { row["m" + m + "_" + s] = v; });
        row["m" + m + "_best"] = group.stats[metric][6];
      });
      row._children = group.members.map((i) => {
        const child = { id: "r" + i, _run: i, runs: i };
        g.by.forEach((name, k) => { child["k" + k] = runs[i][col[name]]; });
        g.metrics.forEach((metric, m) => { child["m" + m + "_1"] = runs[i][col[metric]]; });
        return child;
      });
      return row;
    });
    const holder = el("div", { id: "group-table" });
    const fields = [
      ...g.by.map((name, i) => ({ key: "k" + i, names: [name, shortName(name)] })),
      { key: "runs", names: ["runs"] },
      ...g.metrics.flatMap((metric, m) => STATS.map((stat, s) => ({ key: "m" + m + "_" + s, names: [metric + "." + stat, shortName(metric) + "." + stat] }))),
    ];
    const table = new Tabulator(holder, {
      data, columns: defs, layout: "fitData", dataTree: true, dataTreeStartExpanded: false,
      dataTreeFilter: false, dataTreeSort: false, nestedFieldSeparator: false,
      pagination: true, paginationSize: 25, paginationCounter: "rows", maxHeight: "70vh",
      columnHeaderVertAlign: "bottom", placeholder: "no group matches the filter",
    });
    tables.groups = table;
    root.append(filterBox("group-filter", table, fields, (row, key) => row[key], () => table.getDataCount("active") + " of " + data.length + " groups"), holder);
  }
  function groupKeyCell(cell) {
    return document.createTextNode(show(cell.getValue()));
  }
  function rank(v) {
    if (v === null || v === undefined || (typeof v === "number" && Number.isNaN(v))) return [3, 0];
    if (typeof v === "number" || typeof v === "boolean") return [0, Number(v)];
    return [1, String(v)];
  }
  function sortValues(a, b) {
    const [ra, va] = rank(a), [rb, vb] = rank(b);
    if (ra !== rb) return ra - rb;
    return va < vb ? -1 : va > vb ? 1 : 0;
  }

  // ------------------------------------------------------------------ the runs table
  function runsTable() {
    const root = document.getElementById("runs");
    root.append(el("h2", {}, "Runs"));
    const always = ["run", "status", "finished_at", "duration_s", "script"];
    const varies = (name) => {
      const j = col[name];
      const first = JSON.stringify(runs[0][j]);
      return runs.some((r) => JSON.stringify(r[j]) !== first);
    };
    const shown = columns.filter((name) => always.includes(name) || (!["started_at", "run_id", "sweep.job"].includes(name) && varies(name)) || name.startsWith("metrics."));
    root.append(el("p", { class: "explain" }, "Every run, newest first; columns that are the same for every run are left out (see a run's card). Click a run for its card."));
    const defs = shown.map((name) => ({
      ...title(shortName(name)), field: "c" + col[name], sorter: sortValues,
      formatter: name === "run" ? (cell) => runLink(cell.getRow().getData().i)
        : name === "status" ? (cell) => el("span", { class: "badge status-" + cell.getValue() }, cell.getValue())
        : name === "finished_at" || name === "started_at" ? (cell) => document.createTextNode(shortTime(cell.getValue()))
        : name === "duration_s" ? (cell) => document.createTextNode(duration(cell.getValue()))
        : name === "commit" || name === "run_id" ? (cell) => document.createTextNode(cell.getValue() ? String(cell.getValue()).slice(0, 12) : "-")
        : doc.floats[col[name]] ? (cell) => document.createTextNode(typeof cell.getValue() === "number" ? fmtG(cell.getValue()) : show(cell.getValue()))
        : textCell,
      hozAlign: name.startsWith("metrics.") ? "right" : undefined,
    }));
    const order = runs.map((_, i) => i).sort((a, b) => String(runs[b][col.finished_at] || runs[b][col.started_at] || "").localeCompare(String(runs[a][col.finished_at] || runs[a][col.started_at] || "")));
    const data = order.map((i) => {
      const row = { i };
      shown.forEach((name) => { row["c" + col[name]] = runs[i][col[name]]; });
      return row;
    });
    const holder = el("div", { id: "run-table" });
    const table = new Tabulator(holder, {
      data, columns: defs, layout: "fitData", nestedFieldSeparator: false,
      pagination: true, paginationSize: 50, paginationCounter: "rows", maxHeight: "80vh",
      placeholder: "no run matches the filter",
    });
    tables.runs = table;
    const fields = columns.map((name, j) => ({ key: j, names: [name, doc.short[j]] }));
    root.append(filterBox("run-filter", table, fields, (row, j) => runs[row.i][j], () => table.getDataCount("active") + " of " + runs.length + " runs"), holder);
  }

  // ------------------------------------------------------------------ charts
  const PLOT_CONFIG = { displaylogo: false, responsive: true, modeBarButtonsToRemove: ["sendDataToCloud", "lasso2d", "select2d"] };
  const COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
  // Charts are drawn when they come into view (or before printing): the tables are usable
  // at once, and a page of many charts never draws what nobody looks at.
  const pending = new Map();
  const observer = "IntersectionObserver" in window ? new IntersectionObserver((entries) => {
    for (const entry of entries) if (entry.isIntersecting) drawNow(entry.target);
  }, { rootMargin: "300px" }) : null;
  function later(box, draw) {
    pending.set(box, draw);
    if (observer) observer.observe(box); else drawNow(box);
  }
  function drawNow(box) {
    const draw = pending.get(box);
    if (!draw) return;
    pending.delete(box);
    if (observer) observer.unobserve(box);
    draw();
    box.dataset.drawn = "true";
  }
  window.nagaReport.drawCharts = () => [...pending.keys()].forEach(drawNow);
  window.addEventListener("beforeprint", () => window.nagaReport.drawCharts());

  function charts() {
    const root = document.getElementById("charts");
    root.append(el("h2", {}, "Charts"));
    if (typeof Plotly === "undefined") { root.append(el("p", {}, "(the charting library did not load)")); return; }
    for (const pc of doc.parallel) parallel(root, pc);
    const grid = el("div", { class: "grid" });
    root.append(grid);
    doc.plots.forEach((p, i) => plot(grid, p, i));
    for (const t of doc.trials) trial(root, t);
    if (!doc.parallel.length && !doc.plots.length && !doc.trials.length) root.append(el("p", {}, "Nothing varies between these runs: no chart to draw."));
  }
  function hasWebGL() {
    try { const c = document.createElement("canvas"); return !!(c.getContext("webgl") || c.getContext("experimental-webgl")); } catch (e) { return false; }
  }
  function parallel(root, pc) {
    const box = el("div", { class: "chart wide parcoords" });
    root.append(el("h3", {}, "Parallel coordinates: " + (pc.script || "(no script)") + " (" + runsWord(pc.members.length) + ")"), box);
    if (!hasWebGL()) { box.append(el("p", { class: "explain" }, "This chart needs WebGL, which this browser has turned off.")); return; }
    later(box, () => drawParallel(box, pc));
  }
  function drawParallel(box, pc) {
    const complete = pc.members.filter((i) => pc.axes.every((a) => runs[i][col[a]] !== null && runs[i][col[a]] !== undefined && !(typeof runs[i][col[a]] === "number" && !Number.isFinite(runs[i][col[a]]))));
    const dimensions = pc.axes.map((a) => {
      const values = complete.map((i) => runs[i][col[a]]);
      if (values.every((v) => typeof v === "number")) return { label: shortName(a), values };
      const levels = [...new Set(values.map(show))].sort();
      return { label: shortName(a), values: values.map((v) => levels.indexOf(show(v))), tickvals: levels.map((_, k) => k), ticktext: levels };
    });
    const metric = pc.axes.filter((a) => a.startsWith("metrics."))[0];
    const line = metric ? { color: complete.map((i) => runs[i][col[metric]]), colorscale: "Viridis", reversescale: doc.groups.directions[metric] === "min", showscale: true, colorbar: { title: { text: shortName(metric) } } } : {};
    if (complete.length < pc.members.length) box.append(el("p", { class: "explain" }, runsWord(pc.members.length - complete.length) + " without a value on every axis left out."));
    const div = el("div", { class: "plot" });
    box.append(div);
    Plotly.newPlot(div, [{ type: "parcoords", line, dimensions }], { margin: { l: 60, r: 40, t: 50, b: 30 }, height: 380 }, PLOT_CONFIG);
    // Brushing an axis filters the runs table to the runs inside every brushed range.
    const note = el("p", { class: "explain brush-note" }, "Drag along an axis to select a range: the runs table below then shows only those runs.");
    box.append(note);
    div.on("plotly_restyle", () => {
      const ranges = div.data[0].dimensions.map((d, k) => [k, d.constraintrange]).filter(([, r]) => r && r.length);
      if (!ranges.length) {
        setFilter(tables.runs, "brush", null);
        note.textContent = "Drag along an axis to select a range: the runs table below then shows only those runs.";
        return;
      }
      const inside = (value, range) => (Array.isArray(range[0]) ? range : [range]).some(([lo, hi]) => value >= lo && value <= hi);
      const chosen = new Set(complete.filter((i, n) => ranges.every(([k, r]) => inside(dimensions[k].values[n], r))));
      setFilter(tables.runs, "brush", (data) => chosen.has(data.i));
      note.textContent = runsWord(chosen.size) + " inside the selected ranges: shown in the runs table (double-click an axis range to clear it).";
    });
  }
  function plot(grid, p, i) {
    const div = el("div", { class: "plot", id: "plot-" + i });
    const box = el("div", { class: "chart" }, div);
    grid.append(box);
    later(box, () => drawPlot(div, p));
  }
  function drawPlot(div, p) {
    const hue = p.hue ? shortName(p.hue) : null;
    const traces = [];
    p.series.forEach((s, k) => {
      const color = COLORS[k % COLORS.length];
      const name = hue ? hue + "=" + show(s.hue) : shortName(p.y);
      traces.push({ x: s.x, y: s.max, mode: "lines", line: { width: 0 }, hoverinfo: "skip", showlegend: false, legendgroup: name });
      traces.push({ x: s.x, y: s.min, mode: "lines", line: { width: 0 }, fill: "tonexty", fillcolor: color + "33", hoverinfo: "skip", showlegend: false, legendgroup: name });
      traces.push({ x: s.x, y: s.mean, mode: "lines+markers", name, legendgroup: name, line: { color }, marker: { color },
        customdata: s.n.map((n, j) => [n, s.min[j], s.max[j]]),
        hovertemplate: shortName(p.x).replace(/%/g, "%%") + "=%{x}<br>mean %{y:.6g} of %{customdata[0]} runs<br>min %{customdata[1]:.6g}, max %{customdata[2]:.6g}<extra></extra>" });
    });
    const categorical = p.series.some((s) => s.x.some((v) => typeof v !== "number"));
    const xs = [...new Set(p.series.flatMap((s) => s.x))].sort((a, b) => a - b);
    // A sweep has a handful of x values: tick exactly those, as naga plot does.
    const ticks = !categorical && xs.length <= 12 ? { tickvals: xs, ticktext: xs.map(show) } : {};
    Plotly.newPlot(div, traces, {
      title: { text: shortName(p.y) + " against " + shortName(p.x) }, height: 340, margin: { l: 60, r: 20, t: 50, b: 50 },
      xaxis: { title: { text: shortName(p.x) }, type: categorical ? "category" : p.logx ? "log" : "linear", ...ticks },
      yaxis: { title: { text: shortName(p.y) + " (mean, band min–max)" } }, showlegend: !!hue,
    }, PLOT_CONFIG);
  }
  function trial(root, t) {
    const div = el("div", { class: "plot" });
    const box = el("div", { class: "chart wide" }, div);
    root.append(el("h3", {}, "Objective by trial: sweep " + t.sweep.slice(0, 8) + " (" + t.members.length + " trials, " + (t.goal === "min" ? "lower" : "higher") + " is better)"), box);
    later(box, () => drawTrial(div, t));
  }
  function drawTrial(div, t) {
    const xs = t.members.map((_, k) => k + 1);
    Plotly.newPlot(div, [
      { x: xs, y: t.values, mode: "markers", name: shortName(t.objective), customdata: t.members.map((i) => runs[i][col.run]), hovertemplate: "trial %{x}: %{y:.6g}<br>%{customdata}<extra></extra>" },
      { x: xs, y: t.best, mode: "lines", line: { shape: "hv" }, name: "best so far" },
    ], { height: 340, margin: { l: 60, r: 20, t: 20, b: 50 }, xaxis: { title: { text: "trial (in start order)" } }, yaxis: { title: { text: shortName(t.objective) } } }, PLOT_CONFIG);
    div.on("plotly_click", (event) => { const point = event.points[0]; if (point.curveNumber === 0) location.hash = "#run-" + t.members[point.pointIndex]; });
  }

  // ------------------------------------------------------------------ run cards
  function showCard(index) {
    const root = document.getElementById("card");
    root.replaceChildren();
    if (!(index >= 0 && index < runs.length)) return;
    const row = runs[index];
    const card = doc.cards[index];
    const status = row[col.status];
    const box = el("article", { class: "card" + (FAILED.has(index) ? " card-failed" : ""), id: "card-" + index });
    box.append(el("h2", {}, "Run ", el("span", { class: "run-name" }, String(row[col.run])), " ", el("span", { class: "badge status-" + status }, status)));
    if (card.unreadable) { box.append(el("p", {}, "(its run.lock could not be read again while building the report)")); root.append(box); return; }
    if (card.error) {
      box.append(el("div", { class: "error" }, el("strong", {}, card.error.type + ": " + card.error.line),
        card.error.traceback ? el("details", {}, el("summary", {}, "traceback"), el("pre", {}, card.error.traceback)) : null));
    }
    const facts = el("dl", { class: "facts" });
    const fact = (k, v) => { if (v !== null && v !== undefined && v !== "") facts.append(el("dt", {}, k), el("dd", {}, v)); };
    fact("run id", row[col.run_id]);
    fact("started", row[col.started_at]);
    fact("finished", row[col.finished_at]);
    fact("duration", duration(row[col.duration_s]));
    fact("host", card.host);
    fact("launcher", card.launcher);
    fact("slurm job", card.slurm_job_id);
    fact("attempts", card.attempts);
    fact("command", card.command ? el("code", {}, card.command) : null);
    fact("cwd", card.cwd);
    fact("script", [card.script.path || card.script.module, card.script.function].filter(Boolean).join(":"));
    if (row[col.sweep] !== undefined && row[col.sweep] !== null) fact("sweep", row[col.sweep] + " (" + row[col["sweep.job"]] + ")");
    box.append(facts);
    const section = (name, ...content) => box.append(el("h3", {}, name), ...content.filter((c) => c !== null && c !== undefined));
    const pairs = (prefix) => columns.map((name, j) => [name, row[j]]).filter(([name, v]) => name.startsWith(prefix) && v !== null && v !== undefined);
    section("Config", kv(pairs("config.").map(([n, v]) => [n.slice(7), show(v)])),
      card.redacted.length ? el("p", { class: "explain" }, "redacted when recorded: " + card.redacted.join(", ")) : null);
    section("Metrics", kv(pairs("metrics.").map(([n, v]) => [n.slice(8), show(v)])));
    section("Code", ...(card.repos.length ? card.repos.map(repo) : [el("p", {}, "(no repository recorded)")]));
    section("Data", card.data.length ? kv(card.data.map((d) => [d.key, [d.path, d.kind, d.size === null ? null : d.size + " B", d.hash].filter((x) => x !== null && x !== undefined).join("  ")])) : el("p", {}, "(no data recorded)"));
    const lineage = [];
    for (const prev of card.prevs) {
      lineage.push(el("li", {}, "upstream " + prev.key + ": ", prev.target !== null && prev.target !== undefined ? runLink(prev.target) : (prev.path || "?") + " (not in this report)", prev.run_id ? " run " + prev.run_id.slice(0, 8) : ""));
    }
    for (const down of card.downstream) lineage.push(el("li", {}, "downstream: ", runLink(down)));
    section("Lineage", lineage.length ? el("ul", {}, lineage) : el("p", {}, "(no upstream or downstream run in this report)"));
    root.append(box);
  }
  function repo(r) {
    const lines = [["repository", r.root], ["commit", (r.commit || "-") + (r.branch ? " (" + r.branch + ")" : " (detached)")]];
    if (r.dirty) {
      lines.push(["uncommitted", r.snapshot_commit ? "snapshot " + r.snapshot_commit + ", tree " + r.snapshot_tree : "yes, no snapshot"]);
      lines.push(["changed files", r.changed === null ? "(the repository or snapshot is not on this machine)" : r.changed.join(", ") || "(none)"]);
    }
    for (const note of r.not_captured) lines.push(["not captured", note]);
    return el("div", { class: "repo" }, el("h4", {}, r.key), kv(lines));
  }
  function kv(pairs) {
    if (!pairs.length) return el("p", {}, "(none)");
    return el("table", { class: "kv" }, el("tbody", {}, pairs.map(([k, v]) => el("tr", {}, el("th", {}, k), el("td", {}, v)))));
  }
  function route() {
    const match = /^#run-(\d+)$/.exec(location.hash);
    if (match) {
      showCard(Number(match[1]));
      document.getElementById("card").scrollIntoView();
    }
  }

  // How long each part took to draw (bench/bench_report.py reads it).
  const timings = {};
  window.nagaReport.timings = timings;
  for (const [name, part] of [["header", header], ["summary", summary], ["groups", groupTable], ["charts", charts], ["runs", runsTable]]) {
    const start = performance.now();
    part();
    timings[name] = Math.round(performance.now() - start);
  }
  window.addEventListener("hashchange", route);
  route();
  document.body.setAttribute("data-ready", "true");
})();
