/*
 * Rubric review form: running total and grade while the reviewer fills in the form.
 *
 * Self-contained (no libraries, no CDN). The server is the authority; this script only helps:
 *  - shows the total rescaled to 100 over the applicable items, rounded half-up to one decimal, and the
 *    grade read from that rounded total (the rule of forms.rubrics Rubric.evaluate); a triggered veto
 *    makes the grade "fail" whatever the total;
 *  - while items are still unscored it shows the total over the items scored so far, marked provisional;
 *  - keeps level and points in step: choosing a level fills in its top points when the points do not fit
 *    it, typing points selects the level they fall in;
 *  - disables level, points and veto of an item marked not applicable (disabled fields are not posted).
 *
 * The form markup comes from forms/templates/forms/rubric_form.html; the rubric data from the
 * <script type="application/json" class="rubric-data"> element inside the form.
 * Under Node (tests) the pure functions are exported with module.exports.
 */
(function (root, factory) {
  "use strict";
  var api = factory();
  if (typeof module === "object" && module.exports) {
    module.exports = api;
  } else {
    root.RubricForm = api;
    if (typeof document !== "undefined") {
      if (document.readyState === "loading") {
        document.addEventListener("DOMContentLoaded", function () { api.attachAll(document); });
      } else {
        api.attachAll(document);
      }
    }
  }
})(typeof self !== "undefined" ? self : this, function () {
  "use strict";

  /* Whole number of points steps in a value (values are multiples of the step). */
  function units(value, step) {
    return Math.round(value / step);
  }

  /* The grade code of a total: the highest band whose minimum the total reaches. */
  function gradeFor(bands, total) {
    var grade = null;
    var sorted = bands.slice().sort(function (a, b) { return a.min - b.min; });
    for (var i = 0; i < sorted.length; i += 1) {
      if (total >= sorted[i].min) { grade = sorted[i].grade; }
    }
    return grade;
  }

  /* Is a value usable points for an item: a finite number in 0..max on the step. */
  function validPoints(item, value, step) {
    if (typeof value !== "number" || !isFinite(value) || value < 0 || value > item.max) { return false; }
    return Math.abs(value / step - Math.round(value / step)) < 1e-9;
  }

  /*
   * compute(data, state) -> summary
   * data: the rubric data of the form (step, items[{code, max, na, veto, levels}], bands[{grade, min, max}])
   * state: {code: {points: number|null, na: bool, veto: bool}}
   * summary: {total, rounded, grade, scoreGrade, vetoes, scored, applicable, complete}
   * total is null while nothing applicable is scored.
   */
  function compute(data, state) {
    var step = data.step || 1;
    var earned = 0;
    var possible = 0;
    var scored = 0;
    var applicable = 0;
    var vetoes = [];
    data.items.forEach(function (item) {
      var entry = state[item.code] || {};
      if (item.na && entry.na) { return; }
      applicable += 1;
      if (item.veto && entry.veto) { vetoes.push(item.code); }
      if (!validPoints(item, entry.points, step)) { return; }
      earned += units(entry.points, step);
      possible += units(item.max, step);
      scored += 1;
    });
    var summary = {
      total: null, rounded: null, grade: vetoes.length ? "fail" : null, scoreGrade: null,
      vetoes: vetoes, scored: scored, applicable: applicable, complete: scored === applicable
    };
    if (possible > 0) {
      summary.total = earned / possible * 100;
      /* Exact half-up rounding to tenths in integers: floor(1000 e / p + 1/2) = floor((2000 e + p) / 2p). */
      var tenths = Math.floor((2000 * earned + possible) / (2 * possible));
      summary.rounded = tenths / 10;
      summary.scoreGrade = gradeFor(data.bands, summary.rounded);
      summary.grade = vetoes.length ? "fail" : summary.scoreGrade;
    }
    return summary;
  }

  /* The level of an item whose range holds the points, or null. */
  function levelFor(item, points) {
    for (var i = 0; i < item.levels.length; i += 1) {
      var level = item.levels[i];
      if (points >= level.low && points <= level.high) { return level; }
    }
    return null;
  }

  function parsePoints(text) {
    var cleaned = String(text || "").trim().replace(/[，,．]/g, ".");
    if (cleaned === "") { return null; }
    var value = Number(cleaned);
    return isFinite(value) ? value : NaN;
  }

  function attach(form) {
    var holder = form.querySelector("script.rubric-data");
    if (!holder) { return null; }
    var data = JSON.parse(holder.textContent);
    var step = data.step || 1;
    var byCode = {};
    data.items.forEach(function (item) { byCode[item.code] = item; });

    function control(code, part) { return form.elements.namedItem(code + "-" + part); }
    function radios(code) {
      return Array.prototype.slice.call(form.querySelectorAll('input[type="radio"][name="' + code + '-level"]'));
    }
    function checkedLevel(code) {
      var chosen = radios(code).filter(function (r) { return r.checked; });
      return chosen.length ? chosen[0].value : null;
    }

    function applyNotApplicable(item) {
      var na = item.na && control(item.code, "na") && control(item.code, "na").checked;
      radios(item.code).forEach(function (r) { r.disabled = na; });
      control(item.code, "points").disabled = na;
      var veto = control(item.code, "veto");
      if (veto) {
        if (na) { veto.checked = false; }
        veto.disabled = na;
      }
    }

    function markConsistency(item) {
      var pointsInput = control(item.code, "points");
      var value = parsePoints(pointsInput.value);
      var levelCode = checkedLevel(item.code);
      var bad = value !== null && !validPoints(item, value, step);
      if (!bad && value !== null && levelCode) {
        var level = item.levels.filter(function (l) { return l.code === levelCode; })[0];
        bad = !(value >= level.low && value <= level.high);
      }
      if (bad) { pointsInput.setAttribute("aria-invalid", "true"); }
      else if (!pointsInput.hasAttribute("data-server-error")) { pointsInput.removeAttribute("aria-invalid"); }
      var comment = control(item.code, "comment");
      var veto = control(item.code, "veto");
      var na = control(item.code, "na");
      var needsComment = levelCode === "D" || (veto && veto.checked) || (na && na.checked);
      comment.setAttribute("aria-required", needsComment ? "true" : "false");
    }

    function readState() {
      var state = {};
      data.items.forEach(function (item) {
        var na = control(item.code, "na");
        var veto = control(item.code, "veto");
        state[item.code] = {
          points: parsePoints(control(item.code, "points").value),
          na: Boolean(na && na.checked),
          veto: Boolean(veto && veto.checked)
        };
      });
      return state;
    }

    var totalOut = form.querySelector("[data-rubric-total]");
    var gradeOut = form.querySelector("[data-rubric-grade]");
    var noteOut = form.querySelector("[data-rubric-note]");

    function labelOf(grade) {
      var band = data.bands.filter(function (b) { return b.grade === grade; })[0];
      return band ? band.label : data.messages.empty;
    }

    function render() {
      var summary = compute(data, readState());
      totalOut.textContent = summary.rounded === null ? data.messages.empty : summary.rounded.toFixed(1);
      gradeOut.textContent = summary.grade ? labelOf(summary.grade) : data.messages.empty;
      gradeOut.setAttribute("data-grade", summary.grade || "");
      var notes = [];
      if (summary.vetoes.length) { notes.push(data.messages.vetoed); }
      if (!summary.complete) {
        notes.push(data.messages.provisional.replace("{done}", String(summary.scored))
          .replace("{count}", String(summary.applicable)));
      }
      noteOut.textContent = notes.join("; ");
      return summary;
    }

    form.addEventListener("change", function (event) {
      var name = event.target.name || "";
      var dash = name.lastIndexOf("-");
      var item = byCode[name.slice(0, dash)];
      var part = name.slice(dash + 1);
      if (!item) { render(); return; }
      if (part === "level") {
        var level = item.levels.filter(function (l) { return l.code === event.target.value; })[0];
        var pointsInput = control(item.code, "points");
        var value = parsePoints(pointsInput.value);
        if (level && (value === null || isNaN(value) || value < level.low || value > level.high)) {
          pointsInput.value = String(level.high);
        }
      } else if (part === "na") {
        applyNotApplicable(item);
      }
      markConsistency(item);
      render();
    });

    form.addEventListener("input", function (event) {
      var name = event.target.name || "";
      if (!/-points$/.test(name)) { return; }
      var item = byCode[name.slice(0, name.length - "-points".length)];
      if (!item) { return; }
      var value = parsePoints(event.target.value);
      if (value !== null && validPoints(item, value, step)) {
        var level = levelFor(item, value);
        radios(item.code).forEach(function (r) { r.checked = level !== null && r.value === level.code; });
      }
      markConsistency(item);
      render();
    });

    data.items.forEach(function (item) {
      var pointsInput = control(item.code, "points");
      if (pointsInput.getAttribute("aria-invalid") === "true") { pointsInput.setAttribute("data-server-error", ""); }
      applyNotApplicable(item);
      markConsistency(item);
    });
    var summaryBox = form.querySelector("#rubric-errors");
    if (summaryBox) { summaryBox.focus(); }
    render();
    return { render: render, readState: readState };
  }

  function attachAll(doc) {
    return Array.prototype.map.call(doc.querySelectorAll("form[data-rubric-form]"), attach);
  }

  return { compute: compute, gradeFor: gradeFor, levelFor: levelFor, parsePoints: parsePoints,
           attach: attach, attachAll: attachAll };
});
