"""The HTML report of a merged matrix: ONE static file, no external assets, opened from disk.

The page embeds the merged results as JSON in a ``<script type="application/json">`` block and a
small inline script draws the matrix (FastAPI versions x engine and check, coloured by worst
outcome), the filters (engine, scenario, check, outcome) and the drill-down (click a cell: its
results with their details). Safety, since details hold bytes from the app under test:

- the JSON is escaped so no ``<``, ``>`` or ``&`` appears raw inside the script block
  (``\\u003c`` ...): a ``</script>`` in a detail cannot end the block;
- the script puts data into the page with ``textContent`` and ``setAttribute`` only, never as
  markup; the few values written by Python (title) go through ``html.escape``.

Results are stored compactly: every string (engine, scenario, variant, check, detail) once in a
table, each result as a row of indexes.
"""

from __future__ import annotations

import html
import json
import re
from datetime import datetime, timezone
from pathlib import Path

from ..outcomes import Outcome
from . import atomic_write
from ..expectations import known_reason
from .merge import Merged

__all__ = ["page_data", "embed_json", "render", "write"]


def page_data(merged: Merged, title: str) -> dict[str, object]:
    """The data the page's script reads: tables of names and one index row per result."""
    strings: dict[str, int] = {}

    def sid(text: str) -> int:
        return strings.setdefault(text, len(strings))

    versions = merged.versions
    engines, checks, scenarios = merged.engines, merged.checks, merged.scenarios
    e_ix, c_ix, s_ix = ({n: i for i, n in enumerate(xs)} for xs in (engines, checks, scenarios))
    outcomes = sorted(Outcome, key=lambda o: -o.severity)
    o_ix = {o: i for i, o in enumerate(outcomes)}
    rows = []
    claims: dict[str, str] = {}
    for vi, v in enumerate(versions):
        for r in merged.results[v].values():
            claims.setdefault(r.check, r.claim)
            reason = known_reason(r)
            rows.append([vi, e_ix[r.engine], s_ix[r.scenario], sid(r.variant), c_ix[r.check],
                         o_ix[r.outcome], sid(r.detail), -1 if reason is None else sid(reason)])
    return {
        "title": title,
        "generated": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "versions": [{"name": v, "packages": merged.runs[v][0].versions, "mixed": merged.mixed_packages(v),
                      "files": [str(f.path) for f in merged.runs[v]],
                      "results": len(merged.results[v])} for v in versions],
        "engines": engines, "checks": checks, "scenarios": scenarios,
        "claims": [claims.get(c, "") for c in checks],
        "outcomes": [{"name": o.value, "symbol": o.symbol, "problem": o.is_problem} for o in outcomes],
        "strings": list(strings),
        "results": rows,
        "changes": [{"engine": c.engine, "check": c.check, "text": c.describe(),
                     "before": c.before.value, "after": c.after.value} for c in merged.changes()],
        "conflicts": [{"version": c.version, "engine": c.first.engine, "check": c.first.check,
                       "text": f"FastAPI {c.version} [{c.first.engine}] {c.first.scenario} / {c.first.variant} / "
                               f"{c.first.check}: {c.first.outcome.value} in {c.first_from} "
                               f"vs {c.second.outcome.value} in {c.second_from}"}
                      for c in merged.conflicts],
        "duplicates": merged.duplicates,
    }


def embed_json(data: object) -> str:
    """JSON safe inside a ``<script>`` block: ``<``, ``>`` and ``&`` only as ``\\u`` escapes."""
    text = json.dumps(data, ensure_ascii=True, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def render(merged: Merged, title: str) -> str:
    values = {"TITLE": html.escape(title), "DATA": embed_json(page_data(merged, title))}
    return re.sub(r"@@(TITLE|DATA)@@", lambda m: values[m.group(1)], _TEMPLATE)


def write(path: Path, merged: Merged, title: str) -> None:
    atomic_write(path, render(merged, title).encode("utf-8"))


_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<title>@@TITLE@@</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.4em; margin: 0 0 .3em; }
h2 { font-size: 1.15em; margin: 1.4em 0 .4em; }
table { border-collapse: collapse; }
th, td { border: 1px solid #ccc; padding: 2px 6px; text-align: left; vertical-align: top; }
th { background: #f3f3f3; position: sticky; top: 0; }
#filters { display: flex; flex-wrap: wrap; gap: 1em; margin: .8em 0; align-items: end; }
#filters label { display: flex; flex-direction: column; font-size: .85em; color: #555; }
#status { color: #555; font-size: .9em; }
td.cell { cursor: pointer; white-space: nowrap; font-variant-numeric: tabular-nums; }
td.cell:hover, td.cell:focus { outline: 2px solid #333; }
td.cell.open { outline: 3px solid #000; }
td.empty { background: #fafafa; color: #bbb; }
.o-pass { background: #d6f5d6; color: #1b5e20; }
.o-fail { background: #f9c4c4; color: #8b0000; font-weight: bold; }
.o-error { background: #e8c5f2; color: #5a137a; font-weight: bold; }
.o-non-strict { background: #fff0b0; color: #6d4c00; }
.o-unsupported { background: #cfe8f3; color: #0b4f6c; }
.o-n-a { background: #eeeeee; color: #777; }
.o-informational { background: #dde6fb; color: #1a3d8f; }
.legend span { display: inline-block; padding: 1px 6px; margin-right: 4px; border-radius: 3px; }
pre.detail { margin: 0; white-space: pre-wrap; word-break: break-word; max-width: 70em; font-size: 12px; }
#drill { margin-top: 1em; }
ul { padding-left: 1.3em; }
.muted { color: #777; }
td.files { white-space: pre-line; font-size: .85em; }
div.expected { font-style: italic; color: #555; }
</style>
</head>
<body>
<h1>@@TITLE@@</h1>
<div id="meta" class="muted"></div>
<noscript><p>This report draws its matrix with JavaScript: allow scripts for this file to see it.</p></noscript>
<h2>FastAPI versions</h2>
<table id="versions"><thead><tr><th>FastAPI</th><th>Starlette</th><th>Pydantic</th><th>Python</th><th>results</th><th>files</th></tr></thead><tbody></tbody></table>
<h2>Matrix</h2>
<div class="legend" id="legend"></div>
<div id="filters">
  <label>engine <select id="f-engine" data-filter="engine"></select></label>
  <label>scenario <select id="f-scenario" data-filter="scenario"></select></label>
  <label>check <select id="f-check" data-filter="check"></select></label>
  <label>outcome <select id="f-outcome" data-filter="outcome"></select></label>
  <button id="f-reset" type="button">show all</button>
  <span id="status"></span>
</div>
<table id="matrix"><thead></thead><tbody></tbody></table>
<section id="drill" hidden>
  <h2 id="drill-title"></h2>
  <p id="drill-note" class="muted"></p>
  <table id="drill-table"><thead><tr><th>scenario</th><th>variant</th><th>outcome</th><th>detail</th></tr></thead><tbody></tbody></table>
</section>
<h2>Changes along the releases</h2>
<ul id="changes"></ul>
<section id="conflicts-section" hidden>
<h2>Conflicting records</h2>
<p class="muted">The same result recorded twice for one FastAPI version with different outcomes; the matrix counts the worse.</p>
<ul id="conflicts"></ul>
</section>
<script type="application/json" id="report-data">@@DATA@@</script>
<script>
(function () {
  "use strict";
  var D = JSON.parse(document.getElementById("report-data").textContent);
  var S = D.strings, O = D.outcomes, MAX_ROWS = 1000;
  var state = {engine: "", scenario: "", check: "", outcome: ""}, open = null;

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    for (var k in (attrs || {})) e.setAttribute(k, attrs[k]);
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function slug(name) { return name.replace(/[^a-z]+/g, "-"); }
  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }
  function selected(r) {  // r = [version, engine, scenario, variant, check, outcome, detail, expected reason or -1]
    return (state.engine === "" || D.engines[r[1]] === state.engine) &&
           (state.scenario === "" || D.scenarios[r[2]] === state.scenario) &&
           (state.check === "" || D.checks[r[4]] === state.check) &&
           (state.outcome === "" || O[r[5]].name === state.outcome);
  }

  function fillSelect(id, label, names) {
    var s = document.getElementById(id);
    s.appendChild(el("option", {value: ""}, "all " + label));
    names.forEach(function (n) { s.appendChild(el("option", {value: n}, n)); });
    s.addEventListener("change", function () { state[s.dataset.filter] = s.value; draw(); });
  }

  function header() {
    var m = document.getElementById("meta");
    m.textContent = D.results.length + " results, " + D.versions.length + " FastAPI version(s), engines: " +
      D.engines.join(", ") + "; generated " + D.generated +
      (D.duplicates ? "; " + D.duplicates + " duplicate record(s) with the same outcome merged" : "");
    var tb = document.querySelector("#versions tbody");
    D.versions.forEach(function (v) {
      var tr = el("tr");
      [v.name, v.packages.starlette, v.packages.pydantic, v.packages.python, v.results].forEach(function (t) {
        tr.appendChild(el("td", null, t === undefined ? "?" : t));
      });
      var mixed = Object.keys(v.mixed).map(function (k) { return "mixed " + k + ": " + v.mixed[k].join(" / "); });
      tr.appendChild(el("td", {"class": "files"}, v.files.concat(mixed).join("\\n")));
      tb.appendChild(tr);
    });
    var lg = document.getElementById("legend");
    O.forEach(function (o) { lg.appendChild(el("span", {"class": "o-" + slug(o.name)}, o.name)); });
  }

  function draw() {
    var cells = {}, shown = 0;
    D.results.forEach(function (r) {
      if (!selected(r)) return;
      shown++;
      var key = r[1] + "|" + r[4], row = cells[key] || (cells[key] = {});
      var c = row[r[0]] || (row[r[0]] = {counts: {}, total: 0, worst: O.length});
      c.counts[r[5]] = (c.counts[r[5]] || 0) + 1;
      c.total++;
      if (r[5] < c.worst) c.worst = r[5];  // outcomes are listed worst first
    });
    var thead = document.querySelector("#matrix thead"), tbody = document.querySelector("#matrix tbody");
    clear(thead); clear(tbody);
    var hr = el("tr");
    hr.appendChild(el("th", null, "check"));
    hr.appendChild(el("th", null, "engine"));
    D.versions.forEach(function (v) { hr.appendChild(el("th", {"data-version": v.name}, v.name)); });
    thead.appendChild(hr);
    var rows = 0;
    D.engines.forEach(function (engine, ei) {
      D.checks.forEach(function (check, ci) {
        var row = cells[ei + "|" + ci];
        if (!row) return;
        rows++;
        var tr = el("tr", {"data-engine": engine, "data-check": check});
        tr.appendChild(el("td", {title: D.claims[ci]}, check));
        tr.appendChild(el("td", null, engine));
        D.versions.forEach(function (v, vi) {
          var c = row[vi];
          if (!c) { tr.appendChild(el("td", {"class": "empty"}, "\\u00b7")); return; }
          var worst = O[c.worst].name, parts = [];
          O.forEach(function (o, oi) { if (c.counts[oi]) parts.push(c.counts[oi] + " " + o.name); });
          var td = el("td", {"class": "cell o-" + slug(worst), tabindex: "0", "data-version": v.name,
                             "data-outcome": worst, title: parts.join(", ")},
                      worst + " " + c.counts[c.worst] + "/" + c.total);
          td.addEventListener("click", function () {
            open = {v: vi, e: ei, c: ci};
            draw();
            document.getElementById("drill").scrollIntoView({block: "nearest"});
          });
          td.addEventListener("keydown", function (ev) { if (ev.key === "Enter") td.click(); });
          if (open && open.v === vi && open.e === ei && open.c === ci) td.classList.add("open");
          tr.appendChild(td);
        });
        tbody.appendChild(tr);
      });
    });
    document.getElementById("status").textContent =
      shown + " of " + D.results.length + " results, " + rows + " row(s)";
    drawChanges();
    drawDrill();
  }

  function drawDrill() {
    var sec = document.getElementById("drill"), tb = document.querySelector("#drill-table tbody");
    clear(tb);
    if (!open) { sec.hidden = true; return; }
    sec.hidden = false;
    document.getElementById("drill-title").textContent = D.checks[open.c] + " [" + D.engines[open.e] +
      "] on FastAPI " + D.versions[open.v].name;
    var mine = D.results.filter(function (r) {
      return r[0] === open.v && r[1] === open.e && r[4] === open.c && selected(r);
    });
    mine.sort(function (a, b) { return a[5] - b[5]; });  // worst first
    mine.slice(0, MAX_ROWS).forEach(function (r) {
      var tr = el("tr", {"class": "result", "data-outcome": O[r[5]].name});
      tr.appendChild(el("td", null, D.scenarios[r[2]]));
      tr.appendChild(el("td", null, S[r[3]]));
      tr.appendChild(el("td", {"class": "o-" + slug(O[r[5]].name)}, O[r[5]].name));
      var td = el("td");
      if (r[7] >= 0) td.appendChild(el("div", {"class": "expected"}, "expected: " + S[r[7]]));
      td.appendChild(el("pre", {"class": "detail"}, S[r[6]]));
      tr.appendChild(td);
      tb.appendChild(tr);
    });
    document.getElementById("drill-note").textContent = mine.length + " result(s) with the current filters, " +
      "worst first" + (mine.length > MAX_ROWS ? "; the first " + MAX_ROWS + " shown" : "") +
      ". Claim: " + D.claims[open.c];
  }

  function drawChanges() {
    var ul = document.getElementById("changes");
    clear(ul);
    var list = D.changes.filter(function (c) {
      return (state.engine === "" || c.engine === state.engine) && (state.check === "" || c.check === state.check);
    });
    if (D.versions.length < 2) ul.appendChild(el("li", {"class": "muted"}, "One FastAPI version only: nothing to compare."));
    else if (!list.length) ul.appendChild(el("li", {"class": "muted"}, "No change between these versions."));
    list.forEach(function (c) {
      var li = el("li", {"data-engine": c.engine, "data-check": c.check});
      li.appendChild(el("strong", null, c.check));
      li.appendChild(document.createTextNode(" [" + c.engine + "]: " + c.text));
      ul.appendChild(li);
    });
  }

  function conflicts() {
    if (!D.conflicts.length) return;
    document.getElementById("conflicts-section").hidden = false;
    var ul = document.getElementById("conflicts");
    D.conflicts.forEach(function (c) { ul.appendChild(el("li", null, c.text)); });
  }

  header();
  fillSelect("f-engine", "engines", D.engines);
  fillSelect("f-scenario", "scenarios", D.scenarios);
  fillSelect("f-check", "checks", D.checks);
  fillSelect("f-outcome", "outcomes", O.map(function (o) { return o.name; }));
  document.getElementById("f-reset").addEventListener("click", function () {
    state = {engine: "", scenario: "", check: "", outcome: ""}; open = null;
    document.querySelectorAll("#filters select").forEach(function (s) { s.value = ""; });
    draw();
  });
  conflicts();
  draw();
})();
</script>
</body>
</html>
"""
