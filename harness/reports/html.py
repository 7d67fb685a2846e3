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
from .merge import Merged, version_key

__all__ = ["page_data", "verdict", "embed_json", "render", "write"]


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
        "changes": [{"engine": c.engine, "check": c.check, "text": c.describe(), "version": c.version,
                     "previous": c.previous, "before": c.before.value, "after": c.after.value}
                    for c in merged.changes()],
        "conflicts": [{"version": c.version, "engine": c.first.engine, "check": c.first.check,
                       "text": f"FastAPI {c.version} [{c.first.engine}] {c.first.scenario} / {c.first.variant} / "
                               f"{c.first.check}: {c.first.outcome.value} in {c.first_from} "
                               f"vs {c.second.outcome.value} in {c.second_from}"}
                      for c in merged.conflicts],
        "duplicates": merged.duplicates,
        "verdict": verdict(merged),
    }


def verdict(merged: Merged, listed: int = 30) -> dict[str, object]:
    """What the page opens on: did the gate pass (no fail or error that no expectation records, in
    any version), the first unexpected problems, and counts."""
    problems = merged.problems()  # newest version first
    unexpected = [(v, r) for v, r in problems if known_reason(r) is None]
    failed = sorted({v for v, _ in unexpected}, key=version_key)
    return {
        "passed": not unexpected, "failed_versions": failed, "unexpected": len(unexpected),
        "known": len(problems) - len(unexpected), "conflicts": len(merged.conflicts),
        "first": [{"version": v, "engine": r.engine, "scenario": r.scenario, "variant": r.variant, "check": r.check,
                   "outcome": r.outcome.value, "title": (r.detail.splitlines() or [""])[0][:200]}
                  for v, r in unexpected[:listed]],
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
@media (max-width: 600px) { body { margin: .6em; } }
h1 { font-size: 1.4em; margin: 0 0 .3em; overflow-wrap: anywhere; }
h2 { font-size: 1.15em; margin: 1.4em 0 .4em; }
table { border-collapse: collapse; }
th, td { border: 1px solid #ccc; padding: 2px 6px; text-align: left; vertical-align: top; }
th { background: #f3f3f3; position: sticky; top: 0; }
.scroll { overflow-x: auto; max-width: 100%; }
#verdict { border: 2px solid #999; border-radius: 6px; padding: .6em .9em; margin: .6em 0 1em; max-width: 60em;
           overflow-wrap: anywhere; }
#verdict.passed { border-color: #2e7d32; background: #eef8ee; }
#verdict.failed { border-color: #b71c1c; background: #fdeeee; }
#verdict-head { font-size: 1.2em; font-weight: bold; margin: 0 0 .3em; }
#verdict ul { margin: .3em 0; }
#verdict li { margin: .15em 0; }
#filters { display: flex; flex-wrap: wrap; gap: 1em; margin: .8em 0; align-items: end; }
#filters label { display: flex; flex-direction: column; font-size: .85em; color: #555; }
#filters label.inline { flex-direction: row; gap: .3em; align-items: center; }
#status { color: #555; font-size: .9em; }
td.cell { cursor: pointer; white-space: nowrap; font-variant-numeric: tabular-nums; }
td.cell:hover, td.cell:focus { outline: 2px solid #333; }
td.cell.open { outline: 3px solid #000; }
td.empty { background: #fafafa; color: #bbb; }
th button.group { font: inherit; font-weight: bold; cursor: pointer; border: 1px dashed #888; background: #fff;
                  padding: 1px 4px; white-space: nowrap; }
th small { display: block; font-weight: normal; color: #555; }
th button.collapse { font-size: .8em; cursor: pointer; margin-left: .3em; }
.o-pass { background: #d6f5d6; color: #1b5e20; }
.o-fail { background: #f9c4c4; color: #8b0000; font-weight: bold; }
.o-error { background: #e8c5f2; color: #5a137a; font-weight: bold; }
.o-non-strict { background: #fff0b0; color: #6d4c00; }
.o-unsupported { background: #cfe8f3; color: #0b4f6c; }
.o-n-a { background: #eeeeee; color: #777; }
.o-informational { background: #dde6fb; color: #1a3d8f; }
.legend span { display: inline-block; padding: 1px 6px; margin: 0 4px 4px 0; border-radius: 3px; }
pre.detail { margin: 0; white-space: pre-wrap; word-break: break-word; max-width: 70em; font-size: 12px; }
#drill { margin-top: 1em; }
ul { padding-left: 1.3em; }
.muted { color: #777; }
td.files { white-space: pre-line; font-size: .85em; overflow-wrap: anywhere; }
div.expected { font-style: italic; color: #555; }
</style>
</head>
<body>
<h1>@@TITLE@@</h1>
<noscript><p>This report draws its verdict and matrix with JavaScript: allow scripts for this file to see them.</p></noscript>
<section id="verdict">
  <p id="verdict-head"></p>
  <p id="verdict-counts"></p>
  <ul id="unexpected"></ul>
  <h2>What changed between releases</h2>
  <div id="changes"></div>
</section>
<div id="meta" class="muted"></div>
<h2>Matrix</h2>
<p class="muted">Worst outcome of each check per engine and FastAPI version (n/m: results with that outcome of all its
results). Neighbouring releases with identical results share one column: click its header to expand it. Click a cell
for its results.</p>
<div class="legend" id="legend"></div>
<div id="filters">
  <label>engine <select id="f-engine" data-filter="engine"></select></label>
  <label>scenario <select id="f-scenario" data-filter="scenario"></select></label>
  <label>check <select id="f-check" data-filter="check"></select></label>
  <label>outcome <select id="f-outcome" data-filter="outcome"></select></label>
  <label class="inline"><input type="checkbox" id="f-na"> rows that are all n/a</label>
  <button id="f-reset" type="button">show all</button>
  <span id="status"></span>
</div>
<div class="scroll"><table id="matrix"><thead></thead><tbody></tbody></table></div>
<section id="drill" hidden>
  <h2 id="drill-title"></h2>
  <p id="drill-note" class="muted"></p>
  <div class="scroll"><table id="drill-table"><thead><tr><th>scenario</th><th>variant</th><th>outcome</th><th>detail</th></tr></thead><tbody></tbody></table></div>
</section>
<section id="conflicts-section" hidden>
<h2>Conflicting records</h2>
<p class="muted">The same result recorded twice for one FastAPI version with different outcomes; the matrix counts the worse.</p>
<ul id="conflicts"></ul>
</section>
<h2>FastAPI versions and files</h2>
<div class="scroll"><table id="versions"><thead><tr><th>FastAPI</th><th>Starlette</th><th>Pydantic</th><th>Python</th><th>results</th><th>files</th></tr></thead><tbody></tbody></table></div>
<script type="application/json" id="report-data">@@DATA@@</script>
<script>
(function () {
  "use strict";
  var D = JSON.parse(document.getElementById("report-data").textContent);
  var S = D.strings, O = D.outcomes, V = D.verdict, MAX_ROWS = 1000, NA = -1;
  var state = {engine: "", scenario: "", check: "", outcome: "", na: false}, open = null, expanded = {};
  O.forEach(function (o, i) { if (o.name === "n/a") NA = i; });

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

  function verdict() {
    var box = document.getElementById("verdict"), head = document.getElementById("verdict-head");
    box.className = V.passed ? "passed" : "failed";
    head.textContent = V.passed
      ? "Gate passed: no unexpected fail or error in " + D.versions.length + " FastAPI version(s)"
      : "Gate FAILED: " + V.unexpected + " unexpected fail/error result(s) in FastAPI " + V.failed_versions.join(", ");
    document.getElementById("verdict-counts").textContent = D.results.length + " results; " + V.known +
      " known deviation(s) recorded by expectations" + (V.conflicts ? "; " + V.conflicts + " conflicting record(s)" : "") +
      "; engines: " + D.engines.join(", ") + ".";
    var ul = document.getElementById("unexpected");
    V.first.forEach(function (p) {
      var li = el("li", {"data-outcome": p.outcome});
      li.appendChild(el("strong", null, p.outcome + " "));
      li.appendChild(document.createTextNode("FastAPI " + p.version + " [" + p.engine + "] " + p.scenario + " / " +
        p.variant + " / " + p.check + ": " + p.title));
      ul.appendChild(li);
    });
    if (V.unexpected > V.first.length)
      ul.appendChild(el("li", {"class": "muted"}, "... and " + (V.unexpected - V.first.length) + " more: filter the matrix by outcome"));
  }

  function header() {
    var m = document.getElementById("meta");
    m.textContent = D.results.length + " results, " + D.versions.length + " FastAPI version(s); generated " + D.generated +
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

  function cellText(c) { return O[c.worst].name + " " + c.counts[c.worst] + "/" + c.total; }
  function signature(c) {
    if (!c) return "";
    return Object.keys(c.counts).sort().map(function (k) { return k + ":" + c.counts[k]; }).join(",");
  }

  // Neighbouring versions whose every drawn row has the same cell form one column group.
  function columnGroups(rows) {
    var groups = [];
    D.versions.forEach(function (v, vi) {
      var sig = rows.map(function (r) { return signature(r.cells[vi]); }).join("|");
      var last = groups[groups.length - 1];
      if (last && last.sig === sig) last.versions.push(vi); else groups.push({sig: sig, versions: [vi]});
    });
    return groups;
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
    var rows = [], hidden = 0;
    D.engines.forEach(function (engine, ei) {
      D.checks.forEach(function (check, ci) {
        var row = cells[ei + "|" + ci];
        if (!row) return;
        var informative = Object.keys(row).some(function (vi) { return row[vi].worst !== NA; });
        if (!informative && !state.na) { hidden++; return; }
        rows.push({engine: engine, ei: ei, check: check, ci: ci, cells: row});
      });
    });
    var groups = columnGroups(rows), columns = [];
    groups.forEach(function (g, gi) {
      if (g.versions.length > 1 && !expanded[g.versions[0]]) columns.push({group: g, vi: g.versions[0]});
      else g.versions.forEach(function (vi, k) { columns.push({vi: vi, expandedFrom: k === 0 && g.versions.length > 1 ? g : null}); });
    });
    var thead = document.querySelector("#matrix thead"), tbody = document.querySelector("#matrix tbody");
    clear(thead); clear(tbody);
    var hr = el("tr");
    hr.appendChild(el("th", null, "check"));
    hr.appendChild(el("th", null, "engine"));
    columns.forEach(function (col) {
      var name = D.versions[col.vi].name;
      if (col.group) {
        var vs = col.group.versions, last = D.versions[vs[vs.length - 1]].name;
        var th = el("th", {"data-version": name, "data-group": name + " - " + last});
        var b = el("button", {type: "button", "class": "group", title: "show each of these " + vs.length + " releases"},
                   name + " - " + last);
        b.addEventListener("click", function () { expanded[vs[0]] = true; draw(); });
        th.appendChild(b);
        th.appendChild(el("small", null, "identical (" + vs.length + ")"));
        hr.appendChild(th);
      } else {
        var th2 = el("th", {"data-version": name}, name);
        if (col.expandedFrom) {
          var g = col.expandedFrom, c = el("button", {type: "button", "class": "collapse", title: "collapse the identical releases"}, "\\u00ab");
          c.addEventListener("click", function () { expanded[g.versions[0]] = false; draw(); });
          th2.appendChild(c);
        }
        hr.appendChild(th2);
      }
    });
    thead.appendChild(hr);
    rows.forEach(function (row) {
      var tr = el("tr", {"data-engine": row.engine, "data-check": row.check});
      tr.appendChild(el("td", {title: D.claims[row.ci]}, row.check));
      tr.appendChild(el("td", null, row.engine));
      columns.forEach(function (col) {
        var vi = col.vi, c = row.cells[vi], name = D.versions[vi].name;
        if (!c) { tr.appendChild(el("td", {"class": "empty", "data-version": name}, "\\u00b7")); return; }
        var worst = O[c.worst].name, parts = [];
        O.forEach(function (o, oi) { if (c.counts[oi]) parts.push(c.counts[oi] + " " + o.name); });
        var td = el("td", {"class": "cell o-" + slug(worst), tabindex: "0", "data-version": name,
                           "data-outcome": worst, title: parts.join(", ")}, cellText(c));
        td.addEventListener("click", function () {
          open = {v: vi, e: row.ei, c: row.ci, group: col.group ? col.group.versions : null};
          draw();
          document.getElementById("drill").scrollIntoView({block: "nearest"});
        });
        td.addEventListener("keydown", function (ev) { if (ev.key === "Enter") td.click(); });
        if (open && open.v === vi && open.e === row.ei && open.c === row.ci) td.classList.add("open");
        tr.appendChild(td);
      });
      tbody.appendChild(tr);
    });
    document.getElementById("status").textContent = shown + " of " + D.results.length + " results, " + rows.length +
      " row(s)" + (hidden ? "; " + hidden + " row(s) that are all n/a not shown" : "");
    drawChanges();
    drawDrill();
  }

  function drawDrill() {
    var sec = document.getElementById("drill"), tb = document.querySelector("#drill-table tbody");
    clear(tb);
    if (!open) { sec.hidden = true; return; }
    sec.hidden = false;
    var g = open.group;
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
      (g ? "; the same counts in FastAPI " + D.versions[g[0]].name + " - " + D.versions[g[g.length - 1]].name : "") +
      ". Claim: " + D.claims[open.c];
  }

  function drawChanges() {  // one line per release that changed something; its changes expand on click
    var box = document.getElementById("changes");
    clear(box);
    var list = D.changes.filter(function (c) {
      return (state.engine === "" || c.engine === state.engine) && (state.check === "" || c.check === state.check);
    });
    if (D.versions.length < 2) box.appendChild(el("p", {"class": "muted"}, "One FastAPI version only: nothing to compare."));
    else if (!list.length) box.appendChild(el("p", {"class": "muted"}, "No change between these versions."));
    var byVersion = {}, order = [];
    list.forEach(function (c) {
      if (!byVersion[c.version]) { byVersion[c.version] = []; order.push(c.version); }
      byVersion[c.version].push(c);
    });
    order.forEach(function (v) {
      var cs = byVersion[v], moves = {};
      cs.forEach(function (c) { var k = c.before + " -> " + c.after; moves[k] = (moves[k] || 0) + 1; });
      var det = el("details", {"data-version": v}), sum = el("summary");
      sum.appendChild(el("strong", null, "FastAPI " + v));
      sum.appendChild(document.createTextNode(" (since " + cs[0].previous + "): " + cs.length + " check(s) changed: " +
        Object.keys(moves).map(function (k) { return k + " x" + moves[k]; }).join(", ")));
      det.appendChild(sum);
      var ul = el("ul");
      cs.forEach(function (c) {
        var li = el("li", {"data-engine": c.engine, "data-check": c.check});
        li.appendChild(el("strong", null, c.check));
        li.appendChild(document.createTextNode(" [" + c.engine + "]: " + c.text));
        ul.appendChild(li);
      });
      det.appendChild(ul);
      box.appendChild(det);
    });
  }

  function conflicts() {
    if (!D.conflicts.length) return;
    document.getElementById("conflicts-section").hidden = false;
    var ul = document.getElementById("conflicts");
    D.conflicts.forEach(function (c) { ul.appendChild(el("li", null, c.text)); });
  }

  verdict();
  header();
  fillSelect("f-engine", "engines", D.engines);
  fillSelect("f-scenario", "scenarios", D.scenarios);
  fillSelect("f-check", "checks", D.checks);
  fillSelect("f-outcome", "outcomes", O.map(function (o) { return o.name; }));
  document.getElementById("f-na").addEventListener("change", function (ev) { state.na = ev.target.checked; draw(); });
  document.getElementById("f-reset").addEventListener("click", function () {
    state = {engine: "", scenario: "", check: "", outcome: "", na: false}; open = null;
    document.querySelectorAll("#filters select").forEach(function (s) { s.value = ""; });
    document.getElementById("f-na").checked = false;
    draw();
  });
  conflicts();
  draw();
})();
</script>
</body>
</html>
"""
