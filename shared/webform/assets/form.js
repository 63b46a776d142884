// Haven referral form: progressive enhancement. Without this script the form
// works by round trips; with it, family rows are added and removed in place,
// the same rules are checked before sending, and the server's problem+json
// errors are shown in the same places as the server-rendered ones.
(function () {
  "use strict";
  var form = document.getElementById("referral-form");
  if (!form || !window.fetch || !window.URLSearchParams) { return; }
  var M = JSON.parse(document.getElementById("messages").textContent);
  var lang = form.getAttribute("data-lang");
  var members = document.getElementById("members");
  var tpl = document.getElementById("member-template");
  var addBtn = document.getElementById("add-member");
  var announce = document.getElementById("announce");
  var MAX = 30;

  function say(text) { announce.textContent = ""; window.setTimeout(function () { announce.textContent = text; }, 50); }
  function fmt(s) { var a = Array.prototype.slice.call(arguments, 1); return s.replace(/%d/g, function () { return a.shift(); }); }
  function rows() { return members.querySelectorAll("fieldset.member"); }

  function updatePersons() {
    var n = rows().length;
    var t = n === 0 ? M["persons.one"] : n === 1 ? M["persons.two"] : fmt(M["persons.many"], n + 1, n);
    document.getElementById("persons").textContent = t;
    document.getElementById("members-none").hidden = n > 0;
    addBtn.hidden = n >= MAX;
  }

  var ATTRS = ["name", "id", "for", "aria-describedby", "data-field", "href"];
  function renumber() {
    Array.prototype.forEach.call(rows(), function (row, k) {
      row.setAttribute("data-member", String(k));
      row.querySelectorAll("*").forEach(function (el) {
        ATTRS.forEach(function (a) {
          var v = el.getAttribute(a);
          if (v && v.indexOf("family_members.") >= 0) {
            el.setAttribute(a, v.replace(/family_members\.\d+\./g, "family_members." + k + "."));
          }
        });
      });
      row.querySelector(".member-legend").textContent = fmt(M.member, k + 1);
      var rm = row.querySelector(".remove-member");
      rm.value = "remove-member-" + k;
      rm.textContent = fmt(M["member.remove"], k + 1);
    });
    updatePersons();
  }

  function addMember() {
    var n = rows().length;
    if (n >= MAX) { return; }
    var html = tpl.innerHTML.replace(/__i__/g, String(n)).replace(/__n__/g, String(n + 1));
    var holder = document.createElement("div");
    holder.innerHTML = html;
    var row = holder.querySelector("fieldset.member");
    members.appendChild(row);
    renumber();
    row.querySelector("input").focus();
    say(fmt(M["member.added"], n + 1));
  }

  function removeMember(btn) {
    var row = btn.closest("fieldset.member");
    row.parentNode.removeChild(row);
    renumber();
    addBtn.focus();
    say(M["member.removed"]);
  }

  addBtn.addEventListener("click", function (e) { e.preventDefault(); addMember(); });
  members.addEventListener("click", function (e) {
    var btn = e.target.closest(".remove-member");
    if (btn) { e.preventDefault(); removeMember(btn); }
  });

  // ------------------------------------------------------------ validation

  function fieldId(field) {
    if (field.indexOf("defender_profile.rights_areas") === 0) { return "defender_profile.rights_areas"; }
    if (field === "contact") { return "contact.email"; }
    if (field === "family_members" || field === "") { return "family_members"; }
    return field;
  }
  function message(field, code) {
    return M["override." + field + "|" + code] || M["code." + code] || M["code.malformed"];
  }
  // The field's name as the page shows it, for the summary ("Family member
  // 2, date of birth: …"), built as the server builds it.
  function labelOf(id) {
    var el = document.getElementById(id);
    if (!el) { return ""; }
    var text = "";
    var fs = el.closest("fieldset");
    if (el.type === "checkbox" && !fs) {
      text = el.closest("section").querySelector("h2").textContent;
    } else if ((el.type === "radio" || el.type === "checkbox") && fs) {
      text = fs.querySelector("legend").textContent;
    } else if (el.tagName === "SECTION") {
      text = el.querySelector("h2").textContent;
    } else {
      var label = document.querySelector("label[for='" + id + "']");
      if (!label) { return ""; }
      var c = label.cloneNode(true);
      c.querySelectorAll(".optional").forEach(function (o) { o.remove(); });
      text = c.textContent.trim();
    }
    var row = el.closest("fieldset.member");
    if (row && el.tagName !== "FIELDSET") {
      text = row.querySelector(".member-legend").textContent + ", " + text.toLowerCase();
    }
    return text.trim();
  }
  function summaryText(id, msg) {
    var label = labelOf(id);
    if (!label) { return msg; }
    return label + (lang === "fr" ? "\u00a0: " : ": ") + msg;
  }
  function val(name) { var el = form.elements.namedItem(name); return el && el.value !== undefined ? el.value.trim() : ""; }

  function checkDate(v) {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(v)) { return "invalid-date"; }
    var y = +v.slice(0, 4), m = +v.slice(5, 7), d = +v.slice(8, 10);
    var dt = new Date(Date.UTC(y, m - 1, d));
    if (dt.getUTCFullYear() !== y || dt.getUTCMonth() !== m - 1 || dt.getUTCDate() !== d) { return "invalid-date"; }
    var now = new Date(), today = Date.UTC(now.getFullYear(), now.getMonth(), now.getDate());
    if (dt.getTime() > today + 86400000) { return "future-date"; }
    if (y < 1900) { return "before-1900"; }
    return "";
  }
  function checkPhone(v) {
    if (!/^\+\d+([ -]\d+)*$/.test(v)) { return false; }
    var digits = v.replace(/\D/g, "").length;
    return digits >= 7 && digits <= 15;
  }

  function rowBlank(row) {
    return Array.prototype.every.call(row.querySelectorAll("input,select"), function (el) { return el.value.trim() === ""; });
  }

  function validate() {
    var errs = [];
    Array.prototype.forEach.call(form.querySelectorAll("input[data-kind=country]"), function (el) { el.value = el.value.trim().toUpperCase(); });
    Array.prototype.forEach.call(form.querySelectorAll("[data-required],[data-kind]"), function (el) {
      var row = el.closest("fieldset.member");
      if (row && rowBlank(row)) { return; }
      var v = el.value.trim(), code = "";
      if (v === "") {
        if (el.hasAttribute("data-required")) { code = "required"; }
      } else {
        switch (el.getAttribute("data-kind")) {
          case "date": code = checkDate(v); break;
          case "country": code = /^[A-Z]{3}$/.test(v) ? "" : "invalid-country"; break;
          case "email": code = /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(v) ? "" : "invalid-email"; break;
          case "phone": code = checkPhone(v) ? "" : "invalid-phone"; break;
        }
      }
      if (code) { errs.push({ field: el.name, code: code }); }
    });
    if (!form.querySelector("input[name=urgency]:checked")) { errs.push({ field: "urgency", code: "required" }); }
    if (!form.querySelector("input[name='principal.sex']:checked")) { errs.push({ field: "principal.sex", code: "required" }); }
    if (!form.querySelector("input[name='defender_profile.rights_areas']:checked")) { errs.push({ field: "defender_profile.rights_areas", code: "required" }); }
    if (val("contact.email") === "" && val("contact.phone") === "") { errs.push({ field: "contact", code: "required" }); }
    if (!form.elements.namedItem("consent.given").checked) { errs.push({ field: "consent.given", code: "must-be-true" }); }
    // Page order, so the summary reads top to bottom.
    var order = Array.prototype.map.call(form.querySelectorAll("[id]"), function (el) { return el.id; });
    errs.sort(function (a, b) { return order.indexOf(fieldId(a.field)) - order.indexOf(fieldId(b.field)); });
    return errs;
  }

  function clearErrors() {
    document.getElementById("error-summary-slot").innerHTML = "";
    form.querySelectorAll(".error-message").forEach(function (p) { p.hidden = true; p.textContent = ""; });
    form.querySelectorAll(".group-error").forEach(function (g) { g.classList.remove("group-error"); });
    form.querySelectorAll("[aria-invalid]").forEach(function (el) { el.removeAttribute("aria-invalid"); });
  }

  function showErrors(errs) {
    clearErrors();
    var slot = document.getElementById("error-summary-slot");
    var box = document.createElement("div");
    box.className = "error-summary"; box.id = "error-summary"; box.tabIndex = -1;
    box.setAttribute("role", "alert"); box.setAttribute("aria-labelledby", "error-summary-title");
    var h = document.createElement("h2"); h.className = "error-summary-title"; h.id = "error-summary-title"; h.textContent = M["errors.heading"];
    var p = document.createElement("p"); p.textContent = M["errors.intro"];
    var ul = document.createElement("ul"); ul.className = "error-summary-list";
    box.appendChild(h); box.appendChild(p); box.appendChild(ul);
    var seen = {};
    errs.forEach(function (e) {
      var id = e.id || fieldId(e.field);
      if (seen[id]) { return; }
      seen[id] = true;
      var text = e.text || message(e.field, e.code);
      var li = document.createElement("li"), a = document.createElement("a");
      a.href = e.href || "#" + id; a.textContent = text;
      a.textContent = e.text ? text : summaryText(id, text);
      li.appendChild(a); ul.appendChild(li);
      var msg = document.getElementById(id + "-error");
      if (msg) {
        var pre = document.createElement("span"); pre.className = "visually-hidden"; pre.textContent = M["error.prefix"];
        msg.appendChild(pre); msg.appendChild(document.createTextNode(" " + text)); msg.hidden = false;
        var group = msg.closest(".group"); if (group) { group.classList.add("group-error"); }
      }
      var el = document.getElementById(id);
      if (el && /^(INPUT|SELECT|TEXTAREA)$/.test(el.tagName) && el.type !== "radio" && el.type !== "checkbox") { el.setAttribute("aria-invalid", "true"); }
      if (el && el.type === "checkbox" && id === "consent.given") { el.setAttribute("aria-invalid", "true"); }
    });
    slot.appendChild(box);
    document.title = M["title.form_errors"] + " – Haven";
    box.focus();
  }

  // Summary links move focus to the field (and scroll its label into view).
  document.addEventListener("click", function (e) {
    var a = e.target.closest(".error-summary-list a");
    if (!a || a.getAttribute("href").charAt(0) !== "#") { return; }
    var el = document.getElementById(a.getAttribute("href").slice(1));
    if (!el) { return; }
    e.preventDefault();
    var label = document.querySelector("label[for='" + el.id + "']") || el;
    var fs = el.closest("fieldset"); if (fs && (el.type === "radio" || el.type === "checkbox")) { label = fs.querySelector("legend") || label; }
    label.scrollIntoView();
    el.focus({ preventScroll: true });
  });

  var submit = document.getElementById("submit");
  var sending = false;
  // The language toggle (in the header, a submit button of this form) posts
  // the form natively: the server renders it again in the other language
  // with every value kept. Browsers without SubmitEvent.submitter are told
  // by the click.
  var toggle = document.getElementById("lang-toggle");
  var switching = false;
  if (toggle) { toggle.addEventListener("click", function () { switching = true; }); }
  window.addEventListener("pageshow", function () { switching = false; });
  form.addEventListener("submit", function (e) {
    if (switching || (e.submitter && e.submitter.name === "action")) { return; }
    e.preventDefault();
    if (sending) { return; }
    var errs = validate();
    if (errs.length) { showErrors(errs); return; }
    sending = true; submit.disabled = true; say(M.sending);
    var body = new URLSearchParams(new FormData(form));
    fetch(form.getAttribute("action"), {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "Accept": "application/json", "Content-Type": "application/x-www-form-urlencoded" }
    }).then(function (res) {
      return res.json().catch(function () { return {}; }).then(function (data) { return { res: res, data: data }; });
    }).then(function (x) {
      if (x.res.status === 201 && x.data.id) {
        window.location.assign("/confirmation?id=" + encodeURIComponent(x.data.id) + "&lang=" + lang);
        return;
      }
      finish();
      var slug = (x.data.type || "").split("/").pop();
      if (slug === "validation-failed" && x.data.errors) {
        showErrors(x.data.errors.map(function (fe) { return { field: fe.field, code: fe.code }; }));
      } else if (slug === "duplicate-referral") {
        showErrors([{ field: "partner_reference", text: M["error.duplicate"] + " (" + (x.data.existing_id || "") + ")." }]);
      } else if (x.res.status === 401) {
        showErrors([{ id: "sign-in", text: M["signin.expired"], href: "/sign-in?lang=" + lang }]);
      } else if (x.res.status === 403) {
        showErrors([{ id: "csrf", text: M["error.forbidden"], href: "/?lang=" + lang }]);
      } else {
        showErrors([{ id: "submit", text: M["error.internal"] }]);
      }
    }).catch(function () {
      finish();
      showErrors([{ id: "submit", text: M["error.internal"] }]);
    });
  });
  function finish() {
    sending = false; submit.disabled = false;
    // A new key for the next attempt: the last one may be recorded.
    if (window.crypto && crypto.randomUUID) { form.elements.namedItem("idempotency_key").value = crypto.randomUUID(); }
  }

  // Focus after a server round trip: the error summary, or the field named
  // by the server (a row just added, the add button after a removal, the
  // language toggle after a switch).
  var summary = document.getElementById("error-summary");
  var focus = form.getAttribute("data-focus");
  if (summary) { summary.focus(); }
  else if (focus && document.getElementById(focus)) { document.getElementById(focus).focus(); }
  updatePersons();
})();
