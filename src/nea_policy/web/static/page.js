// nea-policy's student page: send the form after every change and put in place the HTML regions the server answers.
// Plain JavaScript, no framework and nothing from the network but this page's own server.
(function () {
  "use strict";

  var data = JSON.parse(document.getElementById("page-data").textContent);
  var form = document.getElementById("scenario-form");
  var state = { previous: data.previous || "", token: data.token || "", mode: data.mode || "form", unknown: (data.annotations && data.annotations.unknown) || [], sequence: 0, applied: 0 };

  function byPath(path) {
    return document.querySelector('[data-path="' + CSS.escape(path) + '"]');
  }

  function say(text) {
    var status = document.getElementById("status");
    if (status && text) {
      status.textContent = "";
      window.setTimeout(function () { status.textContent = text; }, 30);
    }
  }

  // --- marks on the form: problems beside their fields, and in guided mode what no longer matters ---------------

  function clearMarks() {
    document.querySelectorAll(".field-error, .mark-note").forEach(function (el) { el.remove(); });
    document.querySelectorAll("[aria-invalid]").forEach(function (el) { el.removeAttribute("aria-invalid"); });
    document.querySelectorAll("[data-described]").forEach(function (el) {
      var original = el.getAttribute("data-described");
      if (original) { el.setAttribute("aria-describedby", original); } else { el.removeAttribute("aria-describedby"); }
      el.removeAttribute("data-described");
    });
    document.querySelectorAll(".irrelevant, .unknown, .asking, .has-error").forEach(function (el) {
      el.classList.remove("irrelevant", "unknown", "asking", "has-error");
    });
  }

  function describe(control, id) {
    if (!control.hasAttribute("data-described")) {
      control.setAttribute("data-described", control.getAttribute("aria-describedby") || "");
    }
    var ids = (control.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
    ids.push(id);
    control.setAttribute("aria-describedby", ids.join(" "));
  }

  function target(path) {
    var parts = path.split(".");
    while (parts.length) {
      var found = byPath(parts.join("."));
      if (found) { return found; }
      parts.pop();
    }
    return null;
  }

  function note(where, className, text, id) {
    var p = document.createElement("p");
    p.className = className;
    p.textContent = text;
    if (id) { p.id = id; }
    if (where.tagName === "DETAILS") {
      where.querySelector(".entry-body").prepend(p);
    } else {
      where.appendChild(p);
    }
    return p;
  }

  function controlsIn(where) {
    if (where.matches("input, select, textarea")) { return [where]; }
    return Array.prototype.slice.call(where.querySelectorAll(where.tagName === "DETAILS" ? ":scope > .entry-body > .field > input, :scope > .entry-body > .field > select" : "input, select, textarea"));
  }

  // A class and a note (which the field's controls are described by) on each field of the list.
  function markAll(paths, className, text) {
    (paths || []).forEach(function (path, i) {
      var where = byPath(path);
      if (!where) { return; }
      where.classList.add(className);
      var id = className + "-" + i;
      note(where, "mark-note", text, id);
      controlsIn(where).forEach(function (control) { describe(control, id); });
    });
  }

  function mark(annotations) {
    clearMarks();
    (annotations.errors || []).forEach(function (problem, i) {
      if (!problem.path) { return; }
      var where = target(problem.path);
      if (!where) { return; }
      var id = "error-" + i;
      note(where, "field-error", problem.message + (problem.hint ? " (" + problem.hint + ")" : ""), id);
      where.classList.add("has-error");
      controlsIn(where).forEach(function (control) {
        control.setAttribute("aria-invalid", "true");
        describe(control, id);
      });
    });
    markAll(annotations.irrelevant, "irrelevant", "No longer matters: nothing it could say would change a recommendation or finding.");
    markAll(annotations.unknown, "unknown", "Answered “don't know”.");
    if (annotations.asking) {
      var asked = byPath(annotations.asking);
      if (asked) { asked.classList.add("asking"); }
    }
  }

  // --- talking to the server --------------------------------------------------------------------------------

  function formBody(extra, also) {
    var body = new URLSearchParams();
    if (form) {
      new FormData(form).forEach(function (value, name) { body.append(name, value); });
    }
    if (also) {
      new FormData(also).forEach(function (value, name) { body.append(name, value); });
    }
    body.append("_previous", state.previous);
    body.append("_unknown", JSON.stringify(state.unknown));
    body.append("_mode", state.mode);
    Object.keys(extra || {}).forEach(function (name) { body.append(name, extra[name]); });
    return body;
  }

  function remember() {
    var active = document.activeElement;
    var memory = { closed: [] };
    document.querySelectorAll("#form-fields details.entry:not([open])").forEach(function (el) { memory.closed.push(el.getAttribute("data-path")); });
    if (active && active.name && form && form.contains(active)) {
      var entry = active.closest("details.entry");
      var section = active.closest("[data-section]");
      memory.id = active.id;
      if (entry && section) {
        var entries = Array.prototype.slice.call(section.querySelectorAll("details.entry"));
        memory.section = section.getAttribute("data-section");
        memory.index = entries.indexOf(entry);
        memory.suffix = active.name.slice(entry.getAttribute("data-path").length);
        memory.value = active.type === "radio" || active.type === "checkbox" ? active.value : null;
      }
    } else if (active && active.id) {
      memory.id = active.id;
    }
    return memory;
  }

  function restore(memory) {
    memory.closed.forEach(function (path) {
      var entry = byPath(path);
      if (entry && entry.tagName === "DETAILS") { entry.open = false; }
    });
    var again = memory.id ? document.getElementById(memory.id) : null;
    if (!again && memory.section) {
      var section = document.querySelector('[data-section="' + CSS.escape(memory.section) + '"]');
      var entry = section ? section.querySelectorAll("details.entry")[memory.index] : null;
      if (entry) {
        var candidates = entry.querySelectorAll('[name="' + CSS.escape(entry.getAttribute("data-path") + memory.suffix) + '"]');
        again = Array.prototype.slice.call(candidates).filter(function (el) { return memory.value === null || el.value === memory.value; })[0] || null;
      }
    }
    if (again && again !== document.activeElement) { again.focus(); }
  }

  function apply(answer, focus) {
    var memory = remember();
    state.previous = answer.previous;
    state.token = answer.token;
    state.mode = answer.mode;
    state.unknown = answer.annotations.unknown || [];
    var regions = answer.regions;
    if (regions.form !== undefined) { document.getElementById("form-fields").innerHTML = regions.form; }
    if (regions.sweep !== undefined) { document.getElementById("sweep-controls").innerHTML = regions.sweep; }
    document.getElementById("results").innerHTML = regions.results;
    document.getElementById("guide").innerHTML = regions.guide;
    document.querySelectorAll(".modes [data-action]").forEach(function (button) {
      button.setAttribute("aria-pressed", button.getAttribute("data-action") === "mode:" + state.mode ? "true" : "false");
    });
    var grid = document.getElementById("sweep-result");
    if (grid && grid.firstElementChild && !grid.querySelector(".stale-note")) {
      var stale = document.createElement("p");
      stale.className = "notice stale-note";
      stale.textContent = "The scenario changed since this grid was drawn: draw it again to see the grid of this version.";
      grid.prepend(stale);
    }
    mark(answer.annotations);
    // a state too large for a link leaves the address bare rather than naming an older state
    history.replaceState(null, "", answer.url || "/");
    document.title = answer.title + " — nea-policy: recommendations for cross-border human flows";
    shareLink();
    restore(memory);
    if (focus) { focus(); }
    state.applied += 1;
    document.body.setAttribute("data-updated", String(state.applied));
    say(answer.status);
  }

  function update(extra, also, focus) {
    state.sequence += 1;
    var mine = state.sequence;
    var results = document.getElementById("results");
    results.setAttribute("aria-busy", "true");
    return fetch("/page/update", { method: "POST", body: formBody(extra, also) })
      .then(function (response) { return response.json().then(function (json) { return { ok: response.ok, json: json }; }); })
      .then(function (reply) {
        if (mine !== state.sequence) { return; }  // a later change is on its way: its answer wins
        results.removeAttribute("aria-busy");
        if (!reply.ok) { say(reply.json.error || "The page could not update."); return; }
        apply(reply.json, focus);
      })
      .catch(function (error) {
        results.removeAttribute("aria-busy");
        say("The page could not reach its server: " + error.message);
      });
  }

  // Put the HTML fragment a POST answers into an element (why not, the sweep's grid); the fragment says what went wrong, if anything did.
  function fill(element, url, body, done) {
    element.setAttribute("aria-busy", "true");
    return fetch(url, { method: "POST", body: body })
      .then(function (response) { return response.text(); })
      .then(function (html) {
        element.innerHTML = html;
        element.removeAttribute("aria-busy");
        say(done);
      })
      .catch(function (error) {
        element.removeAttribute("aria-busy");
        element.textContent = "The page could not reach its server: " + error.message;
      });
  }

  function shareLink() {
    document.querySelectorAll("[data-share]").forEach(function (input) {
      input.value = new URL(input.getAttribute("value"), window.location.href).href;
    });
  }

  function focusGuide() {
    var question = document.getElementById("question-h") || document.querySelector("[data-decided]");
    if (question) {
      if (!question.hasAttribute("tabindex")) { question.setAttribute("tabindex", "-1"); }
      question.focus();
    }
  }

  // --- events -----------------------------------------------------------------------------------------------

  if (form) {
    form.addEventListener("change", function (event) {
      var structural = event.target.closest("[data-structure]") !== null;
      update({ _redraw: structural ? "1" : "0" });
    });
    form.addEventListener("submit", function (event) { event.preventDefault(); });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("button, a");
    if (!button) { return; }
    var action = button.getAttribute("data-action");
    if (action) {
      event.preventDefault();
      var focus = action.indexOf("mode:") === 0 || action === "clear-facts" ? focusGuide : null;
      update({ _action: action }, null, focus);
      return;
    }
    var rule = button.getAttribute("data-why-not");
    if (rule) {
      event.preventDefault();
      var panel = document.getElementById("why-not-" + rule);
      if (button.getAttribute("aria-expanded") === "true") {
        button.setAttribute("aria-expanded", "false");
        panel.hidden = true;
        return;
      }
      button.setAttribute("aria-expanded", "true");
      panel.hidden = false;
      panel.textContent = "Looking for what stands in the way…";
      fill(panel, "/page/why-not", formBody({ _rule: rule }), "Why not: answer shown below the button.");
      return;
    }
    var changes = button.getAttribute("data-apply-change");
    if (changes) {
      event.preventDefault();
      update({ _action: "apply", _changes: changes }, null, function () {
        // what the change did comes first: the list of what changed since the last edit
        var changed = document.getElementById("changes-h") || document.getElementById("results-h");
        changed.setAttribute("tabindex", "-1");
        changed.focus();
      });
      return;
    }
    var path = button.getAttribute("data-goto");
    if (path) {
      event.preventDefault();
      var where = target(path);
      var control = where ? controlsIn(where)[0] || where : null;
      if (control) { control.focus(); }
      return;
    }
    var guided = button.getAttribute("data-guide");
    if (guided === "dont-know") {
      event.preventDefault();
      var guide = document.getElementById("guide-form");
      update({ _action: "dont-know", _question: guide.getAttribute("data-question") }, null, focusGuide);
    }
  });

  document.addEventListener("submit", function (event) {
    var element = event.target;
    if (element.id === "guide-form") {
      event.preventDefault();
      update({ _action: "answer", _question: element.getAttribute("data-question"), _kind: element.getAttribute("data-kind") }, element, focusGuide);
    } else if (element.id === "sweep-form") {
      event.preventDefault();
      fill(document.getElementById("sweep-result"), "/page/sweep", formBody({}, element), "The sweep's grid is drawn.");
    }
  });

  document.addEventListener("change", function (event) {
    var element = event.target;
    if (element.hasAttribute("data-sweep-path")) {
      var values = element.id.replace("path", "values");
      var chosen = element.options[element.selectedIndex];
      document.getElementById(values).value = chosen ? (chosen.getAttribute("data-values") || "") : "";
    } else if (element.id === "upload" && element.files && element.files[0]) {
      var file = element.files[0];
      file.text().then(function (text) {
        document.getElementById("paste").value = text;
        document.getElementById("upload-name").value = file.name;
        document.getElementById("open-text").requestSubmit();
      });
    }
  });

  if (data.url) { history.replaceState(null, "", data.url); }
  if (data.annotations) { mark(data.annotations); }
  shareLink();
  document.body.setAttribute("data-updated", "0");
})();
